/**
 * MqttTransport against the embedded aedes broker (MQTT 3.1.1, in-process, port 0): the Transport
 * contract, binary-safe and 2 KB round trips, v5→3.1.1 fallback, QoS 1 delivery across a broker
 * restart with the offline buffer, the buffer bound (ERR_STORE_FULL), expiry while buffered,
 * inbound size limit and argument checks. Reconnect timers run on a ManualClock; only socket I/O
 * uses short real waits.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DidcommError } from '../../../src/errors.js';
import { ManualClock } from '../../../src/util/clock.js';
import { MqttTransport, type MqttTransportOptions } from '../../../transports/mqtt/index.js';
import type { TransportState } from '../../../transports/types.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../../transports/mqtt/embedded-broker.js';
import { transportContract, waitUntil } from '../contract.js';

const RUN = randomBytes(4).toString('hex');
let counter = 0;
const uniquePrefix = (): string => `test/${RUN}-${counter++}/didcomm/v1`;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

let broker: EmbeddedBroker;
const open: MqttTransport[] = [];

beforeAll(async () => {
  broker = await startEmbeddedBroker();
});
afterAll(async () => {
  await broker.close();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
  await broker.start(); // in case a test left it stopped
});

function transport(options: Partial<MqttTransportOptions>): MqttTransport {
  const t = new MqttTransport({ url: broker.url, protocolVersion: 4, ...options });
  open.push(t);
  return t;
}

async function online(...ts: MqttTransport[]): Promise<void> {
  await Promise.all(ts.map((t) => t.whenOnline(5_000)));
}

/** Advances virtual time (reconnect timers) while real socket I/O happens, until `done()`. */
async function drive(clock: ManualClock, done: () => boolean, budgetMs = 10_000): Promise<void> {
  const end = Date.now() + budgetMs;
  while (!done() && Date.now() < end) {
    await clock.advance(100);
    await new Promise((r) => setTimeout(r, 10));
  }
  if (!done()) throw new Error('timed out');
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return (e as DidcommError).code;
  }
  throw new Error('expected a rejection');
}

transportContract('mqtt (embedded aedes, MQTT 3.1.1)', async () => {
  const topicPrefix = uniquePrefix();
  const a = await MqttTransport.connect({ url: broker.url, protocolVersion: 4, did: 'did:example:alice', topicPrefix });
  const b = await MqttTransport.connect({ url: broker.url, protocolVersion: 4, did: 'did:example:bob', topicPrefix });
  return { a, b, bAddress: b.address };
});

describe('MqttTransport on the embedded broker', () => {
  it('carries a 2 KB message and every byte value intact; address is the hashed inbox id', async () => {
    const topicPrefix = uniquePrefix();
    const a = transport({ did: 'did:example:alice', topicPrefix });
    const b = transport({ did: 'did:example:bob', topicPrefix });
    await online(a, b);
    expect(b.address).toMatch(/^[a-z2-7]{24}$/);
    const got: Uint8Array[] = [];
    b.on('frame', (f) => got.push(f));
    const twoKb = new Uint8Array(randomBytes(2048));
    const allBytes = new Uint8Array(256).map((_, i) => i);
    await a.send(twoKb, b.address);
    await a.send(allBytes, b.address);
    await waitUntil(() => got.length === 2, {});
    expect(got.map(hex)).toEqual([hex(twoKb), hex(allBytes)]);
  });

  it('falls back from v5 to 3.1.1 when configured (aedes refuses v5)', async () => {
    const t = transport({ protocolVersion: 5, fallbackToV311: true, did: 'did:example:fb', topicPrefix: uniquePrefix() });
    await t.whenOnline(5_000);
    expect(t.protocolVersion).toBe(4);
  });

  it('without fallback, a v5-refusing broker gives typed errors and ERR_TIMEOUT, never online', async () => {
    const clock = new ManualClock();
    const errors: string[] = [];
    const t = transport({ protocolVersion: 5, did: 'did:example:v5', clock, topicPrefix: uniquePrefix() });
    t.on('error', (e) => errors.push(e.code));
    await waitUntil(() => errors.length > 0, {});
    expect(errors[0]).toBe('ERR_TRANSPORT');
    const timedOut = codeOf(t.whenOnline(2_000));
    await clock.advance(2_000);
    expect(await timedOut).toBe('ERR_TIMEOUT');
    expect(t.state).toBe('offline');
  });

  it('buffers frames sent while the broker is down and delivers them (QoS 1) after a restart', async () => {
    const clock = new ManualClock();
    const topicPrefix = uniquePrefix();
    const reconnect = { initialMs: 200, maxMs: 1_000, jitter: 0 };
    const a = transport({ did: 'did:example:sender', topicPrefix, clock, reconnect });
    const b = transport({ did: 'did:example:receiver', topicPrefix, clock, reconnect, clean: false });
    await online(a, b);
    const states: TransportState[] = [];
    a.on('state', (s) => states.push(s));
    const got: Uint8Array[] = [];
    b.on('frame', (f) => got.push(f));

    await broker.stop();
    await waitUntil(() => a.state === 'offline' && b.state === 'offline', {});
    const frames = [0, 1, 2].map((i) => new Uint8Array(randomBytes(2048)).fill(i, 0, 1));
    let acked = 0;
    const sends = frames.map((f) => a.send(f, b.address).then(() => acked++));
    await new Promise((r) => setTimeout(r, 50));
    expect(acked).toBe(0);
    expect(a.buffered).toMatchObject({ frames: 3, bytes: 3 * 2048 });

    await clock.advance(5_000); // reconnect attempts while the broker is down: still offline, nothing lost
    expect(a.state).toBe('offline');
    expect(a.buffered.frames).toBe(3);

    await broker.start();
    await drive(clock, () => a.state === 'online' && b.state === 'online');
    await Promise.all(sends);
    await waitUntil(() => got.length === 3, {});
    expect(got.map(hex)).toEqual(frames.map(hex));
    expect(a.buffered).toMatchObject({ frames: 0, bytes: 0 });
    expect(states).toEqual(['offline', 'online']);
  });

  it('republishes a frame whose PUBACK was lost with the connection (at-least-once)', async () => {
    const clock = new ManualClock();
    const topicPrefix = uniquePrefix();
    const reconnect = { initialMs: 100, jitter: 0 };
    const a = transport({ did: 'did:example:s4', topicPrefix, clock, reconnect });
    const b = transport({ did: 'did:example:r4', topicPrefix, clock, reconnect, clean: false });
    await online(a, b);
    const aedes = broker.aedes();
    const original = aedes.authorizePublish;
    let held = 0;
    aedes.authorizePublish = () => void held++; // never answers: no PUBACK
    const got: Uint8Array[] = [];
    b.on('frame', (f) => got.push(f));
    let acked = false;
    const sent = a.send(Uint8Array.of(9, 9), b.address).then(() => (acked = true));
    await waitUntil(() => held === 1 && a.buffered.inflight === 1, {});
    await broker.stop();
    await waitUntil(() => a.state === 'offline', {});
    expect(a.buffered).toMatchObject({ frames: 1, inflight: 0 }); // back in the queue
    expect(acked).toBe(false);
    aedes.authorizePublish = original;
    await broker.start();
    await drive(clock, () => a.state === 'online' && b.state === 'online');
    await sent;
    await waitUntil(() => got.length === 1, {});
    expect(got.map(hex)).toEqual(['0909']);
  });

  it('resubscribes after a restart that wiped the broker state', async () => {
    const clock = new ManualClock();
    const topicPrefix = uniquePrefix();
    const reconnect = { initialMs: 100, jitter: 0 };
    const a = transport({ did: 'did:example:s2', topicPrefix, clock, reconnect });
    const b = transport({ did: 'did:example:r2', topicPrefix, clock, reconnect });
    await online(a, b);
    await broker.restart({ keepState: false });
    await waitUntil(() => a.state === 'offline' && b.state === 'offline', {});
    await drive(clock, () => a.state === 'online' && b.state === 'online');
    const got: Uint8Array[] = [];
    b.on('frame', (f) => got.push(f));
    await a.send(Uint8Array.of(7, 7, 7), b.address);
    await waitUntil(() => got.length === 1, {});
    expect(hex(got[0]!)).toBe('070707');
  });

  it('bounds the offline buffer: past N frames or M bytes send rejects ERR_STORE_FULL; close rejects the rest', async () => {
    await broker.stop();
    const t = transport({ did: 'did:example:full', topicPrefix: uniquePrefix(), defaultTo: 'peer', offlineBuffer: { maxFrames: 3, maxBytes: 100 } });
    const pending = [t.send(new Uint8Array(40)), t.send(new Uint8Array(40))].map((p) => p.catch((e: DidcommError) => e.code));
    expect(await codeOf(t.send(new Uint8Array(21)))).toBe('ERR_STORE_FULL'); // bytes
    pending.push(t.send(new Uint8Array(20)).catch((e: DidcommError) => e.code));
    expect(await codeOf(t.send(new Uint8Array(0)))).toBe('ERR_STORE_FULL'); // frames
    expect(t.buffered).toMatchObject({ frames: 3, bytes: 100 });
    await t.close();
    expect(await Promise.all(pending)).toEqual(['ERR_TRANSPORT', 'ERR_TRANSPORT', 'ERR_TRANSPORT']);
  });

  it('rejects a buffered frame whose expiry passed while offline (ERR_EXPIRED), delivers the others', async () => {
    const clock = new ManualClock();
    const topicPrefix = uniquePrefix();
    const reconnect = { initialMs: 100, jitter: 0 };
    const a = transport({ did: 'did:example:s3', topicPrefix, clock, reconnect });
    const b = transport({ did: 'did:example:r3', topicPrefix, clock, reconnect, clean: false });
    await online(a, b);
    await broker.stop();
    await waitUntil(() => a.state === 'offline', {});
    const stale = codeOf(a.send(Uint8Array.of(1), b.address, { messageExpiryInterval: 1 }));
    const fresh = a.send(Uint8Array.of(2), b.address, { messageExpiryInterval: 3600 });
    await clock.advance(1_500);
    const got: Uint8Array[] = [];
    b.on('frame', (f) => got.push(f));
    await broker.start();
    await drive(clock, () => a.state === 'online' && b.state === 'online');
    expect(await stale).toBe('ERR_EXPIRED');
    await fresh;
    await waitUntil(() => got.length === 1, {});
    expect(hex(got[0]!)).toBe('02');
  });

  it('drops inbound frames above its mtu with an ERR_TOO_LARGE error event', async () => {
    const topicPrefix = uniquePrefix();
    const a = transport({ did: 'did:example:big', topicPrefix });
    const b = transport({ did: 'did:example:small', topicPrefix, maxMessageSize: 1000 });
    await online(a, b);
    const errors: string[] = [];
    const frames: number[] = [];
    b.on('error', (e) => errors.push(e.code));
    b.on('frame', (f) => frames.push(f.length));
    await a.send(new Uint8Array(2000), b.address);
    await a.send(new Uint8Array(1000), b.address);
    await waitUntil(() => frames.length === 1, {});
    expect(frames).toEqual([1000]);
    expect(errors).toEqual(['ERR_TOO_LARGE']);
  });

  it('checks arguments: destination required, no wildcards or levels, bytes only', async () => {
    const t = transport({ did: 'did:example:args', topicPrefix: uniquePrefix() });
    await online(t);
    expect(await codeOf(t.send(Uint8Array.of(1)))).toBe('ERR_ARGUMENT');
    for (const to of ['a/b', '+', '#', '']) expect(await codeOf(t.send(Uint8Array.of(1), to))).toBe('ERR_ARGUMENT');
    expect(await codeOf(t.send('text' as unknown as Uint8Array, 'peer'))).toBe('ERR_ARGUMENT');
    expect(await codeOf(t.send(Uint8Array.of(1), 'peer', { messageExpiryInterval: -1 }))).toBe('ERR_ARGUMENT');
    expect(() => new MqttTransport({ url: 'http://x' })).toThrow(DidcommError);
    expect(() => new MqttTransport({ url: broker.url, shareGroup: 'g' })).toThrow(DidcommError);
  });

  it('sends to defaultTo when no address is given', async () => {
    const topicPrefix = uniquePrefix();
    const b = transport({ did: 'did:example:mediator', topicPrefix });
    await online(b);
    const a = transport({ did: 'did:example:device', topicPrefix, defaultTo: b.address! });
    await online(a);
    const got: number[] = [];
    b.on('frame', (f) => got.push(f[0]!));
    await a.send(Uint8Array.of(42));
    await waitUntil(() => got.length === 1, {});
    expect(got).toEqual([42]);
  });
});
