/**
 * Time as an interface. Everything that waits (retries, airtime, duty cycle, expiry, reassembly
 * timeouts) asks a `Clock`, so tests and the field simulation run on virtual time: `ManualClock`
 * jumps from timer to timer, letting promise chains settle in between, so an hour of LoRa duty
 * cycle takes milliseconds and results are reproducible.
 */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds (>= 0). */
  setTimer(ms: number, fn: () => void): Timer;
}

/** Resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimer(ms, resolve);
  });
}

/**
 * A timer on the host's `setTimeout` that fires only once `now()` has reached its deadline. Node's
 * timers run on the event loop's cached millisecond clock and can fire up to ~1 ms early by
 * `Date.now()`/`performance.now()` (at a simulation speed of 100 that is 100 ms of virtual time);
 * callers such as the duty-cycle gate sleep "until the budget allows" and must wake with it there,
 * so an early wake re-arms for the remainder. `wallPerVirtual` converts virtual to wall milliseconds.
 */
function deadlineTimer(now: () => number, wallPerVirtual: number, ms: number, fn: () => void, unref: boolean): Timer {
  const wait = Math.max(0, ms);
  const deadline = now() + wait;
  let t: ReturnType<typeof setTimeout>;
  const arm = (virtualMs: number): void => {
    t = setTimeout(() => {
      const left = deadline - now();
      // `left > wait`: the wall clock was set back (NTP on a Pi without RTC) — the timer's own
      // monotonic wait has elapsed, so it fires rather than waiting out the step
      if (left > 0 && left <= wait) arm(left);
      else fn();
    }, virtualMs * wallPerVirtual);
    if (unref && typeof t === 'object' && t !== null && 'unref' in t) (t as { unref(): void }).unref();
  };
  arm(wait);
  return { cancel: () => clearTimeout(t) };
}

/** Wall-clock time. Timers are unref'd so they never keep a process alive on their own. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, fn) => deadlineTimer(systemClock.now, 1, ms, fn, true),
};

interface PendingTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Lets queued promise callbacks and I/O callbacks run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Virtual time for tests and simulations. Time only moves when `advance`/`runUntil`/`runAll` is
 * called; timers fire in (time, creation) order and the event loop is drained between them.
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: PendingTimer[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = Math.floor(start);
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): Timer {
    // Timers land on whole milliseconds, so now() stays an integer like Date.now().
    const t: PendingTimer = { at: Math.ceil(this.current + Math.max(0, ms)), seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return {
      cancel: () => {
        t.cancelled = true;
      },
    };
  }

  /** Number of live timers (useful to assert that nothing is left scheduled). */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  private nextDue(limit: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    this.timers = this.timers.filter((t) => !t.cancelled);
    for (const t of this.timers) {
      if (t.at > limit) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    await this.runUntil(this.current + Math.ceil(ms));
  }

  /** Fires timers up to absolute time `target`, settling the event loop after each. */
  async runUntil(target: number): Promise<void> {
    await settle();
    for (;;) {
      const t = this.nextDue(target);
      if (!t) break;
      t.cancelled = true;
      if (t.at > this.current) this.current = t.at;
      t.fn();
      await settle();
    }
    if (target > this.current) this.current = target;
    await settle();
  }

  /**
   * Runs until `done()` is true or `maxMs` of virtual time has passed, jumping straight to the
   * next timer each time. Returns true if `done()` became true.
   */
  async runUntilDone(done: () => boolean, maxMs: number): Promise<boolean> {
    const limit = this.current + maxMs;
    await settle();
    while (!done()) {
      const t = this.nextDue(limit);
      if (!t) {
        await settle();
        if (done()) return true;
        const again = this.nextDue(limit);
        if (!again) {
          this.current = Math.max(this.current, limit);
          return done();
        }
        continue;
      }
      t.cancelled = true;
      if (t.at > this.current) this.current = t.at;
      t.fn();
      await settle();
    }
    return true;
  }
}

/**
 * Accelerated wall time for simulations that also use real sockets (an MQTT broker, HTTP): time
 * runs `speed` times faster than the wall clock, timers fire at the scaled instants. Unlike
 * ManualClock it needs no driving loop, so network I/O interleaves naturally.
 */
export class ScaledClock implements Clock {
  readonly speed: number;
  private readonly realStart: number;
  private readonly virtualStart: number;

  constructor(speed: number, start = Date.now()) {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError('speed must be a positive number');
    this.speed = speed;
    this.realStart = performance.now();
    this.virtualStart = start;
  }

  now(): number {
    return Math.floor(this.virtualStart + (performance.now() - this.realStart) * this.speed);
  }

  setTimer(ms: number, fn: () => void): Timer {
    return deadlineTimer(() => this.now(), 1 / this.speed, ms, fn, false);
  }
}
