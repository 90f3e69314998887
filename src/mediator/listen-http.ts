/**
 * HTTP(S) POST for the mediator (DIDComm v2.1 §Transports/HTTPS, extensions/return_route): the
 * `onRequest` hook of `transports/http` HttpListener. Each POST is one session; the response waits
 * for the mediator, so **202 means stored** (durable in the mailbox store). With `return_route`
 * the one reply (or problem report for an authenticated sender) comes back as 200 with its media
 * type. Refusals to anonymous senders are transport statuses: 413 (over `max_receive_bytes`,
 * `me.res.storage.message_too_big`), 403 (refused / not authorized), 429 + Retry-After (rate
 * limit), 503 (mailbox full or store unavailable), 400 (malformed / cannot decrypt).
 * Structural types only: no transport import here (the listener is wired in node-server.ts).
 */
import type { Mediator } from './service.js';
import type { Session } from './types.js';

/** What HttpListener hands the hook (transports/http HttpRequestInfo). */
export interface HttpRequestInfoLike {
  from: string;
}

export interface HttpReplyLike {
  reply?: Uint8Array;
  mediaType?: string;
}

let sequence = 0;

/** The IP part of `ip:port` / `[ipv6]:port` (the rate-limit key of anonymous callers). */
export function hostOf(remote: string): string {
  if (remote.startsWith('[')) return remote.slice(0, remote.indexOf(']') + 1);
  const i = remote.lastIndexOf(':');
  return i > 0 ? remote.slice(0, i) : remote;
}

/** The hook to pass as HttpListener's `onRequest`. */
export function mediatorHttpHook(mediator: Mediator, o: { maxReplyBytes?: number } = {}): (frame: Uint8Array, info: HttpRequestInfoLike) => Promise<HttpReplyLike | void> {
  const maxFrameBytes = o.maxReplyBytes ?? mediator.policy.maxDeliveryBytes * 2;
  return async (frame, info) => {
    const session: Session = {
      id: `http:${++sequence}`,
      kind: 'http',
      remote: `http:${hostOf(info.from)}`,
      persistent: false,
      duplex: false,
      maxFrameBytes,
      returnRoute: 'none',
      isOpen: () => false,
    };
    const out = await mediator.receive(frame, session);
    if (out.replies.length > 0) return { reply: out.replies[0]!, ...(out.mediaType ? { mediaType: out.mediaType } : {}) };
    if (out.error) throw out.error;
    return undefined;
  };
}
