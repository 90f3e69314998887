/**
 * The server side of the DIDComm WebSocket transport (DIDComm Messaging v2.1 §Transports /
 * WebSocket; reference/didcomm-spec.md §1.12), on `ws` 8: exactly one DIDComm message per WebSocket
 * message, binary or text accepted (sent as binary; JSON optionally as text). Trust comes from
 * DIDComm, not from the socket: there is no authentication here.
 *
 * Connected peers are tracked by connection id, so a mediator can push to a live connection later
 * (pickup 3.0 live mode, `return_route` over WebSocket): inbound frames carry the connection id as
 * their `from` address, `send(frame, id)` / `sendTo(id, frame)` write to it, and 'connection' /
 * 'disconnect' events report the lifecycle. Bounded: message size (`maxPayload`, close 1009),
 * connection count (503 at upgrade), bytes queued per connection (ERR_STORE_FULL), and dead peers
 * are dropped by a ping/pong heartbeat on the Clock.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { type DidcommError, err } from '../../src/errors.js';
import { abytes } from '../../src/util/bytes.js';
import { type Clock, type Timer, systemClock } from '../../src/util/clock.js';
import { Emitter } from '../../src/util/emitter.js';
import type { LinkAddress, Transport, TransportEvents, TransportState } from '../types.js';
import { DEFAULT_WS_MTU, frameOf, isTextJson, sendOn } from './ws-frames.js';

export interface WsListenerOptions {
  port?: number;
  host?: string;
  /** Upgrade path, default `/`. */
  path?: string;
  /** Largest message (the link mtu; ws `maxPayload`), default 1 MiB. */
  maxMessageSize?: number;
  maxConnections?: number;
  /** Most bytes queued for one connection before `sendTo` rejects with ERR_STORE_FULL. Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Ping period; a peer that did not answer the previous ping is dropped. 0 disables. Default 30 s. */
  heartbeatMs?: number;
  /** Send frames that start with `{` as text messages (default: every frame binary). */
  jsonAsText?: boolean;
  clock?: Clock;
}

export interface WsConnectionInfo {
  /** Remote socket address `ip:port` (informational). */
  remote: string;
}

export type WsListenerEvents = { [K in keyof TransportEvents]: TransportEvents[K] } & {
  connection: (connectionId: string, info: WsConnectionInfo) => void;
  disconnect: (connectionId: string, code: number) => void;
};

interface Connection {
  socket: WebSocket;
  alive: boolean;
}

export class WsListener extends Emitter<WsListenerEvents> implements Transport {
  readonly kind = 'ws-listener';
  readonly mtu: number;
  private readonly options: WsListenerOptions;
  private readonly clock: Clock;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly connections = new Map<string, Connection>();
  private readonly maxBuffered: number;
  private nextId = 1;
  private heartbeat: Timer | undefined;
  private current: TransportState = 'offline';
  private url: string | undefined;

  private constructor(options: WsListenerOptions) {
    super();
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.mtu = options.maxMessageSize ?? DEFAULT_WS_MTU;
    if (!Number.isInteger(this.mtu) || this.mtu <= 0) throw err('ERR_ARGUMENT', 'maxMessageSize: expected a positive integer');
    this.maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    const maxConnections = options.maxConnections ?? 1024;
    this.http = createServer((_req, res) => res.writeHead(426, { 'content-length': '0' }).end());
    this.http.on('clientError', (_e, socket) => socket.destroy());
    this.wss = new WebSocketServer({
      server: this.http,
      path: options.path ?? '/',
      maxPayload: this.mtu,
      perMessageDeflate: false,
      verifyClient: (_info, cb) => cb(this.connections.size < maxConnections, 503, 'too many connections'),
    });
    this.wss.on('connection', (socket, req) => this.accept(socket, `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`));
    this.wss.on('error', () => undefined); // re-emitted by the http server, handled at listen()
  }

  static async listen(options: WsListenerOptions = {}): Promise<WsListener> {
    const l = new WsListener(options);
    await new Promise<void>((resolve, reject) => {
      l.http.once('error', (e) => reject(err('ERR_TRANSPORT', `ws: cannot listen: ${e.message}`, { cause: e })));
      l.http.listen(options.port ?? 0, options.host, () => resolve());
    });
    const a = l.http.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    l.url = `ws://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${a.port}${options.path ?? '/'}`;
    l.current = 'online';
    l.armHeartbeat();
    return l;
  }

  /** The listener's URL, `ws://host:port/path` (what clients connect to). */
  get address(): LinkAddress | undefined {
    return this.url;
  }

  get port(): number {
    return (this.http.address() as AddressInfo | null)?.port ?? 0;
  }

  get state(): TransportState {
    return this.current;
  }

  /** Ids of the live connections. */
  get connectionIds(): string[] {
    return [...this.connections.keys()];
  }

  sendDelay(_size: number): number {
    return 0;
  }

  /** Sends to connection `to` (required: a listener has many peers). */
  async send(frame: Uint8Array, to?: LinkAddress): Promise<void> {
    if (to === undefined) throw err('ERR_ARGUMENT', 'to: a connection id is required');
    return this.sendTo(to, frame);
  }

  /** Writes one message to a live connection; resolves once it is handed to the socket. */
  async sendTo(connectionId: string, frame: Uint8Array): Promise<void> {
    if (this.current === 'closed') throw err('ERR_TRANSPORT', 'ws: closed');
    abytes(frame, 'frame');
    if (frame.length > this.mtu) throw err('ERR_TOO_LARGE', `frame of ${frame.length} bytes exceeds mtu ${this.mtu}`);
    const c = this.connections.get(connectionId);
    if (!c) throw err('ERR_TRANSPORT', `ws: no live connection ${String(connectionId)}`);
    if (c.socket.bufferedAmount + frame.length > this.maxBuffered) {
      throw err('ERR_STORE_FULL', `ws: ${c.socket.bufferedAmount} bytes already queued for ${connectionId}`);
    }
    await sendOn(c.socket, frame, (this.options.jsonAsText ?? false) && isTextJson(frame));
  }

  /** Closes one connection (e.g. a peer that failed DIDComm checks). */
  disconnect(connectionId: string, code = 1000): void {
    this.connections.get(connectionId)?.socket.close(code);
  }

  async close(): Promise<void> {
    if (this.current === 'closed') return;
    this.current = 'closed';
    this.heartbeat?.cancel();
    for (const c of this.connections.values()) c.socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.emit('state', 'closed');
  }

  private accept(socket: WebSocket, remote: string): void {
    const id = `c${this.nextId++}`;
    const c: Connection = { socket, alive: true };
    this.connections.set(id, c);
    socket.on('pong', () => (c.alive = true));
    socket.on('message', (data: RawData) => {
      c.alive = true;
      this.emit('frame', frameOf(data), id);
    });
    socket.on('error', (e: Error & { code?: string }) => {
      const tooLarge = e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
      const typed: DidcommError = tooLarge
        ? err('ERR_TOO_LARGE', `ws: ${id} sent a message above ${this.mtu} bytes`, { cause: e })
        : err('ERR_MALFORMED', `ws: ${id}: ${e.message}`, { cause: e });
      this.emit('error', typed);
    });
    socket.on('close', (code: number) => {
      this.connections.delete(id);
      this.emit('disconnect', id, code);
    });
    this.emit('connection', id, { remote });
  }

  private armHeartbeat(): void {
    const period = this.options.heartbeatMs ?? 30_000;
    if (period <= 0 || this.current === 'closed') return;
    this.heartbeat = this.clock.setTimer(period, () => {
      for (const c of this.connections.values()) {
        if (!c.alive) {
          c.socket.terminate();
          continue;
        }
        c.alive = false;
        c.socket.ping();
      }
      this.armHeartbeat();
    });
  }
}
