import { describe, expect, it } from 'vitest';
import { ManualClock, ScaledClock, sleep } from '../../src/util/clock.js';

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

  it('ScaledClock runs time faster than the wall clock', async () => {
    const c = new ScaledClock(100, 0);
    const t0 = c.now();
    await sleep(c, 1000); // 10 ms of wall time
    expect(c.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(() => new ScaledClock(0)).toThrow(RangeError);
  });
});
