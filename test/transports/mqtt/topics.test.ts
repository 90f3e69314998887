/** Topic scheme, inbox ids, backoff and the bounded send queue (pure units, no broker). */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DidcommError } from '../../../src/errors.js';
import { ManualClock } from '../../../src/util/clock.js';
import {
  ReconnectScheduler, backoffDelay, backoffPolicy, base32Lower, inboxIdForDid, inboxTopic, parseInboxTopic,
  sharedInboxFilter, BoundedSendQueue,
} from '../../../transports/mqtt/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return (e as DidcommError).code;
  }
  return undefined;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('base32Lower (RFC 4648 §10 vectors, lowercase, no padding)', () => {
  it.each([
    ['', ''], ['f', 'my'], ['fo', 'mzxq'], ['foo', 'mzxw6'], ['foob', 'mzxw6yq'], ['fooba', 'mzxw6ytb'], ['foobar', 'mzxw6ytboi'],
  ])('%j -> %j', (input, out) => expect(base32Lower(enc(input))).toBe(out));
});

describe('inboxIdForDid', () => {
  const did = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK';

  it('is base32(SHA-256(did)[0..15]) by default: 24 characters, deterministic', () => {
    const id = inboxIdForDid(did);
    expect(id).toMatch(/^[a-z2-7]{24}$/);
    expect(id).toBe(base32Lower(createHash('sha256').update(did).digest().subarray(0, 15)));
    expect(inboxIdForDid(did)).toBe(id);
    expect(inboxIdForDid('did:key:z6MkotherKey')).not.toBe(id);
  });

  it('uses the DID in clear on request, and a caller-supplied hash', () => {
    expect(inboxIdForDid(did, { clear: true })).toBe(did);
    const id = inboxIdForDid(did, { hash: () => new Uint8Array(32).fill(0) });
    expect(id).toBe('a'.repeat(24));
    expect(codeOf(() => inboxIdForDid(did, { hash: () => new Uint8Array(8) }))).toBe('ERR_ARGUMENT');
  });

  it.each(['', 'did:', 'did:key:', 'DID:key:abc', 'did:key:a/b', 'did:key:a#frag', 'did:key:a+b', 'did:key:a?x=1', 'did:key:a b'])(
    'rejects %j with ERR_ARGUMENT',
    (bad) => expect(codeOf(() => inboxIdForDid(bad))).toBe('ERR_ARGUMENT'),
  );

  it('accepts did:peer:2 and colon-separated method ids', () => {
    expect(() => inboxIdForDid('did:peer:2.Ez6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc.Vz6Mkqo', { clear: true })).not.toThrow();
    expect(() => inboxIdForDid('did:web:example.com:user:alice')).not.toThrow();
  });
});

describe('topics', () => {
  it('builds inbox topics and $share filters, and parses them back', () => {
    expect(inboxTopic('abc')).toBe('didcomm/v1/inbox/abc');
    expect(inboxTopic('abc', 'site/7/didcomm/v1')).toBe('site/7/didcomm/v1/inbox/abc');
    expect(sharedInboxFilter('abc', 'mediators')).toBe('$share/mediators/didcomm/v1/inbox/abc');
    expect(parseInboxTopic('didcomm/v1/inbox/abc')).toBe('abc');
    expect(parseInboxTopic('didcomm/v1/inbox/did:key:z6Mk1')).toBe('did:key:z6Mk1');
    expect(parseInboxTopic('didcomm/v1/inbox/a/b')).toBeUndefined();
    expect(parseInboxTopic('other/inbox/abc')).toBeUndefined();
  });

  it.each(['a/b', 'a+', '#', '', '$x', 'a\u0000b'])('refuses inbox id %j (would be a wildcard or another level)', (id) => {
    expect(codeOf(() => inboxTopic(id))).toBe('ERR_ARGUMENT');
  });

  it('refuses bad prefixes and share groups', () => {
    for (const p of ['', '/x', 'x/', '$SYS/x', 'a/+/b', 'a/#']) expect(codeOf(() => inboxTopic('abc', p))).toBe('ERR_ARGUMENT');
    for (const g of ['', 'a/b', 'a+', '#']) expect(codeOf(() => sharedInboxFilter('abc', g))).toBe('ERR_ARGUMENT');
  });
});

describe('backoff', () => {
  it('grows exponentially up to the cap; jitter only shortens', () => {
    const p = backoffPolicy({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 });
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, p))).toEqual([100, 200, 400, 800, 1000, 1000]);
    const j = backoffPolicy({ initialMs: 1000, maxMs: 1000, jitter: 0.5 });
    expect(backoffDelay(0, j, () => 0)).toBe(1000);
    expect(backoffDelay(0, j, () => 0.999999)).toBe(500);
  });

  it('rejects nonsensical policies', () => {
    expect(codeOf(() => backoffPolicy({ initialMs: 10, maxMs: 5 }))).toBe('ERR_ARGUMENT');
    expect(codeOf(() => backoffPolicy({ factor: 0.5 }))).toBe('ERR_ARGUMENT');
    expect(codeOf(() => backoffPolicy({ jitter: 2 }))).toBe('ERR_ARGUMENT');
  });

  it('schedules one retry at a time on the clock and resets after success', async () => {
    const clock = new ManualClock();
    const r = new ReconnectScheduler(clock, backoffPolicy({ initialMs: 100, maxMs: 1000, jitter: 0 }));
    const fired: number[] = [];
    const t0 = clock.now();
    r.schedule(() => fired.push(clock.now() - t0));
    await clock.advance(99);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual([100]);
    expect(r.schedule(() => fired.push(clock.now() - t0))).toBe(200);
    r.schedule(() => fired.push(clock.now() - t0)); // replaces the pending one (attempt 2: 400 ms)
    await clock.advance(1000);
    expect(fired).toEqual([100, 500]);
    r.reset();
    expect(r.schedule(() => undefined)).toBe(100);
    r.cancel();
    expect(clock.pending).toBe(0);
  });
});

describe('BoundedSendQueue', () => {
  const item = (size: number, tag: string): { size: number; tag: string } => ({ size, tag });

  it('bounds frames and bytes with ERR_STORE_FULL, counting in-flight items', () => {
    const q = new BoundedSendQueue<{ size: number; tag: string }>({ maxFrames: 3, maxBytes: 100 });
    q.enqueue(item(40, 'a'));
    q.enqueue(item(40, 'b'));
    expect(codeOf(() => q.enqueue(item(21, 'x')))).toBe('ERR_STORE_FULL');
    q.enqueue(item(20, 'c'));
    expect(codeOf(() => q.enqueue(item(0, 'y')))).toBe('ERR_STORE_FULL');
    const a = q.next()!;
    expect(q.frames).toBe(3); // in flight still counts
    expect(codeOf(() => q.enqueue(item(1, 'z')))).toBe('ERR_STORE_FULL');
    q.complete(a);
    expect(q.frames).toBe(2);
    expect(q.bytes).toBe(60);
    q.enqueue(item(40, 'd'));
  });

  it('requeues in-flight items at the head in their original order', () => {
    const q = new BoundedSendQueue<{ size: number; tag: string }>({ maxFrames: 10, maxBytes: 1000 });
    for (const t of ['a', 'b', 'c', 'd']) q.enqueue(item(1, t));
    const a = q.next()!;
    const b = q.next()!;
    q.complete(a);
    q.next(); // c
    q.requeueInflight();
    expect(q.isInflight(b)).toBe(false);
    const order: string[] = [];
    for (let x = q.next(); x; x = q.next()) order.push(x.tag);
    expect(order).toEqual(['b', 'c', 'd']);
    expect(q.drain().map((x) => x.tag).sort()).toEqual(['b', 'c', 'd']);
    expect(q.bytes).toBe(0);
  });

  it('rejects bad limits', () => {
    expect(codeOf(() => new BoundedSendQueue({ maxFrames: 0, maxBytes: 1 }))).toBe('ERR_ARGUMENT');
  });
});
