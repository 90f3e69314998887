/**
 * Retry delays for the outbox: exponential backoff with symmetric relative jitter, so that many
 * devices coming back after an outage do not retry in lockstep (and so a test on the ManualClock
 * can bound every retry time exactly).
 *
 *   delay(n) = min(maxMs, baseMs · factor^(n−1)) · u,   u uniform in [1 − jitter, 1 + jitter]
 */
import { err } from '../errors.js';
import type { BackoffOptions } from './types.js';

export interface Backoff {
  /** Delay before transmission number `attempt + 1`, after `attempt` (>= 1) transmissions. */
  delay(attempt: number): number;
  /** The un-jittered delay (for documentation and tests). */
  nominal(attempt: number): number;
  readonly jitter: number;
}

export function createBackoff(o: BackoffOptions = {}, random: () => number = Math.random): Backoff {
  const baseMs = o.baseMs ?? 2000;
  const factor = o.factor ?? 2;
  const maxMs = o.maxMs ?? 10 * 60_000;
  const jitter = o.jitter ?? 0.2;
  if (!(baseMs > 0) || !(factor >= 1) || !(maxMs >= baseMs) || !(jitter >= 0 && jitter <= 1)) {
    throw err('ERR_ARGUMENT', 'backoff: need baseMs > 0, factor >= 1, maxMs >= baseMs, jitter in [0, 1]');
  }
  const nominal = (attempt: number): number => {
    const n = Math.max(1, Math.floor(attempt));
    return Math.min(maxMs, baseMs * Math.pow(factor, Math.min(n - 1, 64)));
  };
  return {
    jitter,
    nominal,
    delay: (attempt) => Math.round(nominal(attempt) * (1 - jitter + 2 * jitter * random())),
  };
}
