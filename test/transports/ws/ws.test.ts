/**
 * DIDComm WebSocket transport: WsClient and WsListener on 127.0.0.1:0. The Transport contract both
 * ways, a 2 KB message intact, text and binary messages, connection tracking and push by id,
 * reconnect with backoff on a ManualClock, heartbeat drop of dead peers, and the faults: server
 * down, oversized and invalid messages, connection limit, plain HTTP and garbage on the port.
 */
import { randomBytes } from 'node:crypto';
import { connect as netConnect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DidcommError } from '../../../src/errors.js';
import { ManualClock } from '../../../src/util/clock.js';
import type { TransportState } from '../../../transports/types.js';
import { WsClient, type WsClientOptions, WsListener, type WsListenerOptions } from '../../../transports/ws/index.js';
import { transportContract, waitUntil } from '../contract.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listener(options: WsListenerOptions = {}): Promise<WsListener> {
  const l = await WsListener.listen({ host: '127.0.0.1', ...options });
  cleanups.push(() => l.close());
  return l;
}

function client(options: WsClientOptions): WsClient {
  const c = new WsClient(options);
  cleanups.push(() => c.close());
  return c;
}

/** A bare `ws` socket (no DIDComm transport) for fault injection. */
async function rawSocket(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<WebSocket> {
  const s = new WebSocket(url, options);
  cleanups.push(async () => void s.terminate());
  await new Promise<void>((resolve, reject) => {
    s.once('open', () => resolve());
    s.once('error', reject);
  });
  return s;
}

async function failure(p: Promise<unknown>): Promise<DidcommError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return e as DidcommError;
  }
  throw new Error('expected a rejection');
}

async function drive(clock: ManualClock, done: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!done() && Date.now() < end) {
    await clock.advance(100);
    await new Promise((r) => setTimeout(r, 10));
  }
  if (!done()) throw new Error('timed out');
}

transportContract('ws (WsClient -> WsListener)', async () => {
  const b = await WsListener.listen({ host: '127.0.0.1' });
  const a = await WsClient.connect({ url: b.address! });
  return { a, b, bAddress: undefined };
});

transportContract('ws (WsListener -> WsClient, by connection id)', async () => {
  const a = await WsListener.listen({ host: '127.0.0.1', path: '/didcomm' });
  const opened = new Promise<string>((resolve) => a.on('connection', (id) => resolve(id)));
  const b = await WsClient.connect({ url: a.address! });
  return { a, b, bAddress: await opened };
});

describe('WebSocket transport', () => {
  it('carries a 2 KB message intact both ways; tracks connections and pushes by id', async () => {
    const l = await listener();
    const events: string[] = [];
    l.on('connection', (id, info) => events.push(`open ${id} ${/^127\.0\.0\.1:\d+$/.test(info.remote)}`));
    l.on('disconnect', (id, code) => events.push(`close ${id} ${code}`));
    const fromClient: Array<[string, string | undefined]> = [];
    l.on('frame', (f, from) => fromClient.push([hex(f), from]));
    const c = client({ url: l.address! });
    await c.whenOnline(5_000);
    const fromServer: Array<[string, string | undefined]> = [];
    c.on('frame', (f, from) => fromServer.push([hex(f), from]));
    const twoKb = new Uint8Array(randomBytes(2048));
    await c.send(twoKb);
    await waitUntil(() => fromClient.length === 1, {});
    expect(fromClient[0]).toEqual([hex(twoKb), 'c1']);
    expect(l.connectionIds).toEqual(['c1']);
    await l.sendTo('c1', twoKb);
    await waitUntil(() => fromServer.length === 1, {});
    expect(fromServer[0]).toEqual([hex(twoKb), l.address]);
    expect((await failure(l.sendTo('c9', twoKb))).code).toBe('ERR_TRANSPORT');
    expect((await failure(l.send(twoKb))).code).toBe('ERR_ARGUMENT');
    await c.close();
    await waitUntil(() => events.length === 2, {});
    expect(events).toEqual(['open c1 true', 'close c1 1000']);
  });

  it('accepts text and binary messages alike; sends JSON as text when asked', async () => {
    const l = await listener({ jsonAsText: true });
    const got: string[] = [];
    l.on('frame', (f) => got.push(Buffer.from(f).toString('utf8')));
    const ids: string[] = [];
    l.on('connection', (id) => ids.push(id));
    const raw = await rawSocket(l.address!);
    const received: Array<[string, boolean]> = [];
    raw.on('message', (d, isBinary) => received.push([String(d), isBinary]));
    raw.send('{"id":"1","body":{"t":"é"}}'); // text
    raw.send(Buffer.from('{"id":"2"}'), { binary: true });
    await waitUntil(() => got.length === 2 && ids.length === 1, {});
    expect(got).toEqual(['{"id":"1","body":{"t":"é"}}', '{"id":"2"}']);
    await l.sendTo(ids[0]!, new TextEncoder().encode('{"ciphertext":"x"}'));
    await l.sendTo(ids[0]!, Uint8Array.of(0xd8, 0x00));
    await waitUntil(() => received.length === 2, {});
    expect(received.map(([, b]) => b)).toEqual([false, true]);
  });

  it('drops a peer that sends an oversized or invalid message (typed error), keeps serving others', async () => {
    const l = await listener({ maxMessageSize: 1000 });
    const errors: string[] = [];
    const closes: number[] = [];
    const frames: number[] = [];
    l.on('error', (e) => errors.push(e.code));
    l.on('disconnect', (_id, code) => closes.push(code));
    l.on('frame', (f) => frames.push(f.length));
    const peerSaw: number[] = [];
    const big = await rawSocket(l.address!);
    big.on('close', (code) => peerSaw.push(code));
    big.send(new Uint8Array(1001));
    await waitUntil(() => closes.length === 1 && peerSaw.length === 1, {});
    const bad = await rawSocket(l.address!);
    bad.on('close', (code) => peerSaw.push(code));
    bad.send(Buffer.from([0xff, 0xfe]), { binary: false }); // text frame that is not UTF-8
    await waitUntil(() => closes.length === 2 && peerSaw.length === 2, {});
    expect(errors).toEqual(['ERR_TOO_LARGE', 'ERR_MALFORMED']);
    expect(peerSaw).toEqual([1009, 1007]); // "message too big", "invalid frame payload data"
    expect(l.connectionIds).toEqual([]);
    const ok = client({ url: l.address! });
    await ok.whenOnline(5_000);
    await ok.send(new Uint8Array(1000));
    expect((await failure(ok.send(new Uint8Array(1_048_577)))).code).toBe('ERR_TOO_LARGE');
    await waitUntil(() => frames.length === 1, {});
    expect(frames).toEqual([1000]);
  });

  it('limits connections (503 at upgrade) and survives plain HTTP and garbage on the port', async () => {
    const l = await listener({ maxConnections: 1 });
    await rawSocket(l.address!);
    await waitUntil(() => l.connectionIds.length === 1, {});
    const refused = await new Promise<string>((resolve) => {
      const s = new WebSocket(l.address!);
      s.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      s.on('error', (e) => resolve(e.message));
      s.on('open', () => resolve('open'));
    });
    expect(refused).toBe('503');
    expect((await fetch(`http://127.0.0.1:${l.port}/`)).status).toBe(426);
    await new Promise<void>((resolve) => {
      const s = netConnect(l.port, '127.0.0.1', () => s.end(Buffer.from([0, 1, 2, 3, 0x0d, 0x0a, 0x0d, 0x0a])));
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    expect(l.state).toBe('online');
    expect(l.connectionIds).toHaveLength(1);
  });

  it('reconnects with backoff on the clock after the server drops the connection', async () => {
    const clock = new ManualClock();
    const l = await listener();
    const c = client({ url: l.address!, clock, reconnect: { initialMs: 1_000, jitter: 0 } });
    await waitUntil(() => c.state === 'online', {});
    const states: TransportState[] = [];
    c.on('state', (s) => states.push(s));
    l.disconnect('c1', 1012);
    await waitUntil(() => c.state === 'offline', {});
    await clock.advance(999);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.state).toBe('offline'); // not before the backoff delay
    expect((await failure(c.send(Uint8Array.of(1)))).code).toBe('ERR_TRANSPORT');
    await drive(clock, () => c.state === 'online');
    expect(states).toEqual(['offline', 'online']);
    expect(l.connectionIds).toEqual(['c2']);
    const got: string[] = [];
    l.on('frame', (f, from) => got.push(`${from}:${hex(f)}`));
    await c.send(Uint8Array.of(0xab));
    await waitUntil(() => got.length === 1, {});
    expect(got).toEqual(['c2:ab']);
  });

  it('reports a server that is down with typed errors and ERR_TIMEOUT, then connects once it is up', async () => {
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const clock = new ManualClock();
    const errors: string[] = [];
    const c = client({ url: `ws://127.0.0.1:${port}/`, clock, reconnect: { initialMs: 500, jitter: 0 } });
    c.on('error', (e) => errors.push(e.code));
    await waitUntil(() => errors.length === 1, {});
    expect(errors).toEqual(['ERR_TRANSPORT']);
    const timedOut = failure(c.whenOnline(300));
    await clock.advance(300);
    expect((await timedOut).code).toBe('ERR_TIMEOUT');
    expect((await failure(c.send(Uint8Array.of(1)))).code).toBe('ERR_TRANSPORT');
    await listener({ port });
    await drive(clock, () => c.state === 'online');
  });

  it('drops peers that stop answering pings (heartbeat on the clock)', async () => {
    const clock = new ManualClock();
    const l = await listener({ clock, heartbeatMs: 1_000 });
    const closed: string[] = [];
    l.on('disconnect', (id) => closed.push(id));
    await rawSocket(l.address!, { autoPong: false }); // c1: dead peer
    const live = client({ url: l.address! }); // c2: answers pings
    await live.whenOnline(5_000);
    await waitUntil(() => l.connectionIds.length === 2, {});
    await clock.advance(1_000); // ping
    await new Promise((r) => setTimeout(r, 50)); // let the pong come back
    await clock.advance(1_000); // c1 did not answer: dropped
    await waitUntil(() => closed.length === 1, {});
    expect(closed).toEqual(['c1']);
    expect(l.connectionIds).toEqual(['c2']);
  });

  it('checks arguments', async () => {
    expect(() => new WsClient({ url: 'http://x/' })).toThrow(DidcommError);
    expect(() => new WsClient({ url: 'nope' })).toThrow(DidcommError);
    const l = await listener();
    expect((await failure(l.sendTo('c1', 'x' as unknown as Uint8Array))).code).toBe('ERR_ARGUMENT');
  });
});
