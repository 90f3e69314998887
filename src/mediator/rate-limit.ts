/**
 * Per-key token buckets on the Clock (mediator security: rate limits per sender). Each key's
 * bucket refills at `perSecond` up to `burst`; `take` throws ERR_RATE_LIMITED with `retryAfterMs`
 * (the time until one token is back), which the mediator answers with problem code `e.p.me.res`
 * (and HTTP 429 + Retry-After). Memory is bounded: at most `maxKeys` buckets, least recently used
 * evicted first (an evicted key starts again with a full bucket, the cost of a bound).
 */
import { err } from '../errors.js';
import type { Clock } from '../util/clock.js';
import type { RateLimit } from './types.js';

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly clock: Clock;
  private readonly limit: RateLimit;
  private readonly maxKeys: number;

  constructor(clock: Clock, limit: RateLimit, maxKeys = 100_000) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw err('ERR_ARGUMENT', 'rate limit: perSecond > 0 and burst >= 1 required');
    this.clock = clock;
    this.limit = limit;
    this.maxKeys = maxKeys;
  }

  /** Takes `cost` tokens from `key`'s bucket or throws ERR_RATE_LIMITED (with retryAfterMs). */
  take(key: string, cost = 1): void {
    const now = this.clock.now();
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key); // re-insert: most recently used last
      b.tokens = Math.min(this.limit.burst, b.tokens + ((now - b.at) / 1000) * this.limit.perSecond);
      b.at = now;
    } else {
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
      b = { tokens: this.limit.burst, at: now };
    }
    this.buckets.set(key, b);
    if (b.tokens < cost) {
      const retryAfterMs = Math.max(1, Math.ceil(((cost - b.tokens) / this.limit.perSecond) * 1000));
      throw err('ERR_RATE_LIMITED', `rate limit exceeded; retry in ${retryAfterMs} ms`, { retryAfterMs });
    }
    b.tokens -= cost;
  }

  get size(): number {
    return this.buckets.size;
  }
}
