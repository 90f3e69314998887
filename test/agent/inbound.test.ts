/**
 * The inbound pipeline's rules (src/agent/dispatcher.ts, dedupe.ts): problem reports with the
 * right codes (unsupported type, expired, too old for the replay window, too large), never a
 * problem report about a problem report, no ack loops, a bounded replay window that survives
 * restarts, and the protocol modules' parsers rejecting malformed bodies.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { MemoryHub } from '../../transports/memory.js';
import { MemoryKvStore } from '../../src/store/kv-memory.js';
import { defaultCrypto } from '../../src/crypto/default.js';
import { Dedupe } from '../../src/agent/dedupe.js';
import { PROBLEM_REPORT_TYPE } from '../../src/protocols/report-problem.js';
import { batch, parseReadings, report, REPORT_TYPE } from '../../src/protocols/telemetry.js';
import { parseRequest, parseResult, request, REQUEST_TYPE, result } from '../../src/protocols/command.js';
import type { Message } from '../../src/message/message.js';
import { pack } from '../../src/envelope/index.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { codeOf, drive, identities, makeAgent, resolverFor, until } from './helpers.js';

const NOTE = 'https://example.org/note/1.0/note';

async function pair(o: { maxReceiveBytes?: number } = {}) {
  const clock = new ManualClock();
  const hub = new MemoryHub({ clock, mtu: 1 << 20 });
  const frames: Array<{ from: string; size: number }> = [];
  hub.on('transmit', (f, from) => frames.push({ from, size: f.length }));
  const [a, b] = identities(2);
  const known = [a!, b!];
  const addr = { [a!.did]: 'a', [b!.did]: 'b' };
  const alice = makeAgent({ id: a!, clock, known, transport: hub.attach('a'), peers: addr });
  const bob = makeAgent({ id: b!, clock, known, transport: hub.attach('b'), peers: addr, ...(o.maxReceiveBytes ? { extra: { maxReceiveBytes: o.maxReceiveBytes } } : {}) });
  const problems = { a: [] as string[], b: [] as string[] };
  alice.on('problem', (p) => problems.a.push(`${p.direction}:${p.code}`));
  bob.on('problem', (p) => problems.b.push(`${p.direction}:${p.code}`));
  const dropped: string[] = [];
  alice.on('dropped', (e) => dropped.push(`${e.reason}:${e.error?.code}`));
  const notes: number[] = [];
  bob.handle(NOTE, (inb) => void notes.push(inb.message.body!.n as number));
  await alice.start();
  await bob.start();
  return { clock, hub, frames, a: a!, b: b!, alice, bob, problems, dropped, notes };
}

describe('inbound rules', () => {
  it('an unknown message type is refused with e.p.msg.unsupported; the sender stops retrying', async () => {
    const w = await pair();
    await w.alice.send({ type: 'https://example.org/unknown/1.0/thing', to: [w.b.did], body: {} });
    await until(w.clock, () => w.dropped.length === 1);
    expect(w.problems.b).toEqual(['sent:e.p.msg.unsupported']);
    expect(w.problems.a).toEqual(['received:e.p.msg.unsupported']);
    expect(w.dropped).toEqual(['rejected:ERR_UNSUPPORTED']);
  });

  it('never answers a problem report with a problem report, and never acks an ack', async () => {
    const w = await pair();
    // a malformed problem report (bad code) from an authenticated peer: refused locally, not answered
    await w.alice.send({ type: PROBLEM_REPORT_TYPE, to: [w.b.did], pthid: 'x', body: { code: 'NOT A CODE' } }, { delivery: 'transport' });
    await w.clock.advance(10_000);
    expect(w.frames.filter((f) => f.from === 'b')).toHaveLength(0);
    expect(w.problems.b).toEqual(['local:e.p.msg']);
    // a message asking for an ack: one ack comes back, and nothing answers the ack
    await w.alice.send({ type: NOTE, to: [w.b.did], body: { n: 1 } });
    await w.clock.advance(60_000);
    expect(w.frames.map((f) => f.from)).toEqual(['a', 'a', 'b']);
    expect(w.notes).toEqual([1]);
  });

  it('refuses an expired message (e.p.req.time) without handling it', async () => {
    const w = await pair();
    const now = Math.floor(w.clock.now() / 1000);
    const m: Message = { id: 'late-1', type: NOTE, from: w.a.did, to: [w.b.did], body: { n: 2 }, created_time: now - 120, expires_time: now - 60 };
    // packed by hand: the sender's own outbox never transmits an expired message
    const secrets = new SecretsStore();
    secrets.addFromJson(w.a);
    const bytes = (await pack({ crypto: defaultCrypto, resolver: resolverFor([w.a, w.b]), secrets }, m, { mode: 'authcrypt', to: [w.b.did] })).bytes;
    await w.hub.attach('x').send(bytes, 'b');
    await w.clock.advance(60_000);
    expect(w.notes).toEqual([]);
    expect(w.problems.b).toEqual(['sent:e.p.req.time']);
    expect(w.problems.a).toEqual(['received:e.p.req.time']);
  });

  it('refuses a message over max_receive_bytes (e.p.me.res.storage.message_too_big); once disclosed, the sender never sends one', async () => {
    const w = await pair({ maxReceiveBytes: 4000 });
    await w.alice.send({ type: NOTE, to: [w.b.did], body: { n: 1, pad: 'x'.repeat(5000) } }, { ttlMs: 20_000 });
    await until(w.clock, () => w.problems.a.length > 0);
    expect(w.problems.b[0]).toBe('sent:e.p.me.res.storage.message_too_big'); // to the JWE's skid, unopened
    expect(w.problems.a[0]).toBe('received:e.p.me.res.storage.message_too_big');
    await w.clock.advance(30_000);
    expect(w.dropped).toEqual(['expired:undefined']); // the report cannot name the (encrypted) id
    await drive(w.clock, w.alice.discover(w.b.did));
    expect(w.alice.peers.state(w.b.did).maxReceiveBytes).toBe(4000);
    await w.alice.send({ type: NOTE, to: [w.b.did], body: { n: 2, pad: 'x'.repeat(5000) } });
    await until(w.clock, () => w.dropped.length === 2);
    expect(w.dropped[1]).toBe('failed:ERR_TOO_LARGE');
    expect(w.notes).toEqual([]);
  });

  it('on a shared medium, frames for others are ignored quietly: no delivery, no problem reports', async () => {
    const clock = new ManualClock();
    const hub = new MemoryHub({ clock, mtu: 4096 });
    const from: string[] = [];
    hub.on('transmit', (_f, a) => from.push(a));
    const [a, b, e] = identities(3);
    const known = [a!, b!, e!];
    const all = { [a!.did]: null, [b!.did]: null, [e!.did]: null }; // broadcast: everyone hears everything
    const alice = makeAgent({ id: a!, clock, known, transport: hub.attach('a'), peers: all, link: { shared: true } });
    const bob = makeAgent({ id: b!, clock, known, transport: hub.attach('b'), peers: all, link: { shared: true } });
    const eve = makeAgent({ id: e!, clock, known, transport: hub.attach('e'), peers: all, link: { shared: true } });
    const seen = { b: 0, e: 0 };
    bob.on('message', () => seen.b++);
    eve.on('message', () => seen.e++);
    bob.handle(NOTE, () => undefined);
    eve.handle(NOTE, () => undefined);
    for (const x of [alice, bob, eve]) await x.start();
    await alice.report({ seq: 1 }, { to: b!.did }); // signed: readable by all, bound to bob
    await alice.send({ type: NOTE, to: [b!.did], body: { n: 1 } }); // authcrypt to bob
    await alice.send({ type: NOTE, to: [b!.did], body: { n: 2 } }, { telemetry: 'signed' }); // signed, explicit `to`
    await until(clock, () => alice.outbox.size === 0);
    await clock.advance(60_000);
    expect(seen.b).toBe(3);
    expect(seen.e).toBe(0);
    expect(from.filter((x) => x === 'e')).toEqual([]);
    const st = eve.stats() as { inbound: { unopened: number; notForUs: number } };
    expect(st.inbound.unopened + st.inbound.notForUs).toBeGreaterThanOrEqual(3);
  });

  it('trust ping answers with the round-trip time; an unreachable peer times out', async () => {
    const w = await pair();
    expect(await drive(w.clock, w.alice.ping(w.b.did))).toBe(0);
    w.hub.partition(['b'], { silent: true });
    expect(await codeOf(drive(w.clock, w.alice.ping(w.b.did, { timeoutMs: 30_000 })))).toBe('ERR_TIMEOUT');
  });
});

describe('replay window (dedupe)', () => {
  const m = (id: string, created?: number, sent?: number): Message => ({ id, type: NOTE, ...(created !== undefined ? { created_time: created } : {}), ...(sent ? { sent_count: sent } : {}) });

  it('remembers ids per sender across restarts; tells retries from replays', async () => {
    const clock = new ManualClock();
    const store = new MemoryKvStore();
    const d1 = new Dedupe(store, clock, defaultCrypto);
    await d1.start();
    const now = Math.floor(clock.now() / 1000);
    const v = await d1.check('did:example:a', m('x1', now));
    expect(v.kind).toBe('new');
    await d1.begin(v as Extract<typeof v, { kind: 'new' }>);
    await d1.complete((v as Extract<typeof v, { kind: 'new' }>).record, { id: 'r1', type: 'reply' });
    expect((await d1.check('did:example:b', m('x1', now))).kind).toBe('new'); // another sender
    const d2 = new Dedupe(store, clock, defaultCrypto);
    await d2.start();
    expect((await d2.check('did:example:a', m('x1', now))).kind).toBe('replay');
    const retry = await d2.check('did:example:a', m('x1', now, 2));
    expect(retry.kind).toBe('retry');
    expect((retry as Extract<typeof retry, { kind: 'retry' }>).record.stored.r).toEqual({ id: 'r1', type: 'reply' });
  });

  it('a handler interrupted by a crash gets the message again once, flagged redelivered', async () => {
    const clock = new ManualClock();
    const store = new MemoryKvStore();
    const d1 = new Dedupe(store, clock, defaultCrypto);
    await d1.start();
    const v = await d1.check('s', m('y1'));
    await d1.begin(v as Extract<typeof v, { kind: 'new' }>); // ...and the process dies in the handler
    const d2 = new Dedupe(store, clock, defaultCrypto);
    await d2.start();
    const again = await d2.check('s', m('y1'));
    expect(again).toMatchObject({ kind: 'new', redelivered: true });
  });

  it('is bounded: evicts the oldest and refuses what it may have forgotten; purges by time', async () => {
    const clock = new ManualClock();
    const store = new MemoryKvStore();
    const d = new Dedupe(store, clock, defaultCrypto, { maxEntries: 3, windowMs: 3600_000 });
    await d.start();
    const t = Math.floor(clock.now() / 1000);
    for (let i = 0; i < 5; i++) {
      const v = await d.check('s', m(`z${i}`, t - 100 + i));
      await d.begin(v as Extract<typeof v, { kind: 'new' }>);
    }
    expect(d.size).toBe(3);
    expect(d.evicted).toBe(2);
    expect(await store.count('dd/i/')).toBe(3);
    // z0 and z1 are forgotten: a replay of them is refused as too old, not accepted as new
    expect((await d.check('s', m('z0', t - 100))).kind).toBe('too-old');
    expect((await d.check('s', m('z1', t - 99))).kind).toBe('too-old');
    expect((await d.check('s', m('fresh', t))).kind).toBe('new');
    expect((await d.check('s', m('ancient', t - 7200))).kind).toBe('too-old');
    await clock.advance(2 * 3600_000);
    await d.purge();
    expect(await store.count('dd/')).toBe(1); // only the floor is left
  });
});

describe('protocol messages', () => {
  it('telemetry: flat readings only, bounded batches', () => {
    expect(parseReadings(report('1', 'did:example:a', 'did:example:b', { ts: 1, temp: 20.5, ok: true, unit: 'C', none: null }))).toHaveLength(1);
    expect(parseReadings(batch('2', undefined, undefined, [{ seq: 1 }, { seq: 2 }]))).toEqual([{ seq: 1 }, { seq: 2 }]);
    expect(() => parseReadings({ id: '3', type: REPORT_TYPE, body: { nested: { x: 1 } } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' }));
    expect(() => parseReadings({ id: '4', type: REPORT_TYPE, body: {} })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' }));
    expect(() => parseReadings({ id: '5', type: 'https://didcomm.org/telemetry/1.0/batch', body: { readings: Array.from({ length: 1001 }, () => ({ a: 1 })) } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' }));
    expect(() => report('6', undefined, undefined, { bad: [1] as unknown as number })).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
    expect(() => batch('7', undefined, undefined, [])).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
  });

  it('command: request/result round trip; bad names and statuses are refused', () => {
    const req = request('c1', 'did:example:c', 'did:example:a', { command: 'relay', target: 'pump-1', args: { on: true } });
    expect(parseRequest(req)).toEqual({ command: 'relay', target: 'pump-1', args: { on: true } });
    const res = result('r1', req, 'did:example:a', { status: 'ok', result: { on: true } });
    expect(res.thid).toBe('c1');
    expect(res.to).toEqual(['did:example:c']);
    expect(parseResult(res)).toEqual({ status: 'ok', result: { on: true } });
    expect(() => parseRequest({ id: 'x', type: REQUEST_TYPE, body: { command: 'rm -rf /' } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' }));
    expect(() => parseResult({ id: 'y', type: 'https://didcomm.org/command/1.0/result', thid: 'c1', body: { status: 'maybe' } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MESSAGE' }));
    expect(() => request('z', undefined, 'did:example:a', { command: '' })).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
  });
});
