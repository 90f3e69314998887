/**
 * Reconnect backoff for the message-level transports (MQTT here, WebSocket in transports/ws/).
 * Exponential with a cap and optional downward jitter ("equal jitter"-style: a delay is drawn in
 * [base·(1−jitter), base]) so a fleet of devices that lost the same broker does not reconnect in
 * lockstep. Time comes from a `Clock`, so tests drive reconnects with `ManualClock`.
 */
import { err } from '../../src/errors.js';
import type { Clock, Timer } from '../../src/util/clock.js';

export interface BackoffPolicy {
  /** Delay before the first retry, ms. */
  initialMs: number;
  /** Upper bound of any delay, ms. */
  maxMs: number;
  /** Growth per attempt (>= 1). */
  factor: number;
  /** Fraction of the delay that may be randomly removed, in [0, 1]. 0 = deterministic. */
  jitter: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.2 };

/** Completes a partial policy with the defaults and checks it (ERR_ARGUMENT). */
export function backoffPolicy(partial: Partial<BackoffPolicy> = {}): BackoffPolicy {
  const p = { ...DEFAULT_BACKOFF, ...partial };
  const ok =
    Number.isFinite(p.initialMs) && p.initialMs >= 0 && Number.isFinite(p.maxMs) && p.maxMs >= p.initialMs &&
    Number.isFinite(p.factor) && p.factor >= 1 && p.jitter >= 0 && p.jitter <= 1;
  if (!ok) throw err('ERR_ARGUMENT', 'reconnect: expected 0 <= initialMs <= maxMs, factor >= 1, 0 <= jitter <= 1');
  return p;
}

/** Delay before retry number `attempt` (0-based). `random` returns a value in [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * Math.pow(policy.factor, Math.max(0, attempt)));
  return Math.round(base * (1 - policy.jitter * random()));
}

/** Schedules one retry at a time on a Clock, growing the delay until `reset()` (after a success). */
export class ReconnectScheduler {
  private readonly clock: Clock;
  private readonly policy: BackoffPolicy;
  private readonly random: () => number;
  private attempt = 0;
  private timer: Timer | undefined;

  constructor(clock: Clock, policy: BackoffPolicy, random: () => number = Math.random) {
    this.clock = clock;
    this.policy = policy;
    this.random = random;
  }

  /** Number of retries scheduled since the last success. */
  get attempts(): number {
    return this.attempt;
  }

  get scheduled(): boolean {
    return this.timer !== undefined;
  }

  /** Runs `fn` after the next backoff delay (or after `delayMs` when given). Returns the delay. */
  schedule(fn: () => void, delayMs?: number): number {
    this.cancel();
    const delay = delayMs ?? backoffDelay(this.attempt, this.policy, this.random);
    this.attempt++;
    this.timer = this.clock.setTimer(delay, () => {
      this.timer = undefined;
      fn();
    });
    return delay;
  }

  /** Forget past failures (call when a connection succeeded). */
  reset(): void {
    this.attempt = 0;
  }

  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
