import { describe, expect, it, vi } from 'vitest';
import { ManualClock, ScaledClock, sleep, systemClock } from '../../src/util/clock.js';

describe('clocks', () => {
  it('ManualClock fires timers in time order and lets promise chains settle between them', async () => {
    const c = new ManualClock(1000);
    const order: string[] = [];
    c.setTimer(30, () => order.push('c'));
    c.setTimer(10, () => {
      order.push('a');
      void Promise.resolve().then(() => c.setTimer(5, () => order.push('b')));
    });
    const cancelled = c.setTimer(20, () => order.push('x'));
    cancelled.cancel();
    await c.advance(100);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(c.now()).toBe(1100);
    expect(c.pending).toBe(0);
  });

  it('ScaledClock runs time faster than the wall clock and never fires a timer before its deadline', async () => {
    // Node timers can fire up to ~1 ms of wall time early (100 virtual ms at this speed); a caller
    // sleeping until the duty-cycle budget allows must wake with the budget actually there.
    let early = 0;
    for (let i = 0; i < 100; i++) {
      const c = new ScaledClock(100, 0);
      const t0 = c.now();
      await sleep(c, 1000); // 10 ms of wall time
      if (c.now() - t0 < 1000) early++;
    }
    expect(early).toBe(0);
    expect(() => new ScaledClock(0)).toThrow(RangeError);
  });

  it('systemClock timers never fire before their deadline by Date.now()', async () => {
    let early = 0;
    for (let i = 0; i < 50; i++) {
      const t0 = systemClock.now();
      await sleep(systemClock, 2);
      if (systemClock.now() - t0 < 2) early++;
    }
    expect(early).toBe(0);
  });

  it('a systemClock timer still fires after its wait when the wall clock is set back meanwhile (NTP step)', async () => {
    const realNow = Date.now.bind(Date);
    const started = performance.now();
    let fired = 0;
    systemClock.setTimer(20, () => (fired = performance.now()));
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() - 3_600_000);
    try {
      const end = performance.now() + 2_000;
      while (!fired && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
    } finally {
      spy.mockRestore();
    }
    expect(fired, 'fired at all').toBeGreaterThan(0);
    expect(fired - started).toBeGreaterThanOrEqual(19);
    expect(fired - started).toBeLessThan(1_000);
  });
});
