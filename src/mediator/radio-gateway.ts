/**
 * A radio gateway of the mediator (DESIGN §5–6, docs/mediator.md §Radio delivery): bridges one
 * radio Transport (a LoRa modem driver, usually behind FragmentTransport; BLE NUS) to the mediator.
 *
 * - Inbound frames go to `Mediator.receive` on a duplex, persistent session. After a frame
 *   unpacks and authenticates a device, the gateway learns link address ↔ DID and how the device
 *   speaks (pairwise or authcrypt compact).
 * - Queued mail is pushed as pickup `delivery` messages only while the device listens (right after
 *   it transmitted, or in its provisioned wake window) and only when the link's airtime budget lets
 *   the whole message be on the air before the device sleeps again (`transport.sendDelay(size)`).
 *   ERR_DUTY_CYCLE from the link waits `retryAfterMs`. Nothing is dropped: mail stays in the
 *   store until the device acknowledges it with `messages-received`; what cannot go now goes at the
 *   next wake. Replies to a request (status, problem reports, receipts) are not mail: one that
 *   cannot be sent while the device listens is dropped (a status MUST NOT be queued); one the link
 *   refuses as busy (ERR_STORE_FULL: as many messages in flight to the device as it takes) is tried
 *   again every second while the device listens.
 * - Thin devices (the mediator's provisioned `devices`, Espruino endpoints) cannot run pickup:
 *   their mail, compact pairwise frames from their peers, is relayed as it is, one frame at a time,
 *   and leaves the store only when the link confirms delivery (FragmentTransport's receiver ACK);
 *   a frame the device did not confirm is sent again after `resendAfterMs` (the device drops
 *   replays by sequence number, so a repeat is harmless).
 * - Priority (`priorityDevices`, e.g. actuators waiting for commands): while such a device listens,
 *   other devices' pushes do not queue behind a busy link (duty-cycle wait, frames in flight); they
 *   wait until it frees, so a command arriving meanwhile is not stuck behind telemetry acks on a
 *   gateway whose duty-cycle budget is the bottleneck. Replies to requests are not held back
 *   (they only go while the asker listens).
 * - Bounded: at most `maxDevices` devices tracked (least recently heard evicted), one push in
 *   flight per device, at most `deliveryLimit` messages per delivery.
 * This class decides when a device gets a push; radio-delivery.ts what the push carries.
 */
import { err, isDidcommError } from '../errors.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import type { Transport } from '../../transports/types.js';
import { ownerKeys } from './core.js';
import { dueMail, packDeliveryToFit, type DueMessage } from './radio-delivery.js';
import { awakeUntil, checkWakeSchedule, nextWindowStart, type WakeSchedule } from './wake.js';
import type { Mediator } from './service.js';
import type { ReplyMode, Session } from './types.js';

/** A push refused because the link is busy with this device (ERR_STORE_FULL) is retried after this. */
const LINK_BUSY_RETRY_MS = 1000;
/** A reply is tried at most this often against a busy link (then dropped: the device asks again). */
const MAX_REPLY_TRIES = 120;
/** Inbound frames waiting for the mediator at most (a radio link is slow; this only bounds a flood). */
const MAX_QUEUED_FRAMES = 256;

export interface RadioGatewayOptions {
  /** Short name used in session ids, e.g. `lora`. */
  name: string;
  transport: Transport;
  clock?: Clock;
  /** How long a device listens after it transmitted (default 5000 ms). */
  listenAfterUplinkMs?: number;
  /** Provisioned wake schedules by device DID. */
  schedules?: Record<string, WakeSchedule>;
  /** Push queued mail to devices ('always', default) or only to those that asked for live mode. */
  pushMail?: 'always' | 'live-only';
  /** Messages per delivery (default 8). */
  deliveryLimit?: number;
  /** A pushed but unacknowledged message is pushed again after this long (default 10 min). */
  resendAfterMs?: number;
  maxDevices?: number;
  /**
   * Devices whose mail goes first when the link's airtime budget is short (actuators that wait for
   * commands): while one of them listens, other devices' pushes wait for a free link rather than
   * queue on a busy one.
   */
  priorityDevices?: string[];
  onError?: (e: unknown) => void;
}

export interface RadioGatewayStats {
  uplinks: number;
  deliveries: number;
  messagesPushed: number;
  repliesSent: number;
  repliesDropped: number;
  deferredAsleep: number;
  deferredAirtime: number;
  dutyCycleRefusals: number;
  /** Raw relays to thin devices that the device did not confirm (sent again later). */
  relaysUnconfirmed: number;
  /** Pushes put off because the link already had its most messages in flight to the device. */
  linkBusy: number;
  /** Pushes held back from a busy link while a priority device listened (`priorityDevices`). */
  yieldedToPriority: number;
}

interface Device {
  did: string;
  address: string | undefined;
  mode: ReplyMode;
  lastUplink: number | undefined;
  live: boolean;
  pushed: Map<string, number>;
  unsubscribe: Array<() => void>;
  keysAt: number;
  busy: boolean;
  again: boolean;
  timer: Timer | undefined;
  timerAt: number;
}

export class RadioGateway {
  readonly stats: RadioGatewayStats = { uplinks: 0, deliveries: 0, messagesPushed: 0, repliesSent: 0, repliesDropped: 0, deferredAsleep: 0, deferredAirtime: 0, dutyCycleRefusals: 0, relaysUnconfirmed: 0, linkBusy: 0, yieldedToPriority: 0 };
  private readonly mediator: Mediator;
  private readonly o: Required<Omit<RadioGatewayOptions, 'schedules' | 'onError' | 'clock' | 'priorityDevices'>> & { onError: (e: unknown) => void };
  private readonly priority: ReadonlySet<string>;
  private readonly clock: Clock;
  private readonly schedules = new Map<string, WakeSchedule>();
  private readonly devices = new Map<string, Device>();
  private readonly offs: Array<() => void> = [];
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  private closed = false;

  constructor(mediator: Mediator, o: RadioGatewayOptions) {
    this.mediator = mediator;
    this.clock = o.clock ?? mediator.clock ?? systemClock;
    this.o = {
      name: o.name,
      transport: o.transport,
      listenAfterUplinkMs: o.listenAfterUplinkMs ?? 5000,
      pushMail: o.pushMail ?? 'always',
      deliveryLimit: o.deliveryLimit ?? 8,
      resendAfterMs: o.resendAfterMs ?? 600_000,
      maxDevices: o.maxDevices ?? 10_000,
      onError: o.onError ?? (() => undefined),
    };
    for (const [did, s] of Object.entries(o.schedules ?? {})) this.schedules.set(did, checkWakeSchedule(s));
    if (o.priorityDevices !== undefined && (!Array.isArray(o.priorityDevices) || o.priorityDevices.some((x) => typeof x !== 'string'))) {
      throw err('ERR_ARGUMENT', 'priorityDevices: expected an array of DIDs');
    }
    this.priority = new Set(o.priorityDevices ?? []);
    this.offs.push(o.transport.on('frame', (frame, from) => this.onFrame(frame, from)));
  }

  /** The link address learned for `did` (undefined: unknown, or a broadcast-only link). */
  addressOf(did: string): string | undefined {
    return this.devices.get(did)?.address;
  }

  knows(did: string): boolean {
    return this.devices.has(did);
  }

  private onFrame(frame: Uint8Array, from: string | undefined): void {
    if (this.closed) return;
    this.stats.uplinks++;
    if (this.queued >= MAX_QUEUED_FRAMES) {
      this.o.onError(err('ERR_STORE_FULL', `radio ${this.o.name}: ${this.queued} frames waiting; dropped one from ${from ?? 'broadcast'}`));
      return;
    }
    this.queued++;
    let device: Device | undefined;
    const session: Session = {
      id: `radio:${this.o.name}:${from ?? 'broadcast'}`,
      kind: 'radio',
      remote: `radio:${this.o.name}:${from ?? 'broadcast'}`,
      persistent: true,
      duplex: true,
      maxFrameBytes: this.o.transport.mtu,
      returnRoute: 'none',
      onAuthenticated: (did, mode) => {
        device = this.learn(did, from, mode);
      },
      setLive: (on) => {
        if (device) device.live = on;
      },
      isLive: () => device?.live === true,
      isOpen: () => !this.closed,
    };
    this.chain = this.chain.then(async () => {
      try {
        const out = await this.mediator.receive(frame, session);
        for (const r of out.replies) this.sendReply(device, from, r);
        if (device) this.pump(device);
      } catch (e) {
        this.o.onError(e);
      } finally {
        this.queued--;
      }
    });
  }

  private learn(did: string, address: string | undefined, mode: ReplyMode): Device {
    let d = this.devices.get(did);
    if (d) this.devices.delete(did);
    else {
      if (this.devices.size >= this.o.maxDevices) this.forget(this.devices.keys().next().value as string);
      d = { did, address, mode, lastUplink: undefined, live: false, pushed: new Map(), unsubscribe: [], keysAt: -Infinity, busy: false, again: false, timer: undefined, timerAt: Infinity };
    }
    d.address = address;
    d.mode = mode;
    d.lastUplink = this.clock.now();
    this.devices.set(did, d);
    return d;
  }

  private forget(did: string): void {
    const d = this.devices.get(did);
    if (!d) return;
    this.devices.delete(did);
    d.timer?.cancel();
    for (const u of d.unsubscribe) u();
  }

  /**
   * For a device without priority while a priority device listens: when the link is busy (the
   * duty-cycle budget or frames already queued hold even a small frame back), the time to try again
   * — just after the link frees — instead of queuing behind it, so a priority device's push that
   * arrives meanwhile goes first. Undefined: push now.
   */
  private yieldUntil(d: Device, now: number): number | undefined {
    if (this.priority.size === 0 || this.priority.has(d.did)) return undefined;
    const busyMs = this.o.transport.sendDelay(1);
    if (!(busyMs > 0)) return undefined;
    for (const did of this.priority) {
      const p = this.devices.get(did);
      if (p && awakeUntil(now, p.lastUplink, this.o.listenAfterUplinkMs, this.schedules.get(did)) !== undefined) {
        return now + (Number.isFinite(busyMs) ? busyMs : LINK_BUSY_RETRY_MS) + 1;
      }
    }
    return undefined;
  }

  /** A reply goes now if the device still listens when it would be on the air; otherwise it is dropped. */
  private sendReply(device: Device | undefined, from: string | undefined, frame: Uint8Array, tries = 0): void {
    if (this.closed) return;
    const now = this.clock.now();
    const until = device ? awakeUntil(now, device.lastUplink, this.o.listenAfterUplinkMs, this.schedules.get(device.did)) : now + this.o.listenAfterUplinkMs;
    if (until === undefined || now + this.o.transport.sendDelay(frame.length) > until || frame.length > this.o.transport.mtu) {
      this.stats.repliesDropped++;
      return;
    }
    if (tries === 0) this.stats.repliesSent++;
    this.o.transport.send(frame, device?.address ?? from).catch((e: unknown) => {
      if (isDidcommError(e) && e.code === 'ERR_STORE_FULL' && tries < MAX_REPLY_TRIES) {
        // the link is busy with this device: the reply goes as soon as it can, while the device listens
        this.stats.linkBusy++;
        this.clock.setTimer(LINK_BUSY_RETRY_MS, () => this.sendReply(device, from, frame, tries + 1));
        return;
      }
      this.o.onError(e);
    });
  }

  /** Tries to push queued mail to `d` now; reschedules itself for the next chance. */
  private pump(d: Device): void {
    if (this.closed || this.devices.get(d.did) !== d) return;
    if (this.o.pushMail === 'live-only' && !d.live && !this.mediator.isThinDevice(d.did)) return;
    if (d.busy) {
      d.again = true;
      return;
    }
    d.busy = true;
    void this.pushOnce(d)
      .catch((e: unknown) => {
        if (!this.closed) this.o.onError(e);
      })
      .finally(() => {
        d.busy = false;
        if (d.again) {
          d.again = false;
          this.pump(d);
        }
      });
  }

  private wakeAt(d: Device, at: number): void {
    if (d.timer && d.timerAt <= at && d.timerAt > this.clock.now()) return;
    d.timer?.cancel();
    d.timerAt = at;
    d.timer = this.clock.setTimer(Math.max(0, at - this.clock.now()), () => {
      d.timer = undefined;
      d.timerAt = Infinity;
      this.pump(d);
    });
  }

  private async keysOf(d: Device): Promise<string[]> {
    const keys = await ownerKeys(this.mediator, d.did);
    if (d.unsubscribe.length !== keys.length || this.clock.now() - d.keysAt > 60_000) {
      for (const u of d.unsubscribe) u();
      d.unsubscribe = keys.map((k) => this.mediator.stores.mailbox.subscribe(k, () => this.pump(d)));
      d.keysAt = this.clock.now();
    }
    return keys;
  }

  private async pushOnce(d: Device): Promise<void> {
    const now = this.clock.now();
    const schedule = this.schedules.get(d.did);
    const until = awakeUntil(now, d.lastUplink, this.o.listenAfterUplinkMs, schedule);
    if (until === undefined) {
      this.stats.deferredAsleep++;
      if (schedule) this.wakeAt(d, nextWindowStart(schedule, now + 1));
      return;
    }
    const batch = await dueMail(this.mediator.stores.mailbox, await this.keysOf(d), d.pushed, now, this.o.deliveryLimit, this.o.resendAfterMs);
    if (batch.length === 0) return;
    const yieldTo = this.yieldUntil(d, now);
    if (yieldTo !== undefined) {
      this.stats.yieldedToPriority++;
      this.wakeAt(d, yieldTo);
      return;
    }
    if (this.mediator.isThinDevice(d.did)) return this.relayRaw(d, batch[0]!, now, until, schedule);
    const fitted = await packDeliveryToFit(this.mediator, this.o.transport, this.o.name, d, batch, until - now);
    if (!fitted) {
      // one message alone is larger than this link carries: it waits for another session (HTTP, MQTT)
      d.pushed.set(batch[0]!.id, Number.MAX_SAFE_INTEGER / 2);
      this.o.onError(err('ERR_TOO_LARGE', `radio ${this.o.name}: a queued message for ${d.did} does not fit the link (mtu ${this.o.transport.mtu})`));
      return;
    }
    if (!fitted.inTime) {
      // not even one message would be on the air before the device sleeps: next chance
      this.stats.deferredAirtime++;
      if (schedule) this.wakeAt(d, nextWindowStart(schedule, Math.max(now + 1, now + fitted.delay - schedule.windowMs + 1)));
      return;
    }
    const frame = fitted.frame;
    for (const m of batch) d.pushed.set(m.id, now);
    try {
      await this.o.transport.send(frame, d.address);
      for (const m of batch) d.pushed.set(m.id, this.clock.now());
      this.stats.deliveries++;
      this.stats.messagesPushed += batch.length;
      d.again = true;
    } catch (e) {
      for (const m of batch) d.pushed.delete(m.id);
      if (isDidcommError(e) && e.code === 'ERR_DUTY_CYCLE') {
        this.stats.dutyCycleRefusals++;
        this.wakeAt(d, this.clock.now() + (e.retryAfterMs ?? 1000));
        return;
      }
      if (isDidcommError(e) && e.code === 'ERR_STORE_FULL') {
        // the link holds as many messages in flight to this device as it takes: try again soon
        this.stats.linkBusy++;
        this.wakeAt(d, this.clock.now() + LINK_BUSY_RETRY_MS);
        return;
      }
      // not confirmed (lost, device gone): the mail stays queued; try again after resendAfterMs
      for (const m of batch) d.pushed.set(m.id, this.clock.now());
      this.wakeAt(d, this.clock.now() + this.o.resendAfterMs);
      throw e;
    }
  }

  /** A thin device's mail: the stored frame as it is; removed from the store once the link confirms it. */
  private async relayRaw(d: Device, m: DueMessage, now: number, until: number, schedule: WakeSchedule | undefined): Promise<void> {
    if (m.bytes.length > this.o.transport.mtu) {
      d.pushed.set(m.id, Number.MAX_SAFE_INTEGER / 2);
      this.o.onError(err('ERR_TOO_LARGE', `radio ${this.o.name}: a queued frame for ${d.did} does not fit the link (mtu ${this.o.transport.mtu})`));
      return;
    }
    const delay = this.o.transport.sendDelay(m.bytes.length);
    if (now + delay > until) {
      this.stats.deferredAirtime++;
      if (schedule) this.wakeAt(d, nextWindowStart(schedule, Math.max(now + 1, now + delay - schedule.windowMs + 1)));
      return;
    }
    d.pushed.set(m.id, now);
    try {
      await this.o.transport.send(m.bytes, d.address);
    } catch (e) {
      if (isDidcommError(e) && e.code === 'ERR_DUTY_CYCLE') {
        d.pushed.delete(m.id);
        this.stats.dutyCycleRefusals++;
        this.wakeAt(d, this.clock.now() + (e.retryAfterMs ?? 1000));
        return;
      }
      if (isDidcommError(e) && e.code === 'ERR_STORE_FULL') {
        d.pushed.delete(m.id);
        this.stats.linkBusy++;
        this.wakeAt(d, this.clock.now() + LINK_BUSY_RETRY_MS);
        return;
      }
      // not confirmed (asleep, out of range, lost): it stays queued and goes again later
      this.stats.relaysUnconfirmed++;
      d.pushed.set(m.id, this.clock.now());
      this.wakeAt(d, this.clock.now() + this.o.resendAfterMs);
      return;
    }
    await this.mediator.stores.mailbox.ack(m.mailbox, [m.id]);
    d.pushed.delete(m.id);
    this.stats.deliveries++;
    this.stats.messagesPushed++;
    d.again = true;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const off of this.offs) off();
    for (const did of [...this.devices.keys()]) this.forget(did);
    await this.chain;
  }
}
