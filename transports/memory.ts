/**
 * In-memory link: a hub (the "air" or the "wire") that any number of in-memory Transports attach
 * to by address. A frame sent `to` an address reaches that transport only; a frame sent with no
 * address is broadcast to every other attached transport (with two members that is simply the
 * other end, so a pair is a point-to-point link).
 *
 * For tests and simulations it models what real links do to frames, on a `Clock` (ManualClock in
 * tests) with a seeded PRNG (`src/util/prng.ts`) so every run is reproducible:
 * - `mtu` (default 255) and a per-frame delivery delay;
 * - faults: loss, duplication, reordering (a frame is held back by `reorderDelayMs` so later ones
 *   overtake it), corruption (one bit flipped), each with its own probability;
 * - partitions (outages): isolated addresses neither send nor receive. An announced partition
 *   takes the transport offline (state 'offline', `send` rejects ERR_TRANSPORT); a silent one
 *   keeps it 'online' and frames just vanish, like a radio out of range;
 * - an optional sender-side duty cycle (`perFrameMs + size * perByteMs` of silence after each
 *   frame): `send` then rejects ERR_DUTY_CYCLE with `retryAfterMs` and `sendDelay` is honest.
 *
 * Delivery is always asynchronous (never inside `send`): with no delay a frame arrives in a
 * microtask, otherwise after a timer on the clock. `send` resolves once the hub accepted the frame.
 * The hub emits 'transmit' for every accepted frame (before faults), so tests can count frames.
 */
import { err } from '../src/errors.js';
import type { DidcommError } from '../src/errors.js';
import { abytes, astring } from '../src/util/bytes.js';
import { systemClock, type Clock } from '../src/util/clock.js';
import { Emitter } from '../src/util/emitter.js';
import { createPrng, type Prng } from '../src/util/prng.js';
import type { LinkAddress, Transport, TransportEvents, TransportState } from './types.js';

/** Fault probabilities, each in [0, 1]. */
export interface MemoryFaults {
  loss?: number;
  duplicate?: number;
  reorder?: number;
  corrupt?: number;
}

export interface MemoryDutyCycle {
  /** Silence after each frame, in ms. */
  perFrameMs: number;
  /** Additional silence per byte of the frame, in ms. */
  perByteMs?: number;
}

export interface MemoryHubOptions {
  /** Largest frame, bytes (default 255). */
  mtu?: number;
  clock?: Clock;
  /** Delivery delay of every frame, ms (default 0). */
  delayMs?: number;
  /** Extra delay of a reordered frame, ms (default delayMs + 25). */
  reorderDelayMs?: number;
  faults?: MemoryFaults;
  /** PRNG seed for the fault decisions (default 1). */
  seed?: number;
  /** Sender-side pacing applied to every attached transport (default none). */
  dutyCycle?: MemoryDutyCycle;
}

export interface MemoryHubStats {
  /** Frames accepted by `send`. */
  sent: number;
  /** Frame copies handed to a receiver. */
  delivered: number;
  lost: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  /** Frames dropped because the sender or the receiver was partitioned. */
  partitioned: number;
}

export type MemoryHubEvents = {
  /** Every frame accepted by a `send`, before faults are applied. */
  transmit: (frame: Uint8Array, from: LinkAddress, to: LinkAddress | undefined) => void;
};

function checkProbability(value: number | undefined, label: string): number {
  const v = value ?? 0;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw err('ERR_ARGUMENT', `${label}: expected a probability in [0, 1]`);
  return v;
}

function checkMs(value: number | undefined, fallback: number, label: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw err('ERR_ARGUMENT', `${label}: expected ms >= 0`);
  return v;
}

export class MemoryHub extends Emitter<MemoryHubEvents> {
  readonly mtu: number;
  readonly clock: Clock;
  readonly stats: MemoryHubStats = { sent: 0, delivered: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, partitioned: 0 };
  private readonly delayMs: number;
  private readonly reorderDelayMs: number;
  private readonly dutyCycle: MemoryDutyCycle | undefined;
  private readonly prng: Prng;
  private faults: Required<MemoryFaults> = { loss: 0, duplicate: 0, reorder: 0, corrupt: 0 };
  private readonly members = new Map<LinkAddress, MemoryTransport>();
  /** Partitioned addresses; the value says whether the outage is silent. */
  private readonly isolated = new Map<LinkAddress, boolean>();

  constructor(options: MemoryHubOptions = {}) {
    super();
    const mtu = options.mtu ?? 255;
    if (!Number.isInteger(mtu) || mtu < 1) throw err('ERR_ARGUMENT', 'mtu: expected a positive integer');
    this.mtu = mtu;
    this.clock = options.clock ?? systemClock;
    this.delayMs = checkMs(options.delayMs, 0, 'delayMs');
    this.reorderDelayMs = checkMs(options.reorderDelayMs, this.delayMs + 25, 'reorderDelayMs');
    if (options.dutyCycle) {
      checkMs(options.dutyCycle.perFrameMs, 0, 'dutyCycle.perFrameMs');
      checkMs(options.dutyCycle.perByteMs, 0, 'dutyCycle.perByteMs');
    }
    this.dutyCycle = options.dutyCycle;
    this.prng = createPrng(options.seed ?? 1);
    this.setFaults(options.faults ?? {});
  }

  /** Replaces the fault probabilities (e.g. to stop losses in the middle of a test). */
  setFaults(faults: MemoryFaults): void {
    this.faults = {
      loss: checkProbability(faults.loss, 'faults.loss'),
      duplicate: checkProbability(faults.duplicate, 'faults.duplicate'),
      reorder: checkProbability(faults.reorder, 'faults.reorder'),
      corrupt: checkProbability(faults.corrupt, 'faults.corrupt'),
    };
  }

  /** Attaches a new transport at `address` (unique on this hub). */
  attach(address: LinkAddress, options: { mtu?: number } = {}): MemoryTransport {
    astring(address, 'address');
    if (this.members.has(address)) throw err('ERR_ARGUMENT', `address ${address} is already attached`);
    const mtu = options.mtu ?? this.mtu;
    if (!Number.isInteger(mtu) || mtu < 1) throw err('ERR_ARGUMENT', 'mtu: expected a positive integer');
    const t = new MemoryTransport(this, address, mtu, this.dutyCycle);
    this.members.set(address, t);
    return t;
  }

  /** Addresses currently attached. */
  get addresses(): LinkAddress[] {
    return [...this.members.keys()];
  }

  /**
   * Cuts `addresses` (default: every attached address) off the hub. Announced outages take those
   * transports offline; silent ones drop their frames without telling anyone.
   */
  partition(addresses: LinkAddress[] = this.addresses, options: { silent?: boolean } = {}): void {
    for (const a of addresses) {
      this.isolated.set(a, options.silent === true);
      this.members.get(a)?.hubStateChanged();
    }
  }

  /** Ends the partition of `addresses` (default: all). */
  heal(addresses: LinkAddress[] = [...this.isolated.keys()]): void {
    for (const a of addresses) {
      this.isolated.delete(a);
      this.members.get(a)?.hubStateChanged();
    }
  }

  /** True when `address` is partitioned with an announced outage. */
  isOffline(address: LinkAddress): boolean {
    return this.isolated.get(address) === false;
  }

  /** @internal Called by MemoryTransport.close(). */
  detach(t: MemoryTransport): void {
    if (this.members.get(t.address) === t) this.members.delete(t.address);
  }

  /** @internal Called by MemoryTransport.send() once the frame was checked. */
  transmit(from: MemoryTransport, frame: Uint8Array, to: LinkAddress | undefined): void {
    if (to !== undefined && !this.members.has(to)) {
      throw err('ERR_TRANSPORT', `memory link: no transport at address ${to}`);
    }
    const copy = new Uint8Array(frame);
    this.stats.sent++;
    this.emit('transmit', copy, from.address, to);
    const targets = to !== undefined ? [to] : this.addresses.filter((a) => a !== from.address);
    for (const target of targets) {
      if (this.isolated.has(from.address) || this.isolated.has(target)) {
        this.stats.partitioned++;
        continue;
      }
      if (this.faults.loss > 0 && this.prng.next() < this.faults.loss) {
        this.stats.lost++;
        continue;
      }
      const copies = this.faults.duplicate > 0 && this.prng.next() < this.faults.duplicate ? 2 : 1;
      if (copies === 2) this.stats.duplicated++;
      for (let c = 0; c < copies; c++) {
        const bytes = new Uint8Array(copy);
        if (bytes.length > 0 && this.faults.corrupt > 0 && this.prng.next() < this.faults.corrupt) {
          bytes[this.prng.int(bytes.length)]! ^= 1 << this.prng.int(8);
          this.stats.corrupted++;
        }
        let delay = this.delayMs;
        if (this.faults.reorder > 0 && this.prng.next() < this.faults.reorder) {
          delay += this.reorderDelayMs;
          this.stats.reordered++;
        }
        this.schedule(delay, () => this.deliver(bytes, from.address, target));
      }
    }
  }

  private schedule(delay: number, fn: () => void): void {
    if (delay === 0) queueMicrotask(fn);
    else this.clock.setTimer(delay, fn);
  }

  private deliver(frame: Uint8Array, from: LinkAddress, to: LinkAddress): void {
    const target = this.members.get(to);
    if (!target) return;
    if (this.isolated.has(from) || this.isolated.has(to)) {
      this.stats.partitioned++;
      return;
    }
    this.stats.delivered++;
    target.receive(frame, from);
  }
}

/** TransportEvents as a type alias (an interface does not satisfy Emitter's index signature). */
type LinkEvents = { [K in keyof TransportEvents]: TransportEvents[K] };

/** One end attached to a MemoryHub. Create with `hub.attach(address)`. */
export class MemoryTransport extends Emitter<LinkEvents> implements Transport {
  readonly kind = 'memory';
  readonly mtu: number;
  readonly address: LinkAddress;
  private readonly hub: MemoryHub;
  private readonly dutyCycle: MemoryDutyCycle | undefined;
  private closed = false;
  private lastState: TransportState;
  private quietUntil = 0;

  constructor(hub: MemoryHub, address: LinkAddress, mtu: number, dutyCycle: MemoryDutyCycle | undefined) {
    super();
    this.hub = hub;
    this.address = address;
    this.mtu = mtu;
    this.dutyCycle = dutyCycle;
    this.lastState = this.state;
  }

  get state(): TransportState {
    if (this.closed) return 'closed';
    return this.hub.isOffline(this.address) ? 'offline' : 'online';
  }

  sendDelay(size: number): number {
    void size;
    if (!this.dutyCycle) return 0;
    return Math.max(0, this.quietUntil - this.hub.clock.now());
  }

  async send(frame: Uint8Array, to?: LinkAddress): Promise<void> {
    abytes(frame, 'frame');
    if (to !== undefined) astring(to, 'to');
    if (this.closed) throw err('ERR_TRANSPORT', 'memory link: transport is closed');
    if (frame.length > this.mtu) throw err('ERR_TOO_LARGE', `memory link: frame of ${frame.length} B exceeds mtu ${this.mtu}`);
    if (this.state === 'offline') throw err('ERR_TRANSPORT', 'memory link: offline (partitioned)');
    const wait = this.sendDelay(frame.length);
    if (wait > 0) throw err('ERR_DUTY_CYCLE', `memory link: duty cycle, retry in ${wait} ms`, { retryAfterMs: wait });
    this.hub.transmit(this, frame, to);
    if (this.dutyCycle) {
      this.quietUntil = this.hub.clock.now() + this.dutyCycle.perFrameMs + frame.length * (this.dutyCycle.perByteMs ?? 0);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.detach(this);
    this.emit('state', 'closed');
    this.removeAllListeners();
  }

  /** @internal */
  receive(frame: Uint8Array, from: LinkAddress): void {
    if (!this.closed) this.emit('frame', frame, from);
  }

  /** @internal The hub's partition table changed; report a state change if there is one. */
  hubStateChanged(): void {
    const s = this.state;
    if (s !== this.lastState) {
      this.lastState = s;
      this.emit('state', s);
    }
  }

  /** Reports a non-fatal problem on this transport (for tests that need an 'error' source). */
  reportError(error: DidcommError): void {
    this.emit('error', error);
  }
}

/** Two transports `a` and `b` on a fresh hub: a point-to-point link. */
export function createMemoryPair(options: MemoryHubOptions = {}): { hub: MemoryHub; a: MemoryTransport; b: MemoryTransport } {
  const hub = new MemoryHub(options);
  return { hub, a: hub.attach('a'), b: hub.attach('b') };
}
