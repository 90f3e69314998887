/**
 * The server side of the DIDComm HTTP(S) transport (DIDComm Messaging v2.1 §Transports / HTTPS;
 * reference/didcomm-spec.md §1.12) on node:http.
 *
 * - `POST <path>` with a DIDComm `Content-Type` (415 otherwise), a non-empty body of at most
 *   `maxMessageSize` bytes (413 otherwise, with an ERR_TOO_LARGE 'error' event): the frame is
 *   emitted as a 'frame' event from the remote socket address and answered 202 Accepted.
 * - `onRequest` hook (for `return_route`, extensions/return_route): when set, it owns inbound frames
 *   instead of the 'frame' event; the response waits for it, so 202 can mean "stored". It may return
 *   one message `{ reply, mediaType }`, sent back as 200 with that `Content-Type` (HTTP carries at
 *   most one returned message). A thrown DidcommError becomes a 4xx/5xx status.
 * - `GET /` is a health check (200 `{"status":"ok"}`). Malformed requests get 400 and never crash
 *   the server; connection count, header size and request time are bounded.
 * - `send(frame, url)` POSTs to a peer endpoint through an HttpSender (a listener is a whole link).
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type DidcommError, type ErrorCode, err, isDidcommError } from '../../src/errors.js';
import { type Clock, type Timer, systemClock } from '../../src/util/clock.js';
import { Emitter } from '../../src/util/emitter.js';
import type { LinkAddress, Transport, TransportEvents, TransportState } from '../types.js';
import { DEFAULT_HTTP_MTU, HttpSender, type HttpSenderOptions } from './http-sender.js';
import { type DidcommMediaType, parseDidcommMediaType, sniffMediaType } from './media-types.js';

export interface HttpRequestInfo {
  /** Remote socket address `ip:port` (informational; not an endpoint to send to). */
  from: string;
  mediaType: DidcommMediaType;
}

/** What an `onRequest` hook may return: nothing (202) or one return_route message (200). */
export interface HttpReply {
  reply?: Uint8Array;
  mediaType?: string;
}

export type HttpRequestHook = (frame: Uint8Array, info: HttpRequestInfo) => Promise<HttpReply | void> | HttpReply | void;

export interface HttpListenerOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind, e.g. 127.0.0.1; default all interfaces. */
  host?: string;
  /** POST path, default `/`. */
  path?: string;
  /** Largest accepted body (the link mtu), default 1 MiB. */
  maxMessageSize?: number;
  onRequest?: HttpRequestHook;
  /** Longest wait for `onRequest`, ms on the clock (then 503 + ERR_TIMEOUT event). Default 30 s. */
  hookTimeoutMs?: number;
  maxConnections?: number;
  /** node:http limits (real time): headers must arrive within / the request must complete within. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Options of the HttpSender behind `send`. */
  sender?: HttpSenderOptions;
  clock?: Clock;
}

/** Error codes thrown by an `onRequest` hook mapped to HTTP statuses (other DidcommErrors: 400). */
const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  ERR_TOO_LARGE: 413, ERR_NOT_AUTHORIZED: 403, ERR_REFUSED: 403, ERR_RATE_LIMITED: 429, ERR_STORE_FULL: 503,
  ERR_TIMEOUT: 503, ERR_STORE: 500, ERR_TRANSPORT: 502, ERR_ARGUMENT: 500,
};

function remoteOf(socket: Socket): string {
  const ip = socket.remoteAddress ?? 'unknown';
  return `${ip.includes(':') ? `[${ip}]` : ip}:${socket.remotePort ?? 0}`;
}

export class HttpListener extends Emitter<{ [K in keyof TransportEvents]: TransportEvents[K] }> implements Transport {
  readonly kind = 'http-listener';
  readonly mtu: number;
  readonly path: string;
  private readonly options: HttpListenerOptions;
  private readonly clock: Clock;
  private readonly server: Server;
  private readonly sender: HttpSender;
  private current: TransportState = 'offline';
  private url: string | undefined;

  private constructor(options: HttpListenerOptions) {
    super();
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.mtu = options.maxMessageSize ?? DEFAULT_HTTP_MTU;
    if (!Number.isInteger(this.mtu) || this.mtu <= 0) throw err('ERR_ARGUMENT', 'maxMessageSize: expected a positive integer');
    this.path = options.path ?? '/';
    if (!this.path.startsWith('/')) throw err('ERR_ARGUMENT', 'path: must start with /');
    this.sender = new HttpSender({ clock: this.clock, ...options.sender });
    this.sender.on('frame', (f, from) => this.emit('frame', f, from));
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.maxConnections = options.maxConnections ?? 256;
    this.server.headersTimeout = options.headersTimeoutMs ?? 10_000;
    this.server.requestTimeout = options.requestTimeoutMs ?? 30_000;
    this.server.on('clientError', (_e, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  /** Starts a listener and resolves once it accepts connections (ERR_TRANSPORT if it cannot bind). */
  static async listen(options: HttpListenerOptions = {}): Promise<HttpListener> {
    const l = new HttpListener(options);
    await new Promise<void>((resolve, reject) => {
      l.server.once('error', (e) => reject(err('ERR_TRANSPORT', `http: cannot listen: ${e.message}`, { cause: e })));
      l.server.listen(options.port ?? 0, options.host, () => resolve());
    });
    const a = l.server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    l.url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${a.port}${l.path}`;
    l.current = 'online';
    return l;
  }

  /** The endpoint URL (`http://host:port/path`), usable as a DIDComm service endpoint locally. */
  get address(): LinkAddress | undefined {
    return this.url;
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  get state(): TransportState {
    return this.current;
  }

  sendDelay(_size: number): number {
    return 0;
  }

  /** POSTs `frame` to the peer endpoint URL `to` (see HttpSender). */
  async send(frame: Uint8Array, to?: LinkAddress): Promise<void> {
    if (this.current === 'closed') throw err('ERR_TRANSPORT', 'http: closed');
    return this.sender.send(frame, to);
  }

  async close(): Promise<void> {
    if (this.current === 'closed') return;
    this.current = 'closed';
    await this.sender.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    this.emit('state', 'closed');
  }

  private respond(res: ServerResponse, status: number, body?: Uint8Array | string, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.length);
    res.writeHead(status, { 'content-length': String(payload?.length ?? 0), ...headers });
    res.end(payload);
  }

  /** Answers with an error status, reports it as a typed 'error' event, and drains the request. */
  private refuse(req: IncomingMessage, res: ServerResponse, status: number, e: DidcommError, headers: Record<string, string> = {}): void {
    this.emit('error', e);
    this.respond(res, status, undefined, { connection: 'close', ...headers });
    req.resume(); // discard the rest of the body; memory stays bounded
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://listener').pathname;
    } catch {
      this.refuse(req, res, 400, err('ERR_MALFORMED', 'http: bad request target'));
      return;
    }
    if (req.method === 'GET' && pathname === '/') {
      this.respond(res, 200, '{"status":"ok"}', { 'content-type': 'application/json' });
      return;
    }
    if (pathname !== this.path) {
      this.respond(res, 404);
      req.resume();
      return;
    }
    if (req.method !== 'POST') {
      this.respond(res, 405, undefined, { allow: this.path === '/' ? 'GET, POST' : 'POST' });
      req.resume();
      return;
    }
    const mediaType = parseDidcommMediaType(req.headers['content-type']);
    if (!mediaType) {
      this.refuse(req, res, 415, err('ERR_UNSUPPORTED', `http: Content-Type ${String(req.headers['content-type'])} is not a DIDComm media type`));
      return;
    }
    const tooLarge = (size: string): DidcommError => err('ERR_TOO_LARGE', `http: body of ${size} bytes exceeds ${this.mtu}`);
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > this.mtu) {
      this.refuse(req, res, 413, tooLarge(declared));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > this.mtu) {
        over = true;
        chunks.length = 0;
        this.refuse(req, res, 413, tooLarge(`more than ${this.mtu}`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (over) return;
      if (size === 0) {
        this.refuse(req, res, 400, err('ERR_MALFORMED', 'http: empty body'));
        return;
      }
      const body = Buffer.concat(chunks);
      const frame = new Uint8Array(body.buffer, body.byteOffset, body.length);
      this.deliver(frame, { from: remoteOf(req.socket), mediaType }, req, res);
    });
  }

  private deliver(frame: Uint8Array, info: HttpRequestInfo, req: IncomingMessage, res: ServerResponse): void {
    const hook = this.options.onRequest;
    if (!hook) {
      this.emit('frame', frame, info.from);
      this.respond(res, 202);
      return;
    }
    const hookTimeout = this.options.hookTimeoutMs ?? 30_000;
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.clock.setTimer(hookTimeout, () => reject(err('ERR_TIMEOUT', `http: onRequest took more than ${hookTimeout} ms`)));
    });
    Promise.race([Promise.resolve().then(() => hook(frame, info)), timeout])
      .then((result) => {
        timer?.cancel();
        if (!result || result.reply === undefined) {
          this.respond(res, 202);
          return;
        }
        if (!(result.reply instanceof Uint8Array) || result.reply.length === 0) {
          throw err('ERR_ARGUMENT', 'onRequest: reply must be a non-empty Uint8Array');
        }
        const mediaType = result.mediaType === undefined ? sniffMediaType(result.reply) : parseDidcommMediaType(result.mediaType);
        if (!mediaType) throw err('ERR_ARGUMENT', 'onRequest: mediaType is not a DIDComm media type');
        this.respond(res, 200, result.reply, { 'content-type': mediaType });
      })
      .catch((e: unknown) => {
        timer?.cancel();
        const typed = isDidcommError(e) ? e : err('ERR_TRANSPORT', 'http: onRequest hook failed', { cause: e });
        const status = isDidcommError(e) ? STATUS_OF[e.code] ?? 400 : 500;
        const retry: Record<string, string> =
          typed.retryAfterMs === undefined ? {} : { 'retry-after': String(Math.ceil(typed.retryAfterMs / 1000)) };
        this.refuse(req, res, status, typed, retry);
      });
  }
}
