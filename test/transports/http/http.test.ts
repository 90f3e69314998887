/**
 * DIDComm HTTP transport: HttpSender and HttpListener on 127.0.0.1:0. The Transport contract, a
 * 2 KB message intact with its media type, return_route replies, 307-only redirects, and the
 * faults: endpoint down, timeout (ManualClock), 413, 415, 400, 404/405, error statuses with their
 * codes, hook timeout, and malformed raw requests that must not take the listener down.
 */
import { randomBytes } from 'node:crypto';
import { type Server, createServer, request } from 'node:http';
import { type AddressInfo, connect as netConnect, createServer as createNetServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DidcommError, err } from '../../../src/errors.js';
import { ManualClock } from '../../../src/util/clock.js';
import {
  HttpListener, type HttpListenerOptions, HttpSender, type HttpSenderOptions, httpStatusOf,
  type HttpRequestInfo,
} from '../../../transports/http/index.js';
import { transportContract, waitUntil } from '../contract.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listener(options: HttpListenerOptions = {}): Promise<HttpListener> {
  const l = await HttpListener.listen({ host: '127.0.0.1', ...options });
  cleanups.push(() => l.close());
  return l;
}

function sender(options: HttpSenderOptions = {}): HttpSender {
  const s = new HttpSender(options);
  cleanups.push(() => s.close());
  return s;
}

async function rawServer(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
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

/** Sends raw bytes on a TCP connection and returns what comes back before the server closes. */
function rawExchange(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = netConnect(port, '127.0.0.1', () => s.end(bytes));
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
  });
}

transportContract('http (HttpSender -> HttpListener)', async () => {
  const b = await HttpListener.listen({ host: '127.0.0.1' });
  return { a: new HttpSender(), b, bAddress: b.address };
});

transportContract('http (HttpListener -> HttpListener)', async () => {
  const a = await HttpListener.listen({ host: '127.0.0.1' });
  const b = await HttpListener.listen({ host: '127.0.0.1', path: '/didcomm' });
  return { a, b, bAddress: b.address };
});

describe('HTTP transport', () => {
  it('carries a 2 KB message intact with its DIDComm media type; the listener is healthy on GET /', async () => {
    const seen: Array<[string, HttpRequestInfo]> = [];
    const l = await listener({ path: '/dc', onRequest: (f, info) => void seen.push([hex(f), info]) });
    const s = sender();
    const twoKb = new Uint8Array(randomBytes(2048));
    twoKb[0] = 0xd8; // compact (CBOR tag), not '{'
    const jwe = new TextEncoder().encode(JSON.stringify({ protected: 'e30', recipients: [], iv: 'x', ciphertext: 'y'.repeat(2000), tag: 'z' }));
    const plain = new TextEncoder().encode('{"id":"1","type":"t","body":{"ciphertext":"nested, not top level"}}');
    await s.send(twoKb, l.address);
    await s.send(jwe, l.address);
    await s.send(plain, l.address);
    await s.send(plain, l.address, { mediaType: 'didcomm-signed+json' });
    expect(seen.map(([f]) => f)).toEqual([hex(twoKb), hex(jwe), hex(plain), hex(plain)]);
    expect(seen.map(([, i]) => i.mediaType)).toEqual([
      'application/didcomm-compact', 'application/didcomm-encrypted+json', 'application/didcomm-plain+json', 'application/didcomm-signed+json',
    ]);
    expect(seen[0]![1].from).toMatch(/^127\.0\.0\.1:\d+$/);
    const health = await fetch(`http://127.0.0.1:${l.port}/`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it('return_route: the hook hands back one message, post returns it and send emits it from the URL', async () => {
    const l = await listener({ onRequest: (f) => ({ reply: Uint8Array.of(0xa1, ...f), mediaType: 'application/didcomm-compact' }) });
    const s = sender();
    const result = await s.post(Uint8Array.of(1, 2), l.address);
    expect(result.status).toBe(200);
    expect(result.replyMediaType).toBe('application/didcomm-compact');
    expect(hex(result.reply!)).toBe('a10102');
    const frames: Array<[string, string | undefined]> = [];
    s.on('frame', (f, from) => frames.push([hex(f), from]));
    await s.send(Uint8Array.of(3), l.address);
    expect(frames).toEqual([['a103', l.address]]);
    const small = sender({ maxReplySize: 2 });
    expect((await failure(small.post(Uint8Array.of(1, 2), l.address))).code).toBe('ERR_TOO_LARGE');
  });

  it('maps hook errors to statuses and the sender maps statuses to codes (403, 429 + Retry-After, 500)', async () => {
    let next: unknown;
    const l = await listener({ onRequest: () => { throw next; } });
    const s = sender();
    const errors: string[] = [];
    l.on('error', (e) => errors.push(e.code));
    next = err('ERR_NOT_AUTHORIZED', 'no');
    let e = await failure(s.send(Uint8Array.of(1), l.address));
    expect([e.code, httpStatusOf(e)]).toEqual(['ERR_TRANSPORT', 403]);
    next = err('ERR_RATE_LIMITED', 'slow down', { retryAfterMs: 2000 });
    e = await failure(s.send(Uint8Array.of(1), l.address));
    expect([e.code, httpStatusOf(e), e.retryAfterMs]).toEqual(['ERR_RATE_LIMITED', 429, 2000]);
    next = new TypeError('bug in the app');
    e = await failure(s.send(Uint8Array.of(1), l.address));
    expect([e.code, httpStatusOf(e)]).toEqual(['ERR_TRANSPORT', 500]);
    expect(errors).toEqual(['ERR_NOT_AUTHORIZED', 'ERR_RATE_LIMITED', 'ERR_TRANSPORT']);
  });

  it('answers 503 when the hook does not finish in time (virtual time)', async () => {
    const clock = new ManualClock();
    let called = false;
    const l = await listener({ clock, hookTimeoutMs: 5_000, onRequest: () => { called = true; return new Promise(() => undefined); } });
    const p = failure(sender().send(Uint8Array.of(1), l.address));
    await waitUntil(() => called, {});
    await clock.advance(5_000);
    expect(httpStatusOf(await p)).toBe(503);
  });

  it('refuses oversized bodies with 413 / ERR_TOO_LARGE, declared or chunked, and emits a typed error', async () => {
    const l = await listener({ maxMessageSize: 1000 });
    const errors: string[] = [];
    let frames = 0;
    l.on('error', (e) => errors.push(e.code));
    l.on('frame', () => frames++);
    const e = await failure(sender().send(new Uint8Array(2000).fill(1), l.address));
    expect([e.code, httpStatusOf(e)]).toEqual(['ERR_TOO_LARGE', 413]);
    const status = await new Promise<number>((resolve) => {
      const req = request(l.address!, { method: 'POST', headers: { 'content-type': 'application/didcomm-compact' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', () => resolve(-1));
      for (let i = 0; i < 4; i++) req.write(Buffer.alloc(400, 2)); // chunked, no Content-Length
      req.end();
    });
    expect(status).toBe(413);
    expect(errors).toEqual(['ERR_TOO_LARGE', 'ERR_TOO_LARGE']);
    await sender().send(new Uint8Array(1000), l.address);
    expect(frames).toBe(1);
  });

  it('answers 415 for non-DIDComm content types, 400 for empty bodies, 404 and 405 elsewhere', async () => {
    const l = await listener({ path: '/in' });
    const errors: string[] = [];
    l.on('error', (e) => errors.push(e.code));
    const post = (ct: string | undefined, body: string, path = '/in'): Promise<number> =>
      fetch(`http://127.0.0.1:${l.port}${path}`, { method: 'POST', body, headers: ct ? { 'content-type': ct } : {} }).then((r) => r.status);
    expect(await post('text/plain', 'x')).toBe(415);
    expect(await post('application/json', '{}')).toBe(415);
    expect(await post(undefined, 'x')).toBe(415);
    expect(await post('application/didcomm-plain+json', '')).toBe(400);
    expect(await post('application/didcomm-plain+json; charset=utf-8', '{}')).toBe(202);
    expect(await post('didcomm-encrypted+json', '{}')).toBe(202); // bare type = application/...
    expect(await post('application/didcomm-compact', 'x', '/other')).toBe(404);
    expect((await fetch(`http://127.0.0.1:${l.port}/in`, { method: 'PUT', body: 'x' })).status).toBe(405);
    expect(errors).toEqual(['ERR_UNSUPPORTED', 'ERR_UNSUPPORTED', 'ERR_UNSUPPORTED', 'ERR_MALFORMED']);
  });

  it('survives malformed and abandoned requests', async () => {
    const l = await listener();
    const got: number[] = [];
    l.on('frame', (f) => got.push(f.length));
    expect(await rawExchange(l.port, 'GARBAGE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawExchange(l.port, Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]))).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawExchange(l.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431|^HTTP\/1\.1 400/);
    // Declares 100 bytes, sends 3 and hangs up.
    await rawExchange(l.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/didcomm-compact\r\nContent-Length: 100\r\n\r\nabc');
    expect(await rawExchange(l.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/didcomm-compact\r\nContent-Length: nope\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    await sender().send(Uint8Array.of(5, 5), l.address);
    expect(got).toEqual([2]);
    expect(l.state).toBe('online');
  });

  it('follows 307 only, and not forever', async () => {
    const l = await listener();
    const got: string[] = [];
    l.on('frame', (f) => got.push(hex(f)));
    const r307 = await rawServer((req, res) => { req.resume(); res.writeHead(307, { location: l.address! }).end(); });
    const r302 = await rawServer((req, res) => { req.resume(); res.writeHead(302, { location: l.address! }).end(); });
    const loop = await rawServer((req, res) => { req.resume(); res.writeHead(307, { location: req.url! }).end(); });
    const s = sender();
    await s.send(Uint8Array.of(0x30, 7), r307.url);
    expect(got).toEqual(['3007']);
    const e302 = await failure(s.send(Uint8Array.of(1), r302.url));
    expect([e302.code, httpStatusOf(e302)]).toEqual(['ERR_TRANSPORT', 302]);
    expect((await failure(s.send(Uint8Array.of(1), loop.url))).code).toBe('ERR_TRANSPORT');
    expect(got).toHaveLength(1);
  });

  it('rejects with ERR_TRANSPORT when the endpoint is down, ERR_TIMEOUT when it never answers', async () => {
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    expect((await failure(sender().send(Uint8Array.of(1), `http://127.0.0.1:${port}/`))).code).toBe('ERR_TRANSPORT');

    let arrived = false;
    const silent = await rawServer((req) => { req.resume(); arrived = true; });
    const clock = new ManualClock();
    const s = sender({ clock, timeoutMs: 3_000 });
    const p = failure(s.send(Uint8Array.of(1), silent.url));
    await waitUntil(() => arrived, {});
    await clock.advance(3_000);
    expect((await p).code).toBe('ERR_TIMEOUT');

    const pending = failure(s.send(Uint8Array.of(2), silent.url));
    await s.close();
    expect((await pending).code).toBe('ERR_TRANSPORT');
  });

  it('checks arguments: URL scheme, media type, bytes', async () => {
    const s = sender();
    for (const to of [undefined, 'not a url', 'ftp://x/', 'mqtt://x']) {
      expect((await failure(s.send(Uint8Array.of(1), to))).code).toBe('ERR_ARGUMENT');
    }
    expect((await failure(s.send(Uint8Array.of(1), 'http://127.0.0.1:9/', { mediaType: 'text/plain' }))).code).toBe('ERR_ARGUMENT');
    expect((await failure(s.send([1] as unknown as Uint8Array, 'http://127.0.0.1:9/'))).code).toBe('ERR_ARGUMENT');
    expect((await failure(s.send(new Uint8Array(0), 'http://127.0.0.1:9/'))).code).toBe('ERR_ARGUMENT');
    expect(() => new HttpSender({ mediaType: 'application/json' })).toThrow(DidcommError);
  });
});
