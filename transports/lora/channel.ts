/**
 * "The air": a LoRa radio channel simulator on a `Clock` (DESIGN.md §5, §7), used by the modem
 * emulators so that tests and the field simulation obey physics.
 *
 * Rules, kept deliberately simple:
 * - A transmission occupies the air for its AN1200.13 airtime (`airtime.ts`); receivers get the
 *   frame when it ends.
 * - Radios hear each other only with the same carrier, SF and bandwidth (`sameLoraChannel`), when
 *   the link model says they are in range, when listening since before the frame started, and
 *   when not transmitting themselves during it (half duplex).
 * - Collision: two transmissions on the same carrier/SF/BW that overlap in time destroy each other
 *   at every receiver that hears both. With `captureEffect`, a frame still gets through at a
 *   receiver if it is at least `CAPTURE_THRESHOLD_DB` stronger there than every overlapping one
 *   (SX127x co-channel rejection). Different SFs are treated as orthogonal.
 * - Loss, corruption (one flipped bit) and duplication with probabilities drawn from a seeded PRNG
 *   (`src/util/prng.ts`), in a fixed order, so runs are reproducible; plus a `faultHook` that can
 *   rewrite, drop or multiply any delivery.
 * - Each radio has a duty-cycle budget (`duty-cycle.ts`); a transmission beyond it still goes out
 *   (the simulator models the physical world) but is counted and reported as a 'violation': a
 *   driver that lets it happen has a bug.
 * Counters per radio (frames, bytes, airtime, drops by reason) feed the field simulation's view.
 */
import { err, type DidcommError } from '../../src/errors.js';
import type { Clock } from '../../src/util/clock.js';
import { Emitter } from '../../src/util/emitter.js';
import { createPrng, type Prng } from '../../src/util/prng.js';
import { airtimeMs, LORA_MAX_PAYLOAD, loraSettings, type LoraRadioSettings } from './airtime.js';
import { DutyCycleLimiter, type BandPlan } from './duty-cycle.js';

export const CAPTURE_THRESHOLD_DB = 6;
/** Tolerance when comparing a transmission's start with its radio's off-time (float rounding). */
const DUTY_EPSILON_MS = 1e-6;

export interface LinkQuality {
  rssiDbm: number;
  snrDb: number;
}

/** Signal from one radio at another; undefined = out of range. Default: everyone hears everyone. */
export type LinkModel = (from: ChannelRadio, to: ChannelRadio) => LinkQuality | undefined;

export interface AirFrame {
  readonly payload: Uint8Array;
  /** Channel id of the transmitting radio. */
  readonly from: string;
  readonly rssiDbm: number;
  readonly snrDb: number;
  readonly startedAt: number;
  readonly endedAt: number;
}

export type DropReason = 'loss' | 'collision' | 'out-of-range' | 'half-duplex' | 'not-listening' | 'fault';

export interface RadioStats {
  txFrames: number;
  txBytes: number;
  txAirtimeMs: number;
  rxFrames: number;
  rxBytes: number;
  dropped: Record<DropReason, number>;
  dutyCycleViolations: number;
}

export interface ChannelStats extends RadioStats {
  radios: number;
  /** Transmissions on the air right now. */
  onAir: number;
}

/** Rewrites one delivery: return the payloads to deliver ([] drops it), or undefined to keep it. */
export type FaultHook = (delivery: { from: string; to: string; payload: Uint8Array }) => Uint8Array[] | undefined;

export type ChannelEvents = {
  transmit: (e: { radio: string; bytes: number; airtimeMs: number; at: number }) => void;
  deliver: (e: { from: string; to: string; bytes: number; at: number }) => void;
  drop: (e: { from: string; to: string; reason: DropReason; at: number }) => void;
  /** A radio transmitted beyond its duty-cycle budget (a driver bug). */
  violation: (e: { radio: string; error: DidcommError }) => void;
  /** A receiver callback threw. */
  error: (error: DidcommError) => void;
};

export interface RadioChannelOptions {
  clock: Clock;
  /** PRNG seed for loss/corruption/duplication. Default 1. */
  seed?: number;
  lossProbability?: number;
  corruptProbability?: number;
  duplicateProbability?: number;
  captureEffect?: boolean;
  link?: LinkModel;
  /** Duty-cycle rules for every radio (default: plan by frequency). */
  bandPlan?: BandPlan;
  dutyCycle?: number;
  faultHook?: FaultHook;
}

interface Transmission {
  radio: ChannelRadio;
  settings: LoraRadioSettings;
  payload: Uint8Array;
  start: number;
  end: number;
  /** Its end has been processed (deliveries made). */
  done: boolean;
}

const DEFAULT_LINK: LinkQuality = { rssiDbm: -60, snrDb: 9 };

function emptyStats(): RadioStats {
  return {
    txFrames: 0,
    txBytes: 0,
    txAirtimeMs: 0,
    rxFrames: 0,
    rxBytes: 0,
    dropped: { loss: 0, collision: 0, 'out-of-range': 0, 'half-duplex': 0, 'not-listening': 0, fault: 0 },
    dutyCycleViolations: 0,
  };
}

function probability(p: number | undefined, name: string): number {
  const v = p ?? 0;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw err('ERR_ARGUMENT', `${name}: expected 0..1`);
  return v;
}

/** One radio on the channel. Its owner (a modem emulator) transmits and toggles listening. */
export class ChannelRadio {
  readonly id: string;
  readonly stats: RadioStats = emptyStats();
  readonly dutyCycle: DutyCycleLimiter;
  /** Free-form data for link models (position, antenna gain...). */
  meta: Record<string, unknown> = {};
  private currentSettings: LoraRadioSettings;
  private listeningSince: number | undefined;
  private txEnd = -Infinity;
  private joined = true;
  private readonly channel: RadioChannel;
  /** @internal */
  readonly receive: (frame: AirFrame) => void;

  /** @internal use `RadioChannel.join`. */
  constructor(channel: RadioChannel, id: string, settings: LoraRadioSettings, receive: (frame: AirFrame) => void) {
    this.channel = channel;
    this.id = id;
    this.currentSettings = settings;
    this.receive = receive;
    this.dutyCycle = channel.newLimiter();
  }

  get settings(): LoraRadioSettings {
    return this.currentSettings;
  }

  get isJoined(): boolean {
    return this.joined;
  }

  get transmitting(): boolean {
    return this.channel.clock.now() < this.txEnd;
  }

  get listening(): boolean {
    return this.listeningSince !== undefined;
  }

  /** @internal Time since which the receiver has been open, or undefined. */
  get listenSince(): number | undefined {
    return this.listeningSince;
  }

  /** Changes carrier/modulation. Not while transmitting; an open receiver restarts. */
  configure(settings: Partial<LoraRadioSettings>): void {
    if (this.transmitting) throw err('ERR_TRANSPORT', `${this.id}: cannot reconfigure while transmitting`);
    this.currentSettings = loraSettings({ ...this.currentSettings, ...settings });
    if (this.listeningSince !== undefined) this.listeningSince = this.channel.clock.now();
  }

  /** Opens or closes the receiver. A frame is received only if it was open when the frame began. */
  setListening(on: boolean): void {
    if (!on) this.listeningSince = undefined;
    else if (this.listeningSince === undefined) this.listeningSince = this.channel.clock.now();
  }

  /**
   * Puts `payload` on the air now. Returns its airtime; the radio is busy until `endsAt`.
   * ERR_TRANSPORT if already transmitting or gone, ERR_TOO_LARGE beyond 255 bytes.
   */
  transmit(payload: Uint8Array): { airtimeMs: number; endsAt: number } {
    if (!this.joined) throw err('ERR_TRANSPORT', `${this.id}: radio left the channel`);
    if (this.transmitting) throw err('ERR_TRANSPORT', `${this.id}: already transmitting`);
    if (payload.length > LORA_MAX_PAYLOAD) throw err('ERR_TOO_LARGE', `${payload.length} > ${LORA_MAX_PAYLOAD} bytes`);
    const r = this.channel.startTransmission(this, payload);
    this.txEnd = r.endsAt;
    return r;
  }

  /** Leaves the channel (frames in flight from it still complete). */
  leave(): void {
    if (!this.joined) return;
    this.joined = false;
    this.listeningSince = undefined;
    this.channel.remove(this);
  }
}

export class RadioChannel extends Emitter<ChannelEvents> {
  readonly clock: Clock;
  private readonly prng: Prng;
  private readonly lossProbability: number;
  private readonly corruptProbability: number;
  private readonly duplicateProbability: number;
  private readonly captureEffect: boolean;
  private readonly link: LinkModel | undefined;
  private readonly options: RadioChannelOptions;
  private faultHook: FaultHook | undefined;
  private readonly members = new Map<string, ChannelRadio>();
  /** Transmissions still on the air or overlapping one that is. */
  private onAir: Transmission[] = [];
  private readonly totals: RadioStats = emptyStats();

  constructor(options: RadioChannelOptions) {
    super();
    this.options = options;
    this.clock = options.clock;
    this.prng = createPrng(options.seed ?? 1);
    this.lossProbability = probability(options.lossProbability, 'lossProbability');
    this.corruptProbability = probability(options.corruptProbability, 'corruptProbability');
    this.duplicateProbability = probability(options.duplicateProbability, 'duplicateProbability');
    this.captureEffect = options.captureEffect ?? false;
    this.link = options.link;
    this.faultHook = options.faultHook;
    // Validate the duty-cycle options once, up front.
    this.newLimiter();
  }

  /** The duty-cycle options radios get (drivers on this channel should use the same). */
  get dutyCycleOptions(): { bandPlan?: BandPlan; dutyCycle?: number } {
    return { bandPlan: this.options.bandPlan, dutyCycle: this.options.dutyCycle };
  }

  /** Adds a radio. `receive` is called with every frame it receives. */
  join(id: string, settings: Partial<LoraRadioSettings>, receive: (frame: AirFrame) => void): ChannelRadio {
    if (typeof id !== 'string' || id.length === 0) throw err('ERR_ARGUMENT', 'radio id: expected a non-empty string');
    if (this.members.has(id)) throw err('ERR_ARGUMENT', `radio id ${id} is already on the channel`);
    const radio = new ChannelRadio(this, id, loraSettings(settings), receive);
    this.members.set(id, radio);
    return radio;
  }

  radio(id: string): ChannelRadio | undefined {
    return this.members.get(id);
  }

  get radios(): ChannelRadio[] {
    return [...this.members.values()];
  }

  setFaultHook(hook: FaultHook | undefined): void {
    this.faultHook = hook;
  }

  /** Totals over all radios that ever joined. */
  stats(): ChannelStats {
    const now = this.clock.now();
    return {
      ...structuredClone(this.totals),
      radios: this.members.size,
      onAir: this.onAir.filter((t) => !t.done && t.end > now).length,
    };
  }

  /** @internal */
  newLimiter(): DutyCycleLimiter {
    return new DutyCycleLimiter({
      clock: this.clock,
      bandPlan: this.options.bandPlan,
      dutyCycle: this.options.dutyCycle,
    });
  }

  /** @internal */
  remove(radio: ChannelRadio): void {
    if (this.members.get(radio.id) === radio) this.members.delete(radio.id);
  }

  /** @internal */
  startTransmission(radio: ChannelRadio, payload: Uint8Array): { airtimeMs: number; endsAt: number } {
    const settings = radio.settings;
    const now = this.clock.now();
    const check = radio.dutyCycle.check(settings, payload.length);
    if (check.delayMs > DUTY_EPSILON_MS) {
      radio.stats.dutyCycleViolations++;
      this.totals.dutyCycleViolations++;
      const error = err('ERR_DUTY_CYCLE', `${radio.id} transmitted ${check.delayMs.toFixed(1)} ms before its duty-cycle budget allowed`, {
        retryAfterMs: Number.isFinite(check.delayMs) ? Math.ceil(check.delayMs) : undefined,
      });
      this.emit('violation', { radio: radio.id, error });
    }
    const airtime = airtimeMs(payload.length, settings);
    radio.dutyCycle.budgetFor(settings.frequencyHz).record(airtime, now);
    const tx: Transmission = { radio, settings, payload: payload.slice(), start: now, end: now + airtime, done: false };
    this.onAir.push(tx);
    for (const s of [radio.stats, this.totals]) {
      s.txFrames++;
      s.txBytes += payload.length;
      s.txAirtimeMs += airtime;
    }
    this.emit('transmit', { radio: radio.id, bytes: payload.length, airtimeMs: airtime, at: now });
    this.clock.setTimer(airtime, () => this.finish(tx));
    return { airtimeMs: airtime, endsAt: tx.end };
  }

  private finish(tx: Transmission): void {
    const now = this.clock.now();
    const overlapping = this.onAir.filter(
      (o) =>
        o !== tx &&
        o.start < tx.end &&
        o.end > tx.start &&
        o.settings.frequencyHz === tx.settings.frequencyHz &&
        o.settings.sf === tx.settings.sf &&
        o.settings.bandwidthHz === tx.settings.bandwidthHz,
    );
    for (const rx of this.members.values()) {
      if (rx === tx.radio) continue;
      const s = rx.settings;
      if (s.frequencyHz !== tx.settings.frequencyHz || s.sf !== tx.settings.sf || s.bandwidthHz !== tx.settings.bandwidthHz) {
        continue;
      }
      this.deliverTo(tx, rx, overlapping, now);
    }
    tx.done = true;
    // Forget transmissions that can no longer overlap anything still to be processed.
    let earliestLive = Infinity;
    for (const o of this.onAir) if (!o.done) earliestLive = Math.min(earliestLive, o.start);
    this.onAir = this.onAir.filter((o) => !o.done || o.end > earliestLive);
  }

  private linkBetween(from: ChannelRadio, to: ChannelRadio): LinkQuality | undefined {
    return this.link ? this.link(from, to) : DEFAULT_LINK;
  }

  private drop(tx: Transmission, rx: ChannelRadio, reason: DropReason, at: number): void {
    rx.stats.dropped[reason]++;
    this.totals.dropped[reason]++;
    this.emit('drop', { from: tx.radio.id, to: rx.id, reason, at });
  }

  private deliverTo(tx: Transmission, rx: ChannelRadio, overlapping: Transmission[], now: number): void {
    const quality = this.linkBetween(tx.radio, rx);
    if (!quality) return this.drop(tx, rx, 'out-of-range', now);
    if (overlapping.some((o) => o.radio === rx)) return this.drop(tx, rx, 'half-duplex', now);
    const since = rx.listenSince;
    if (since === undefined || since > tx.start) return this.drop(tx, rx, 'not-listening', now);
    for (const o of overlapping) {
      const q = this.linkBetween(o.radio, rx);
      if (!q) continue;
      if (!this.captureEffect || quality.rssiDbm < q.rssiDbm + CAPTURE_THRESHOLD_DB) {
        return this.drop(tx, rx, 'collision', now);
      }
    }
    if (this.lossProbability > 0 && this.prng.next() < this.lossProbability) return this.drop(tx, rx, 'loss', now);
    let payloads: Uint8Array[] = [tx.payload.slice()];
    if (this.corruptProbability > 0 && this.prng.next() < this.corruptProbability && tx.payload.length > 0) {
      const bit = this.prng.int(tx.payload.length * 8);
      payloads[0]![bit >> 3]! ^= 1 << (bit & 7);
    }
    if (this.duplicateProbability > 0 && this.prng.next() < this.duplicateProbability) payloads.push(payloads[0]!.slice());
    if (this.faultHook) {
      const rewritten = this.faultHook({ from: tx.radio.id, to: rx.id, payload: payloads[0]! });
      if (rewritten) payloads = rewritten;
      if (payloads.length === 0) return this.drop(tx, rx, 'fault', now);
    }
    for (const payload of payloads) {
      rx.stats.rxFrames++;
      rx.stats.rxBytes += payload.length;
      this.totals.rxFrames++;
      this.totals.rxBytes += payload.length;
      this.emit('deliver', { from: tx.radio.id, to: rx.id, bytes: payload.length, at: now });
      const frame: AirFrame = {
        payload,
        from: tx.radio.id,
        rssiDbm: quality.rssiDbm,
        snrDb: quality.snrDb,
        startedAt: tx.start,
        endedAt: tx.end,
      };
      try {
        rx.receive(frame);
      } catch (e) {
        this.emit('error', err('ERR_TRANSPORT', `receiver ${rx.id} threw: ${String(e)}`, { cause: e }));
      }
    }
  }
}
