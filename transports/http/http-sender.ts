/**
 * The client side of the DIDComm HTTP(S) transport (DIDComm Messaging v2.1 §Transports / HTTPS;
 * reference/didcomm-spec.md §1.12): each frame is one POST to the peer's endpoint URL with
 * `Content-Type` set to its DIDComm media type. Any 2xx is success (202 Accepted recommended);
 * only temporary redirects (307) are followed; everything else rejects with the HTTP status in the
 * error's `cause` (`httpStatusOf`). The link address is the endpoint URL.
 *
 * `return_route` (extensions/return_route): a receiver may hand back at most one message in the
 * response body. `post` returns it; `send` emits it as a 'frame' event from the endpoint URL. The
 * reply is read with a size bound, and the whole exchange has a timeout on the Clock.
 */
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { DidcommError, type ErrorCode, err } from '../../src/errors.js';
import { abytes } from '../../src/util/bytes.js';
import { type Clock, systemClock } from '../../src/util/clock.js';
import { Emitter } from '../../src/util/emitter.js';
import type { LinkAddress, Transport, TransportEvents, TransportState } from '../types.js';
import { DIDCOMM_MEDIA_TYPES, type DidcommMediaType, assertDidcommMediaType, parseDidcommMediaType, sniffMediaType } from './media-types.js';

export const DEFAULT_HTTP_MTU = 1024 * 1024;

export interface HttpSenderOptions {
  /** Largest frame (request body), default 1 MiB. */
  maxMessageSize?: number;
  /** Largest return_route reply accepted, default = maxMessageSize. */
  maxReplySize?: number;
  /** Media type of every frame; default: sniffed per frame (`sniffMediaType`). */
  mediaType?: string;
  /** Whole-exchange timeout (redirects included), ms on the clock. Default 15 s. */
  timeoutMs?: number;
  /** Most 307 redirects followed per send, default 3. */
  maxRedirects?: number;
  /** Most concurrent connections per endpoint host (further POSTs wait in the pool), default 16. */
  maxSockets?: number;
  clock?: Clock;
}

export interface HttpPostOptions {
  mediaType?: string;
}

export interface HttpPostResult {
  status: number;
  /** The return_route reply, when the response carried a DIDComm message. */
  reply?: Uint8Array;
  replyMediaType?: DidcommMediaType;
}

/** The HTTP status a transport error carries in its `cause`, if any. */
export function httpStatusOf(e: unknown): number | undefined {
  const cause = e instanceof DidcommError ? (e.cause as { status?: unknown } | undefined) : undefined;
  return typeof cause?.status === 'number' ? cause.status : undefined;
}

function statusError(status: number, retryAfter: string | undefined): DidcommError {
  const code: ErrorCode = status === 413 ? 'ERR_TOO_LARGE' : status === 429 ? 'ERR_RATE_LIMITED' : 'ERR_TRANSPORT';
  const seconds = retryAfter !== undefined && /^\d+$/.test(retryAfter) ? Number(retryAfter) : undefined;
  return err(code, `http: the endpoint answered ${status}`, {
    cause: { status },
    retryAfterMs: seconds === undefined ? undefined : seconds * 1000,
  });
}

function endpointUrl(value: unknown): URL {
  if (typeof value !== 'string') throw err('ERR_ARGUMENT', 'to: expected an http(s) URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw err('ERR_ARGUMENT', 'to: not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw err('ERR_ARGUMENT', 'to: expected http: or https:');
  return url;
}

export class HttpSender extends Emitter<{ [K in keyof TransportEvents]: TransportEvents[K] }> implements Transport {
  readonly kind: string = 'http';
  readonly mtu: number;
  readonly address: LinkAddress | undefined = undefined;
  private readonly maxReplySize: number;
  private readonly mediaType: DidcommMediaType | undefined;
  private readonly timeoutMs: number;
  private readonly maxRedirects: number;
  private readonly clock: Clock;
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;
  private readonly inflight = new Set<(e: DidcommError) => void>();
  private current: TransportState = 'online';

  constructor(options: HttpSenderOptions = {}) {
    super();
    const positive = (v: number | undefined, d: number, label: string): number => {
      const n = v ?? d;
      if (!Number.isInteger(n) || n <= 0) throw err('ERR_ARGUMENT', `${label}: expected a positive integer`);
      return n;
    };
    this.mtu = positive(options.maxMessageSize, DEFAULT_HTTP_MTU, 'maxMessageSize');
    this.maxReplySize = positive(options.maxReplySize, this.mtu, 'maxReplySize');
    this.timeoutMs = positive(options.timeoutMs, 15_000, 'timeoutMs');
    this.maxRedirects = options.maxRedirects ?? 3;
    this.mediaType = options.mediaType === undefined ? undefined : assertDidcommMediaType(options.mediaType);
    this.clock = options.clock ?? systemClock;
    const maxSockets = positive(options.maxSockets, 16, 'maxSockets');
    this.httpAgent = new HttpAgent({ keepAlive: true, maxSockets });
    this.httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets });
  }

  get state(): TransportState {
    return this.current;
  }

  sendDelay(_size: number): number {
    return 0;
  }

  /** POSTs `frame` to `to` (the endpoint URL); a return_route reply is emitted as a 'frame' from `to`. */
  async send(frame: Uint8Array, to?: LinkAddress, options: HttpPostOptions = {}): Promise<void> {
    const result = await this.post(frame, to, options);
    if (result.reply) this.emit('frame', result.reply, to);
  }

  /** POSTs `frame` to the endpoint `to` and returns the status and the return_route reply, if any. */
  async post(frame: Uint8Array, to: LinkAddress | undefined, options: HttpPostOptions = {}): Promise<HttpPostResult> {
    if (this.current === 'closed') throw err('ERR_TRANSPORT', 'http: closed');
    abytes(frame, 'frame');
    if (frame.length > this.mtu) throw err('ERR_TOO_LARGE', `frame of ${frame.length} bytes exceeds mtu ${this.mtu}`);
    const url = endpointUrl(to);
    const mediaType =
      options.mediaType !== undefined ? assertDidcommMediaType(options.mediaType) : this.mediaType ?? sniffMediaType(frame);
    return new Promise<HttpPostResult>((resolve, reject) => {
      let done = false;
      let abortCurrent: (e: DidcommError) => void = () => undefined;
      const finish = (e: DidcommError | undefined, result?: HttpPostResult): void => {
        if (done) return;
        done = true;
        timer.cancel();
        this.inflight.delete(abort);
        if (e) reject(e);
        else resolve(result!);
      };
      const abort = (e: DidcommError): void => {
        abortCurrent(e);
        finish(e);
      };
      const timer = this.clock.setTimer(this.timeoutMs, () => abort(err('ERR_TIMEOUT', `http: no answer within ${this.timeoutMs} ms`)));
      this.inflight.add(abort);
      const attempt = (target: URL, redirectsLeft: number): void => {
        const req = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, {
          method: 'POST',
          agent: target.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
          headers: { 'content-type': mediaType, 'content-length': frame.length, accept: DIDCOMM_MEDIA_TYPES.join(', ') },
        });
        abortCurrent = (e) => req.destroy(e);
        req.on('error', (e) => finish(e instanceof DidcommError ? e : err('ERR_TRANSPORT', `http: ${e.message}`, { cause: e })));
        req.on('response', (res) => {
          const status = res.statusCode ?? 0;
          if (status === 307 && typeof res.headers.location === 'string') {
            res.resume();
            let next: URL;
            try {
              next = endpointUrl(new URL(res.headers.location, target).href);
            } catch (e) {
              finish(err('ERR_TRANSPORT', 'http: bad redirect location', { cause: e }));
              return;
            }
            if (redirectsLeft <= 0) finish(err('ERR_TRANSPORT', 'http: too many redirects', { cause: { status } }));
            else attempt(next, redirectsLeft - 1);
            return;
          }
          if (status < 200 || status > 299) {
            res.resume();
            const ra = res.headers['retry-after'];
            finish(statusError(status, typeof ra === 'string' ? ra : undefined));
            return;
          }
          this.readReply(res, status, finish);
        });
        req.end(Buffer.from(frame.buffer, frame.byteOffset, frame.length));
      };
      attempt(url, this.maxRedirects);
    });
  }

  /** Reads a 2xx body with a size bound; a DIDComm-typed non-empty body is the return_route reply. */
  private readReply(res: IncomingMessage, status: number, finish: (e: DidcommError | undefined, r?: HttpPostResult) => void): void {
    const replyMediaType = parseDidcommMediaType(res.headers['content-type']);
    const declared = Number(res.headers['content-length'] ?? 0);
    const tooLarge = (): DidcommError => err('ERR_TOO_LARGE', `http: reply exceeds ${this.maxReplySize} bytes`, { cause: { status } });
    if (replyMediaType && declared > this.maxReplySize) {
      res.destroy();
      finish(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      if (!replyMediaType) return; // not a DIDComm reply: discard ("Accepted" text etc.)
      size += chunk.length;
      if (size > this.maxReplySize) {
        res.destroy();
        finish(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    res.on('error', (e) => finish(err('ERR_TRANSPORT', `http: ${e.message}`, { cause: e })));
    res.on('end', () => {
      if (!replyMediaType || size === 0) {
        finish(undefined, { status });
        return;
      }
      const body = Buffer.concat(chunks);
      finish(undefined, { status, reply: new Uint8Array(body.buffer, body.byteOffset, body.length), replyMediaType });
    });
  }

  /** Aborts in-flight POSTs (ERR_TRANSPORT) and releases pooled connections. Idempotent. */
  async close(): Promise<void> {
    if (this.current === 'closed') return;
    this.current = 'closed';
    for (const abort of [...this.inflight]) abort(err('ERR_TRANSPORT', 'http: closed'));
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.emit('state', 'closed');
  }
}
