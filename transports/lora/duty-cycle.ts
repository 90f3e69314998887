/**
 * Radio duty-cycle budgets per regulatory sub-band (ETSI EN 300 220-2 sub-bands for EU868, as
 * listed in embedded.md §3.2; LoRaMac-node's per-band off-time rule).
 *
 * Enforcement: after a transmission of T ms ending at `end`, the sub-band is forbidden until
 * `end + T·(1/dc − 1)` (i.e. `start + T/dc`; 1 % → 100 × T between starts). A single transmission
 * longer than the whole hourly allowance (`dc × 1 h`, e.g. 3.6 s at 0.1 %) can never be sent:
 * `delayFor` returns Infinity. For reporting, each budget also keeps the rolling "airtime used in
 * the last hour" and "budget left" (dc × 1 h − used); this log is bounded (old entries are merged
 * beyond `MAX_LOG_ENTRIES`, which only blurs the statistic, never the off-time rule).
 *
 * Everything runs on a `Clock`, so the same code budgets real radios and the simulator.
 */
import { err } from '../../src/errors.js';
import type { Clock } from '../../src/util/clock.js';
import { airtimeMs, LORA_MAX_PAYLOAD, type LoraRadioSettings } from './airtime.js';

export interface SubBand {
  readonly name: string;
  readonly minHz: number;
  readonly maxHz: number;
  /** Fraction of time the band may be used (0.01 = 1 %). 1 = unrestricted. */
  readonly dutyCycle: number;
}

export interface BandPlan {
  readonly name: string;
  readonly subBands: readonly SubBand[];
}

/** EU863-870 sub-bands (ETSI EN 300 220-2; TTN eu868 pages). */
export const EU868_BAND_PLAN: BandPlan = Object.freeze({
  name: 'EU868',
  subBands: Object.freeze([
    { name: 'K', minHz: 863_000_000, maxHz: 865_000_000, dutyCycle: 0.001 },
    { name: 'L', minHz: 865_000_000, maxHz: 868_000_000, dutyCycle: 0.01 },
    { name: 'M', minHz: 868_000_000, maxHz: 868_600_000, dutyCycle: 0.01 },
    { name: 'N', minHz: 868_700_000, maxHz: 869_200_000, dutyCycle: 0.001 },
    { name: 'P', minHz: 869_400_000, maxHz: 869_650_000, dutyCycle: 0.1 },
    { name: 'Q', minHz: 869_700_000, maxHz: 870_000_000, dutyCycle: 0.01 },
  ]),
});

/** US902-928: no duty cycle (FCC Part 15 limits dwell time instead, which is not modelled). */
export const US915_BAND_PLAN: BandPlan = Object.freeze({
  name: 'US915',
  subBands: Object.freeze([{ name: 'US915', minHz: 902_000_000, maxHz: 928_000_000, dutyCycle: 1 }]),
});

export const ONE_HOUR_MS = 3_600_000;
export const MAX_LOG_ENTRIES = 4096;

/** The plan that covers `frequencyHz` (EU868 or US915), else ERR_ARGUMENT. */
export function bandPlanFor(frequencyHz: number): BandPlan {
  for (const plan of [EU868_BAND_PLAN, US915_BAND_PLAN]) {
    const first = plan.subBands[0]!;
    const last = plan.subBands[plan.subBands.length - 1]!;
    if (frequencyHz >= first.minHz && frequencyHz <= last.maxHz) return plan;
  }
  throw err('ERR_ARGUMENT', `frequency ${frequencyHz} Hz is in no known band plan`);
}

/** The sub-band of `plan` that holds `frequencyHz`, else ERR_ARGUMENT (no transmitting there). */
export function subBandFor(plan: BandPlan, frequencyHz: number): SubBand {
  for (const b of plan.subBands) if (frequencyHz >= b.minHz && frequencyHz <= b.maxHz) return b;
  throw err('ERR_ARGUMENT', `frequency ${frequencyHz} Hz is in no ${plan.name} sub-band`);
}

/** A transmission counted before the modem confirmed it; commit when it did, release if not. */
export interface DutyCycleReservation {
  /** Records the transmission as started at `startAt` (default now). */
  commit(startAt?: number): void;
  /** Forgets it (nothing went on the air). */
  release(): void;
}

interface LoggedTx {
  start: number;
  airtime: number;
}

export interface DutyCycleBudgetOptions {
  clock: Clock;
  /** 0 < dutyCycle <= 1. */
  dutyCycle: number;
  /** Observation window of the rolling statistic; default one hour. */
  windowMs?: number;
}

/** One sub-band's budget. */
export class DutyCycleBudget {
  readonly dutyCycle: number;
  readonly windowMs: number;
  private readonly clock: Clock;
  private committedOffUntil = -Infinity;
  private readonly pending = new Set<LoggedTx>();
  private log: LoggedTx[] = [];

  constructor(options: DutyCycleBudgetOptions) {
    const dc = options.dutyCycle;
    if (typeof dc !== 'number' || !(dc > 0 && dc <= 1)) throw err('ERR_ARGUMENT', 'dutyCycle: expected 0 < dc <= 1');
    this.clock = options.clock;
    this.dutyCycle = dc;
    this.windowMs = options.windowMs ?? ONE_HOUR_MS;
  }

  /** Airtime allowed per window (36 s per hour at 1 %). */
  get allowanceMs(): number {
    return this.dutyCycle * this.windowMs;
  }

  /** Earliest time at which the band is free again (start + T/dc of the latest transmission). */
  offUntil(): number {
    let t = this.committedOffUntil;
    for (const p of this.pending) t = Math.max(t, p.start + p.airtime / this.dutyCycle);
    return t;
  }

  /** Milliseconds until a transmission of `airtime` ms may start (0 = now, Infinity = never). */
  delayFor(airtime: number): number {
    if (this.dutyCycle < 1 && airtime > this.allowanceMs) return Infinity;
    return Math.max(0, this.offUntil() - this.clock.now());
  }

  /** Records a transmission that went on the air. */
  record(airtime: number, startAt = this.clock.now()): void {
    this.committedOffUntil = Math.max(this.committedOffUntil, startAt + airtime / this.dutyCycle);
    this.log.push({ start: startAt, airtime });
    this.prune();
  }

  /** Counts a transmission now, before the modem confirmed it. */
  reserve(airtime: number): DutyCycleReservation {
    const entry: LoggedTx = { start: this.clock.now(), airtime };
    this.pending.add(entry);
    let settled = false;
    return {
      commit: (startAt = this.clock.now()) => {
        if (settled) return;
        settled = true;
        this.pending.delete(entry);
        this.record(airtime, Math.max(startAt, entry.start));
      },
      release: () => {
        if (settled) return;
        settled = true;
        this.pending.delete(entry);
      },
    };
  }

  /** Airtime (ms) transmitted within the last window, reservations included. */
  usedInWindowMs(): number {
    this.prune();
    const now = this.clock.now();
    const from = now - this.windowMs;
    let used = 0;
    const add = (e: LoggedTx): void => {
      const a = Math.max(e.start, from);
      const b = Math.min(e.start + e.airtime, now);
      if (b > a) used += b - a;
    };
    for (const e of this.log) add(e);
    for (const p of this.pending) used += p.airtime;
    return used;
  }

  /** Allowance left in the current window (never negative). */
  budgetLeftMs(): number {
    return Math.max(0, this.allowanceMs - this.usedInWindowMs());
  }

  private prune(): void {
    const horizon = this.clock.now() - this.windowMs;
    let i = 0;
    while (i < this.log.length && this.log[i]!.start + this.log[i]!.airtime <= horizon) i++;
    if (i > 0) this.log = this.log.slice(i);
    while (this.log.length > MAX_LOG_ENTRIES) {
      const [a, b] = [this.log[0]!, this.log[1]!];
      this.log.splice(0, 2, { start: a.start, airtime: a.airtime + b.airtime });
    }
  }
}

export interface DutyCycleLimiterOptions {
  clock: Clock;
  /** Default: chosen from the radio's frequency (EU868 or US915). */
  bandPlan?: BandPlan;
  /** Overrides the plan: one budget with this duty cycle for every frequency (tests, private bands). */
  dutyCycle?: number;
  windowMs?: number;
}

export interface SendCheck {
  /** Airtime of the packet, ms. */
  airtimeMs: number;
  /** 0 = may send now; Infinity = never (longer than the hourly allowance). */
  delayMs: number;
}

/** One radio's budgets, one per sub-band it has used. Answers "can I send N bytes now?". */
export class DutyCycleLimiter {
  private readonly options: DutyCycleLimiterOptions;
  private readonly budgets = new Map<string, DutyCycleBudget>();

  constructor(options: DutyCycleLimiterOptions) {
    if (options.dutyCycle !== undefined && !(options.dutyCycle > 0 && options.dutyCycle <= 1)) {
      throw err('ERR_ARGUMENT', 'dutyCycle: expected 0 < dc <= 1');
    }
    this.options = options;
  }

  /** The budget of the sub-band holding `frequencyHz` (ERR_ARGUMENT outside the plan). */
  budgetFor(frequencyHz: number): DutyCycleBudget {
    let key: string;
    let dutyCycle: number;
    if (this.options.dutyCycle !== undefined) {
      key = 'override';
      dutyCycle = this.options.dutyCycle;
    } else {
      const plan = this.options.bandPlan ?? bandPlanFor(frequencyHz);
      const band = subBandFor(plan, frequencyHz);
      key = `${plan.name}/${band.name}`;
      dutyCycle = band.dutyCycle;
    }
    let b = this.budgets.get(key);
    if (!b) {
      b = new DutyCycleBudget({ clock: this.options.clock, dutyCycle, windowMs: this.options.windowMs });
      this.budgets.set(key, b);
    }
    return b;
  }

  /** Can a packet of `payloadBytes` PHY bytes go now with these settings? If not, in how many ms? */
  check(settings: LoraRadioSettings, payloadBytes: number): SendCheck {
    const air = airtimeMs(Math.min(payloadBytes, LORA_MAX_PAYLOAD), settings);
    return { airtimeMs: air, delayMs: this.budgetFor(settings.frequencyHz).delayFor(air) };
  }

  /** Records a packet that went on the air. */
  record(settings: LoraRadioSettings, payloadBytes: number, startAt?: number): number {
    const air = airtimeMs(payloadBytes, settings);
    this.budgetFor(settings.frequencyHz).record(air, startAt);
    return air;
  }
}
