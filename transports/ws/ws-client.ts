/**
 * The client side of the DIDComm WebSocket transport (DIDComm Messaging v2.1 §Transports /
 * WebSocket) on `ws` 8: a Transport connected to one URL (point-to-point: `to` is ignored, inbound
 * frames come `from` the URL). One DIDComm message per WebSocket message; binary or text accepted.
 *
 * It reconnects with exponential backoff on a Clock (transports/mqtt/backoff.ts) and reports
 * 'state' online/offline. While offline `send` rejects with ERR_TRANSPORT (the agent's outbox
 * retries); the bytes queued on a live socket are bounded (ERR_STORE_FULL). Trust comes from
 * DIDComm, not from the socket.
 */
import { type RawData, WebSocket } from 'ws';
import { type DidcommError, err } from '../../src/errors.js';
import { abytes } from '../../src/util/bytes.js';
import { type Clock, type Timer, systemClock } from '../../src/util/clock.js';
import { Emitter } from '../../src/util/emitter.js';
import type { LinkAddress, Transport, TransportEvents, TransportState } from '../types.js';
import { type BackoffPolicy, ReconnectScheduler, backoffPolicy } from '../mqtt/backoff.js';
import { DEFAULT_WS_MTU, frameOf, isTextJson, sendOn } from './ws-frames.js';

export interface WsClientOptions {
  /** ws:// or wss:// URL of the peer (mediator) endpoint. */
  url: string;
  /** Largest message (the link mtu; ws `maxPayload`), default 1 MiB. */
  maxMessageSize?: number;
  /** Most bytes queued on the socket before `send` rejects with ERR_STORE_FULL. Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Opening-handshake timeout per attempt (ws timer), default 10 s. */
  handshakeTimeoutMs?: number;
  /** Send frames that start with `{` as text messages (default: every frame binary). */
  jsonAsText?: boolean;
  reconnect?: Partial<BackoffPolicy>;
  clock?: Clock;
  random?: () => number;
}

export class WsClient extends Emitter<{ [K in keyof TransportEvents]: TransportEvents[K] }> implements Transport {
  readonly kind = 'ws';
  readonly mtu: number;
  readonly address: LinkAddress | undefined = undefined;
  /** The peer's URL; inbound frames are reported `from` it. */
  readonly url: string;
  private readonly options: WsClientOptions;
  private readonly clock: Clock;
  private readonly reconnector: ReconnectScheduler;
  private readonly maxBuffered: number;
  private socket: WebSocket | undefined;
  private current: TransportState = 'offline';
  private closing: Promise<void> | undefined;

  constructor(options: WsClientOptions) {
    super();
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw err('ERR_ARGUMENT', 'url: not a URL');
    }
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw err('ERR_ARGUMENT', 'url: expected ws:// or wss://');
    this.url = options.url;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.mtu = options.maxMessageSize ?? DEFAULT_WS_MTU;
    if (!Number.isInteger(this.mtu) || this.mtu <= 0) throw err('ERR_ARGUMENT', 'maxMessageSize: expected a positive integer');
    this.maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.reconnector = new ReconnectScheduler(this.clock, backoffPolicy(options.reconnect), options.random);
    this.open();
  }

  /** Creates a client and waits until it is online. */
  static async connect(options: WsClientOptions, timeoutMs = 10_000): Promise<WsClient> {
    const c = new WsClient(options);
    try {
      await c.whenOnline(timeoutMs);
    } catch (e) {
      await c.close();
      throw e;
    }
    return c;
  }

  get state(): TransportState {
    return this.current;
  }

  /** Resolves when online; ERR_TIMEOUT after `timeoutMs` on the clock, ERR_TRANSPORT on close. */
  whenOnline(timeoutMs = 10_000): Promise<void> {
    if (this.current === 'online') return Promise.resolve();
    if (this.current === 'closed') return Promise.reject(err('ERR_TRANSPORT', 'ws: closed'));
    return new Promise((resolve, reject) => {
      let timer: Timer | undefined;
      const off = this.on('state', (s) => {
        if (s === 'offline') return;
        off();
        timer?.cancel();
        if (s === 'online') resolve();
        else reject(err('ERR_TRANSPORT', 'ws: closed'));
      });
      timer = this.clock.setTimer(timeoutMs, () => {
        off();
        reject(err('ERR_TIMEOUT', `ws: not online after ${timeoutMs} ms`));
      });
    });
  }

  sendDelay(_size: number): number {
    return 0;
  }

  /** Sends one message to the peer (`to` is ignored: the link is point-to-point). */
  async send(frame: Uint8Array, _to?: LinkAddress): Promise<void> {
    if (this.current === 'closed') throw err('ERR_TRANSPORT', 'ws: closed');
    abytes(frame, 'frame');
    if (frame.length > this.mtu) throw err('ERR_TOO_LARGE', `frame of ${frame.length} bytes exceeds mtu ${this.mtu}`);
    const socket = this.socket;
    if (this.current !== 'online' || !socket) throw err('ERR_TRANSPORT', 'ws: offline');
    if (socket.bufferedAmount + frame.length > this.maxBuffered) {
      throw err('ERR_STORE_FULL', `ws: ${socket.bufferedAmount} bytes already queued`);
    }
    await sendOn(socket, frame, (this.options.jsonAsText ?? false) && isTextJson(frame));
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.reconnector.cancel();
    const socket = this.socket;
    this.socket = undefined;
    this.setState('closed');
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(1000);
      await closed;
    }
  }

  private setState(next: TransportState): void {
    if (this.current === next || this.current === 'closed') return;
    this.current = next;
    this.emit('state', next);
  }

  private open(): void {
    if (this.current === 'closed') return;
    const socket = new WebSocket(this.url, {
      maxPayload: this.mtu,
      perMessageDeflate: false,
      handshakeTimeout: this.options.handshakeTimeoutMs ?? 10_000,
    });
    this.socket = socket;
    socket.on('open', () => {
      if (this.socket !== socket) return;
      this.reconnector.reset();
      this.setState('online');
    });
    socket.on('message', (data: RawData) => {
      if (this.socket === socket) this.emit('frame', frameOf(data), this.url);
    });
    socket.on('error', (e: Error & { code?: string }) => {
      if (this.socket !== socket) return;
      const typed: DidcommError = e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
        ? err('ERR_TOO_LARGE', `ws: the peer sent a message above ${this.mtu} bytes`, { cause: e })
        : err('ERR_TRANSPORT', `ws: ${e.message}`, { cause: e });
      this.emit('error', typed);
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.setState('offline');
      this.reconnector.schedule(() => this.open());
    });
  }
}
