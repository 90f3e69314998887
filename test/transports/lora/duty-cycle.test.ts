import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/util/clock.js';
import { DidcommError } from '../../../src/errors.js';
import { airtimeMs, loraSettings } from '../../../transports/lora/airtime.js';
import {
  bandPlanFor,
  DutyCycleBudget,
  DutyCycleLimiter,
  EU868_BAND_PLAN,
  MAX_LOG_ENTRIES,
  subBandFor,
  US915_BAND_PLAN,
} from '../../../transports/lora/duty-cycle.js';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return (e as DidcommError).code;
  }
  throw new Error('expected a DidcommError');
};

describe('duty-cycle budget', () => {
  it('forbids the band for T·(1/dc − 1) after a transmission of T (1 % → 99 T after its end)', async () => {
    const clock = new ManualClock();
    const b = new DutyCycleBudget({ clock, dutyCycle: 0.01 });
    expect(b.delayFor(100)).toBe(0);
    b.record(100);
    expect(b.delayFor(50)).toBe(10_000); // start + 100 × 100 ms
    await clock.advance(100); // transmission over
    expect(b.delayFor(50)).toBe(9_900); // = 99 × T
    await clock.advance(9_899);
    expect(b.delayFor(50)).toBe(1);
    await clock.advance(1);
    expect(b.delayFor(50)).toBe(0);
  });

  it('keeps the rolling airtime of the last hour and the budget left', async () => {
    const clock = new ManualClock();
    const b = new DutyCycleBudget({ clock, dutyCycle: 0.01 });
    expect(b.allowanceMs).toBe(36_000);
    b.record(400);
    await clock.advance(200);
    expect(b.usedInWindowMs()).toBe(200); // half on the air so far
    await clock.advance(40_000);
    b.record(600);
    await clock.advance(1_000);
    expect(b.usedInWindowMs()).toBe(1_000);
    expect(b.budgetLeftMs()).toBe(35_000);
    await clock.advance(3_600_000 - 41_200 + 100); // first one now half out of the window
    expect(b.usedInWindowMs()).toBeCloseTo(900, 3);
    await clock.advance(3_600_000);
    expect(b.usedInWindowMs()).toBe(0);
    expect(b.budgetLeftMs()).toBe(36_000);
  });

  it('never allows a single transmission longer than the hourly allowance (0.1 % → 3.6 s)', () => {
    const clock = new ManualClock();
    const b = new DutyCycleBudget({ clock, dutyCycle: 0.001 });
    expect(b.delayFor(3_600)).toBe(0);
    expect(b.delayFor(3_601)).toBe(Infinity);
  });

  it('counts reservations at once, re-dates them on commit and forgets them on release', async () => {
    const clock = new ManualClock();
    const b = new DutyCycleBudget({ clock, dutyCycle: 0.1 });
    const r1 = b.reserve(100);
    expect(b.delayFor(100)).toBe(1_000);
    r1.release();
    expect(b.delayFor(100)).toBe(0);
    const r2 = b.reserve(100);
    await clock.advance(30);
    r2.commit(); // the modem confirmed 30 ms later: count from then
    expect(b.delayFor(100)).toBe(1_000);
    r2.release(); // no effect once committed
    expect(b.delayFor(100)).toBe(1_000);
  });

  it('bounds its statistics log', () => {
    const clock = new ManualClock();
    const b = new DutyCycleBudget({ clock, dutyCycle: 1 });
    for (let i = 0; i < MAX_LOG_ENTRIES * 3; i++) b.record(1, clock.now() - 20_000);
    expect(b.usedInWindowMs()).toBe(MAX_LOG_ENTRIES * 3);
    expect((b as unknown as { log: unknown[] }).log.length).toBeLessThanOrEqual(MAX_LOG_ENTRIES);
  });

  it('rejects invalid duty cycles', () => {
    const clock = new ManualClock();
    expect(code(() => new DutyCycleBudget({ clock, dutyCycle: 0 }))).toBe('ERR_ARGUMENT');
    expect(code(() => new DutyCycleBudget({ clock, dutyCycle: 1.5 }))).toBe('ERR_ARGUMENT');
    expect(code(() => new DutyCycleLimiter({ clock, dutyCycle: -1 }))).toBe('ERR_ARGUMENT');
  });
});

describe('sub-bands and the per-radio limiter', () => {
  it('maps frequencies to EU868 sub-bands and plans', () => {
    expect(subBandFor(EU868_BAND_PLAN, 868_100_000)).toMatchObject({ name: 'M', dutyCycle: 0.01 });
    expect(subBandFor(EU868_BAND_PLAN, 869_525_000)).toMatchObject({ name: 'P', dutyCycle: 0.1 });
    expect(subBandFor(EU868_BAND_PLAN, 864_000_000)).toMatchObject({ name: 'K', dutyCycle: 0.001 });
    expect(code(() => subBandFor(EU868_BAND_PLAN, 868_650_000))).toBe('ERR_ARGUMENT');
    expect(bandPlanFor(868_100_000)).toBe(EU868_BAND_PLAN);
    expect(bandPlanFor(915_000_000)).toBe(US915_BAND_PLAN);
    expect(code(() => bandPlanFor(433_000_000))).toBe('ERR_ARGUMENT');
  });

  it('answers "can I send N bytes now, and if not in how many ms", per sub-band', async () => {
    const clock = new ManualClock();
    const lim = new DutyCycleLimiter({ clock });
    const m = loraSettings({ frequencyHz: 868_100_000 });
    const p = loraSettings({ frequencyHz: 869_525_000 });
    expect(lim.check(m, 50)).toEqual({ airtimeMs: airtimeMs(50, m), delayMs: 0 });
    const t = lim.record(m, 50);
    expect(lim.check(m, 50).delayMs).toBeCloseTo(100 * t, 3);
    expect(lim.check(p, 50).delayMs).toBe(0); // another sub-band, another budget
    lim.record(p, 50);
    expect(lim.check(p, 50).delayMs).toBeCloseTo(10 * t, 3);
    await clock.advance(100 * t);
    expect(lim.check(m, 50).delayMs).toBe(0);
    // The override gives one budget for all frequencies.
    const one = new DutyCycleLimiter({ clock, dutyCycle: 0.5 });
    one.record(m, 50);
    expect(one.check(p, 50).delayMs).toBeCloseTo(2 * t, 3);
    // US915 has no duty cycle: only the packet itself.
    const us = new DutyCycleLimiter({ clock });
    const u = loraSettings({ frequencyHz: 915_000_000 });
    us.record(u, 50);
    expect(us.check(u, 50).delayMs).toBeCloseTo(airtimeMs(50, u), 3);
  });
});
