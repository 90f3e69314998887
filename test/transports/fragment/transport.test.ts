import { describe, expect, it } from 'vitest';
import { transportContract } from '../contract.js';
import { ManualClock } from '../../../src/util/clock.js';
import { DidcommError } from '../../../src/errors.js';
import { equalBytes } from '../../../src/util/bytes.js';
import { createMemoryPair, MemoryHub } from '../../../transports/memory.js';
import { FragmentTransport } from '../../../transports/fragment/index.js';
import { encodeData, encodeProbe, messageCrc } from '../../../transports/fragment/header.js';
import { bytesOf, fragmentPair, settle } from './helpers.js';

transportContract('fragment over memory link, mtu 20, ack-on-error', async () => {
  const clock = new ManualClock();
  const { a, b } = createMemoryPair({ clock, mtu: 20, delayMs: 3 });
  return { a: new FragmentTransport(a, { clock }), b: new FragmentTransport(b, { clock }), bAddress: undefined, clock };
});

transportContract('fragment over memory link, mtu 20, one-way, addressed', async () => {
  const clock = new ManualClock();
  const hub = new MemoryHub({ clock, mtu: 20 });
  const a = new FragmentTransport(hub.attach('a'), { clock, mode: 'one-way' });
  const b = new FragmentTransport(hub.attach('b'), { clock, mode: 'one-way' });
  return { a, b, bAddress: 'b', clock };
});

describe('fragment transport', () => {
  it('delivers messages of every size from 0 to a few KB at mtu 20, with sender address', async () => {
    const p = fragmentPair();
    const sizes = [0, 1, 14, 15, 18, 19, 32, 33, 100, 2303, 2304, 2305, 5000];
    for (const [i, n] of sizes.entries()) expect(await settle(p.clock, p.a.send(bytesOf(n, i + 1), 'b'))).toBe('ok');
    expect(p.received.map((r) => r.message.length)).toEqual(sizes);
    for (const [i, n] of sizes.entries()) expect(equalBytes(p.received[i]!.message, bytesOf(n, i + 1))).toBe(true);
    expect(p.received.every((r) => r.from === 'a')).toBe(true);
    expect(p.errorsA.concat(p.errorsB)).toEqual([]);
    expect(p.a.tables).toMatchObject({ inFlight: 0, partials: 0, bufferedBytes: 0, queuedFrames: 0 });
    expect(p.b.tables).toMatchObject({ inFlight: 0, partials: 0, bufferedBytes: 0, queuedFrames: 0 });
  });

  it('proof: 2 KB at mtu 20 with 20 % frame loss arrives intact, repaired selectively', async () => {
    const p = fragmentPair({ faults: { loss: 0.2 }, seed: 2026 });
    let dataReceived = 0;
    p.b.inner.on('frame', (f) => {
      if ((f[0]! & 0x80) === 0) dataReceived++;
    });
    const message = bytesOf(2048, 7);
    expect(await settle(p.clock, p.a.send(message, 'b'))).toBe('ok');
    expect(p.received).toHaveLength(1);
    expect(equalBytes(p.received[0]!.message, message)).toBe(true);
    const fragments = 114;
    const s = p.a.stats.sender;
    expect(s.dataFrames).toBe(p.wire.dataFromA);
    expect(s.dataFrames).toBe(fragments + s.retransmissions);
    // 20 % of 114 is ~23 first-round losses; repairs of repairs add a few more. "Resend everything"
    // would cost at least another 114 per round.
    // Selective: exactly the data fragments the link lost were sent again, nothing else.
    const dataLost = p.wire.dataFromA - dataReceived;
    expect(s.retransmissions).toBe(dataLost);
    expect(s.retransmissions).toBeGreaterThan(15);
    expect(s.retransmissions).toBeLessThan(fragments / 2);
    console.log(
      `2 KB / mtu 20 / 20 % loss: ${fragments} fragments, ${s.retransmissions} retransmitted = ${dataLost} data frames lost ` +
        `(${s.dataFrames} data frames in all, ${(s.dataFrames / fragments).toFixed(2)}x); ` +
        `${p.b.stats.receiver.requestFrames} REQUEST frames, ${s.probes} probes, ${p.b.stats.receiver.acks} ACKs; ${p.hub.stats.lost} frames lost on the link`,
    );
  });

  it('gives up after maxRounds with ERR_TIMEOUT when nothing comes back, and frees the message', async () => {
    const p = fragmentPair({}, { maxRounds: 3, ackTimeoutMs: 1000 });
    p.hub.partition(['b'], { silent: true });
    const started = p.clock.now();
    expect(await settle(p.clock, p.a.send(bytesOf(500), 'b'))).toBe('ERR_TIMEOUT');
    expect(p.a.stats.sender.probes).toBe(3);
    expect(p.clock.now() - started).toBe(4000);
    expect(p.a.tables.inFlight).toBe(0);
  });

  it('one-way sends resolve once on the link and broadcast to every receiver', async () => {
    const clock = new ManualClock();
    const hub = new MemoryHub({ clock, mtu: 20 });
    const a = new FragmentTransport(hub.attach('a'), { clock });
    const rx = ['b', 'c'].map((x) => new FragmentTransport(hub.attach(x), { clock }));
    const got: number[][] = [[], []];
    rx.forEach((t, i) => t.on('frame', (m) => got[i]!.push(m.length)));
    expect(await settle(clock, a.sendOneWay(bytesOf(300)))).toBe('ok');
    await clock.advance(1000);
    expect(got).toEqual([[300], [300]]);
    expect(a.stats.sender.probes).toBe(0);
    expect(rx[0]!.stats.controlFrames + rx[1]!.stats.controlFrames).toBe(0);
  });

  it('waits out the inner duty cycle instead of dropping, and sendDelay says so', async () => {
    const p = fragmentPair({ dutyCycle: { perFrameMs: 1000 } }, { ackTimeoutMs: 5000 });
    const message = bytesOf(200);
    const started = p.clock.now();
    expect(p.a.sendDelay(200)).toBe(0);
    const sending = p.a.send(message, 'b');
    await p.clock.advance(1);
    // 12 fragments at one per second: the estimate covers the rest of the message.
    expect(p.a.sendDelay(200)).toBeGreaterThan(10_000);
    expect(await settle(p.clock, sending)).toBe('ok');
    expect(p.clock.now() - started).toBeGreaterThanOrEqual(11_000);
    expect(equalBytes(p.received[0]!.message, message)).toBe(true);
    expect(p.a.stats.sender.dataFrames).toBe(12);
  });

  it('refuses a message larger than the receiver accepts; the sender gets ERR_TOO_LARGE', async () => {
    const clock = new ManualClock();
    const { a, b } = createMemoryPair({ clock, mtu: 20 });
    const big = new FragmentTransport(a, { clock, maxMessageSize: 4096 });
    const small = new FragmentTransport(b, { clock, maxMessageSize: 1000 });
    const errors: string[] = [];
    small.on('error', (e) => errors.push(e.code));
    expect(await settle(clock, big.send(bytesOf(3000)))).toBe('ERR_TOO_LARGE');
    expect(errors).toContain('ERR_TOO_LARGE');
    expect(small.tables.partials).toBe(0);
    expect(await code(big.send(new Uint8Array(4097)))).toBe('ERR_TOO_LARGE');
  });

  it('suppresses duplicates of a completed message and re-acknowledges', async () => {
    const p = fragmentPair({ faults: { duplicate: 1 } });
    for (let i = 0; i < 5; i++) expect(await settle(p.clock, p.a.send(bytesOf(100, i), 'b'))).toBe('ok');
    await p.clock.advance(1000);
    expect(p.received).toHaveLength(5);
    expect(p.b.stats.receiver.duplicates).toBeGreaterThan(0);
  });

  it('never delivers a message mixed with a stale fragment of an older message with the same id', async () => {
    const clock = new ManualClock();
    const hub = new MemoryHub({ clock, mtu: 20 });
    const raw = hub.attach('a');
    const b = new FragmentTransport(hub.attach('b'), { clock });
    const got: Uint8Array[] = [];
    const errors: string[] = [];
    b.on('frame', (m) => got.push(m));
    b.on('error', (e) => errors.push(e.code));
    const older = bytesOf(40, 1);
    const newer = bytesOf(40, 2);
    const frag = (m: Uint8Array, index: number, ack: boolean) =>
      encodeData({ id: 3, index, last: index === 2, ackWanted: ack, crc: messageCrc(3, m), payload: m.subarray(index * 18, Math.min(40, index * 18 + 18)) });
    // A stale fragment 1 of the older message arrives first, then the newer message in full (one-way).
    await raw.send(frag(older, 1, false), 'b');
    for (const i of [0, 1, 2]) await raw.send(frag(newer, i, false), 'b');
    await clock.advance(100);
    expect(got).toHaveLength(0);
    expect(errors).toContain('ERR_MALFORMED');
    // With ack-on-error the receiver asks again for everything and then gets it right.
    const sender = new FragmentTransport(raw, { clock, firstMessageId: 3 });
    await raw.send(frag(older, 1, true), 'b');
    expect(await settle(clock, sender.send(newer, 'b'))).toBe('ok');
    expect(got.map((m) => equalBytes(m, newer))).toEqual([true]);
  });

  it('answers a PROBE for an unknown message with a request for all of it', async () => {
    const p = fragmentPair();
    p.hub.partition(['b'], { silent: true });
    const sending = p.a.send(bytesOf(100), 'b');
    await p.clock.advance(100);
    p.hub.heal();
    expect(await settle(p.clock, sending)).toBe('ok');
    expect(p.received).toHaveLength(1);
    expect(p.a.stats.sender.probes).toBe(1);
    expect(p.a.stats.sender.retransmissions).toBe(6);
  });

  it('follows the inner state, rejects sends while offline and on close', async () => {
    const p = fragmentPair({ delayMs: 10 });
    const states: string[] = [];
    p.a.on('state', (s) => states.push(s));
    p.hub.partition(['a']);
    expect(p.a.state).toBe('offline');
    expect(await code(p.a.send(Uint8Array.of(1), 'b'))).toBe('ERR_TRANSPORT');
    p.hub.heal();
    const pending = p.a.send(bytesOf(1000), 'b');
    await p.a.close();
    expect(await code(pending)).toBe('ERR_TRANSPORT');
    expect(states).toEqual(['offline', 'online', 'closed']);
    expect(p.a.inner.state).toBe('closed');
  });

  it('bounds the sender table: ERR_STORE_FULL past maxInFlight', async () => {
    const p = fragmentPair({}, { maxInFlight: 2, maxInFlightPerPeer: 2 });
    const sends = [p.a.send(bytesOf(50), 'b'), p.a.send(bytesOf(50), 'b')];
    expect(await code(p.a.send(bytesOf(50), 'b'))).toBe('ERR_STORE_FULL');
    for (const s of sends) expect(await settle(p.clock, s)).toBe('ok');
    expect(p.received).toHaveLength(2);
  });

  it('does not reuse a message id while the receiver may remember it; a send waits for a free id', async () => {
    const p = fragmentPair();
    const started = p.clock.now();
    for (let i = 0; i < 32; i++) expect(await settle(p.clock, p.a.send(Uint8Array.of(i), 'b'))).toBe('ok');
    expect(p.clock.now() - started).toBeLessThan(1000);
    // All 32 ids are now quarantined for dedupeMs + ackTimeoutMs = 18 s + 2 s.
    expect(await settle(p.clock, p.a.send(Uint8Array.of(32), 'b'))).toBe('ok');
    expect(p.clock.now() - started).toBeGreaterThanOrEqual(20_000);
    expect(p.received.map((r) => r.message[0])).toEqual([...Array(33).keys()]);
    // A send waiting for an id is rejected at once by close(), leaving no timer behind.
    for (let i = 0; i < 31; i++) await settle(p.clock, p.a.send(Uint8Array.of(i), 'b'));
    const waiting = p.a.send(Uint8Array.of(99), 'b');
    await p.clock.advance(10);
    expect(p.a.tables.inFlight).toBe(1);
    await p.a.close();
    await p.b.close();
    expect(await code(waiting)).toBe('ERR_TRANSPORT');
    expect(p.clock.pending).toBe(0);
  });

  it('checks its options and arguments', async () => {
    const { a } = createMemoryPair({ mtu: 7 });
    expect(() => new FragmentTransport(a)).toThrowError(DidcommError);
    const { b } = createMemoryPair({ mtu: 20 });
    expect(() => new FragmentTransport(b, { maxMessageSize: 1_000_000 })).toThrowError(DidcommError);
    expect(() => new FragmentTransport(b, { maxInFlightPerPeer: 17 })).toThrowError(DidcommError);
    expect(() => new FragmentTransport(b, { ackTimeoutMs: -1 })).toThrowError(DidcommError);
    const t = new FragmentTransport(b);
    expect(await code(t.send('x' as unknown as Uint8Array))).toBe('ERR_ARGUMENT');
    void encodeProbe;
  });
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return (e as DidcommError).code;
  }
  throw new Error('expected a rejection');
}
