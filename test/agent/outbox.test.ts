/**
 * The persistent outbox on its own (src/agent/outbox.ts): store-before-send, exponential backoff
 * with jitter on the ManualClock, ack waits, expiry, permanent failures, the three overflow
 * policies (every eviction an event), and restart with persisted transmission counts.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { createPrng } from '../../src/util/prng.js';
import { MemoryKvStore } from '../../src/store/kv-memory.js';
import { err } from '../../src/errors.js';
import { Outbox, type OutboxRecord } from '../../src/agent/outbox.js';
import { createBackoff } from '../../src/agent/backoff.js';
import type { OutboxOptions } from '../../src/agent/types.js';
import { codeOf } from './helpers.js';

const PEER = 'did:example:peer';

const T0 = new ManualClock().now();

function rec(id: string, o: Partial<OutboxRecord> = {}): Omit<OutboxRecord, 'attempts'> {
  return { id, peer: PEER, message: { id, type: 'https://example.org/x/1.0/y', body: { pad: 'x'.repeat(20) } }, delivery: 'ack', priority: 0, createdAt: T0, expiresAt: T0 + 24 * 3600_000, ...o };
}

interface Harness {
  clock: ManualClock;
  store: MemoryKvStore;
  outbox: Outbox;
  sends: Array<{ id: string; at: number; attempts: number }>;
  dropped: string[];
  delivered: string[];
  fail: { code: Parameters<typeof err>[0] } | undefined;
}

function harness(o: OutboxOptions = {}, store = new MemoryKvStore(), clock = new ManualClock(), ackTimeoutMs = 5000): Harness {
  const h: Harness = { clock, store, outbox: undefined as unknown as Outbox, sends: [], dropped: [], delivered: [], fail: undefined };
  const prng = createPrng(3);
  h.outbox = new Outbox(store, clock, createBackoff({ baseMs: 1000, factor: 2, maxMs: 8000, jitter: 0, ...o.backoff }, () => prng.next()), async (r) => {
    h.sends.push({ id: r.id, at: clock.now() - start, attempts: r.attempts });
    if (h.fail) throw err(h.fail.code, 'injected');
    return { ackTimeoutMs };
  }, o);
  const start = clock.now();
  h.outbox.on('dropped', (r, reason) => h.dropped.push(`${r.id}:${reason}`));
  h.outbox.on('delivered', (r) => h.delivered.push(r.id));
  return h;
}

describe('outbox', () => {
  it('stores before sending, and retries with exponential backoff capped at maxMs', async () => {
    const h = harness();
    h.fail = { code: 'ERR_TRANSPORT' };
    let storedBeforeSend = false;
    h.outbox.on('queued', () => void h.store.count('ob/').then((n) => (storedBeforeSend = n === 1 && h.sends.length === 0)));
    await h.outbox.start();
    await h.outbox.enqueue(rec('m1'));
    await h.clock.advance(40_000);
    expect(storedBeforeSend).toBe(true);
    expect(h.sends.map((s) => s.at)).toEqual([0, 1000, 3000, 7000, 15000, 23000, 31000, 39000]);
    expect(h.sends.map((s) => s.attempts)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('jitter keeps every delay within ±jitter of the nominal delay', async () => {
    const h = harness({ backoff: { jitter: 0.5 } });
    h.fail = { code: 'ERR_TIMEOUT' };
    await h.outbox.start();
    await h.outbox.enqueue(rec('m1'));
    await h.clock.advance(120_000);
    const gaps = h.sends.slice(1).map((s, i) => s.at - h.sends[i]!.at);
    const nominal = [1000, 2000, 4000, 8000, 8000, 8000];
    gaps.slice(0, 6).forEach((g, i) => {
      expect(g).toBeGreaterThanOrEqual(nominal[i]! * 0.5);
      expect(g).toBeLessThanOrEqual(nominal[i]! * 1.5);
    });
    expect(new Set(gaps).size).toBeGreaterThan(3); // really jittered
  });

  it('waits for the ack (the link ack timeout) and stops at the ack; a wrong peer cannot ack', async () => {
    const h = harness({}, undefined, undefined, 5000);
    await h.outbox.start();
    await h.outbox.enqueue(rec('m1'));
    await h.clock.advance(12_000);
    expect(h.sends.map((s) => s.at)).toEqual([0, 5000, 10000]);
    expect(h.outbox.acknowledge('did:example:other', ['m1'])).toBe(0);
    expect(h.outbox.acknowledge(PEER, ['m1'])).toBe(1);
    await h.clock.advance(60_000);
    expect(h.sends).toHaveLength(3);
    expect(h.delivered).toEqual(['m1']);
    expect(await h.store.count('ob/')).toBe(0);
  });

  it("delivery 'transport' is done when the link takes it", async () => {
    const h = harness();
    await h.outbox.start();
    await h.outbox.enqueue(rec('r1', { delivery: 'transport' }));
    await h.clock.advance(10);
    expect(h.delivered).toEqual(['r1']);
    expect(h.outbox.size).toBe(0);
  });

  it('drops an entry at its expiry, and at once on a permanent error; both are events', async () => {
    const h = harness();
    h.fail = { code: 'ERR_TRANSPORT' };
    await h.outbox.start();
    await h.outbox.enqueue(rec('old', { expiresAt: h.clock.now() + 10_000 }));
    await h.clock.advance(20_000);
    expect(h.dropped).toEqual(['old:expired']);
    expect(h.sends.every((s) => s.at < 10_000)).toBe(true);
    h.fail = { code: 'ERR_TOO_LARGE' };
    await h.outbox.enqueue(rec('big'));
    await h.clock.advance(10);
    expect(h.dropped).toEqual(['old:expired', 'big:failed']);
    expect(h.outbox.stats.dropped).toMatchObject({ expired: 1, failed: 1 });
    expect(await h.store.count('ob/')).toBe(0);
  });

  it("'reject-new' refuses when full, nothing is dropped", async () => {
    const h = harness({ maxEntries: 2, overflow: 'reject-new' });
    await h.outbox.enqueue(rec('a'));
    await h.outbox.enqueue(rec('b'));
    expect(await codeOf(h.outbox.enqueue(rec('c')))).toBe('ERR_STORE_FULL');
    expect(h.outbox.stats.refused).toBe(1);
    expect(h.dropped).toEqual([]);
    expect(h.outbox.pending().map((p) => p.id)).toEqual(['a', 'b']);
  });

  it("'drop-oldest' evicts the oldest, by count and by bytes, each eviction an event", async () => {
    const h = harness({ maxEntries: 2, overflow: 'drop-oldest' });
    for (const id of ['a', 'b', 'c', 'd']) await h.outbox.enqueue(rec(id));
    expect(h.outbox.pending().map((p) => p.id)).toEqual(['c', 'd']);
    expect(h.dropped).toEqual(['a:overflow', 'b:overflow']);
    expect(await h.store.count('ob/')).toBe(2);
    const size = h.outbox.bytes / 2;
    const hb = harness({ maxBytes: Math.ceil(size * 3.5), overflow: 'drop-oldest' });
    for (const id of ['a', 'b', 'c', 'd', 'e']) await hb.outbox.enqueue(rec(id));
    expect(hb.outbox.pending().map((p) => p.id)).toEqual(['c', 'd', 'e']);
    expect(hb.outbox.bytes).toBeLessThanOrEqual(Math.ceil(size * 3.5));
    expect(await codeOf(hb.outbox.enqueue(rec('huge', { message: { id: 'huge', type: 't', body: { x: 'y'.repeat(10_000) } } })))).toBe('ERR_TOO_LARGE');
  });

  it("'priority' evicts the lowest priority (oldest first) and refuses what would rank below everything", async () => {
    const h = harness({ maxEntries: 3, overflow: 'priority' });
    await h.outbox.enqueue(rec('hi', { priority: 5 }));
    await h.outbox.enqueue(rec('lo1', { priority: 1 }));
    await h.outbox.enqueue(rec('lo2', { priority: 1 }));
    await h.outbox.enqueue(rec('mid', { priority: 3 }));
    expect(h.dropped).toEqual(['lo1:overflow']);
    expect(await codeOf(h.outbox.enqueue(rec('least', { priority: 0 })))).toBe('ERR_STORE_FULL');
    expect(h.outbox.pending().map((p) => p.id)).toEqual(['hi', 'lo2', 'mid']);
  });

  it('survives a restart: entries reload in order, transmission counts keep growing', async () => {
    const store = new MemoryKvStore();
    const clock = new ManualClock();
    const h1 = harness({}, store, clock);
    await h1.outbox.start();
    for (const id of ['a', 'b', 'c']) await h1.outbox.enqueue(rec(id));
    await clock.advance(6000); // each sent twice (0 and after the 5 s ack timeout)
    h1.outbox.stop();
    expect(h1.sends.filter((s) => s.id === 'a').map((s) => s.attempts)).toEqual([1, 2]);
    const h2 = harness({}, store, clock);
    await h2.outbox.start();
    expect(h2.outbox.pending().map((p) => p.id)).toEqual(['a', 'b', 'c']);
    await clock.advance(10);
    expect(h2.sends.map((s) => `${s.id}:${s.attempts}`)).toEqual(['a:3', 'b:3', 'c:3']);
  });

  it('a store failure before a transmission is reported and retried later, never losing the entry', async () => {
    const store = new MemoryKvStore();
    const h = harness({}, store);
    const errors: string[] = [];
    h.outbox.on('error', (e) => errors.push(e.code));
    await h.outbox.start();
    await h.outbox.enqueue(rec('m1', { delivery: 'transport' }));
    const put = store.put.bind(store);
    let failures = 1;
    store.put = async (k, v) => {
      if (failures-- > 0) throw err('ERR_STORE', 'disk I/O error');
      return put(k, v);
    };
    await h.clock.advance(10);
    expect(errors).toEqual(['ERR_STORE']);
    expect(h.sends).toHaveLength(0);
    await h.clock.advance(5000);
    expect(h.delivered).toEqual(['m1']);
    expect(await store.count('ob/')).toBe(0);
  });

  it('a record damaged on disk is removed and reported, not fatal', async () => {
    const store = new MemoryKvStore();
    await store.put('ob/000000000001', new TextEncoder().encode('{not json'));
    const h = harness({}, store);
    const errors: string[] = [];
    h.outbox.on('error', (e) => errors.push(e.code));
    await h.outbox.start();
    expect(errors).toEqual(['ERR_STORE']);
    expect(await store.count('ob/')).toBe(0);
  });
});
