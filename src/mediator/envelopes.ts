/**
 * Envelope work of the mediator: opening inbound frames (both wire formats, every envelope kind),
 * deciding who is authenticated, and packing replies the way the request came in (DIDComm v2.1
 * §Message Layer Addressing Consistency; docs/compact.md): a pairwise request gets a pairwise
 * reply, any other authenticated request an authcrypt reply in the same format. Anonymous callers
 * only ever get an unencrypted problem report carrying a code (nothing about recipients).
 */
import { err, type DidcommError } from '../errors.js';
import { didOf } from '../did/document.js';
import { pack, unpack, type EnvelopeContext, type UnpackResult } from '../envelope/index.js';
import { COMPACT_MEDIA_TYPE } from '../envelope/compact/frame.js';
import type { PairwiseSessions } from '../envelope/compact/pairwise-sessions.js';
import { ENCRYPTED_MEDIA_TYPE, PLAIN_MEDIA_TYPE, type Message } from '../message/message.js';
import { problemReport } from '../protocols/report-problem.js';
import { newMessageId } from '../message/ids.js';
import type { ReplyMode } from './types.js';

export interface OpenedFrame {
  unpacked: UnpackResult;
  /** The authenticated sender (authcrypt skid, pairwise peer, or signer), if any. */
  senderDid: string | undefined;
  /** How to answer the sender, when it is authenticated. */
  replyMode: ReplyMode | undefined;
}

export async function openFrame(ctx: EnvelopeContext, frame: Uint8Array, o: { maxBytes: number; pairwise: PairwiseSessions }): Promise<OpenedFrame> {
  const unpacked = await unpack(ctx, frame, { maxBytes: o.maxBytes, pairwise: o.pairwise });
  const meta = unpacked.meta;
  if (!meta.authenticated) return { unpacked, senderDid: undefined, replyMode: undefined };
  const kid = meta.senderKid ?? meta.signerKid;
  if (kid === undefined) return { unpacked, senderDid: undefined, replyMode: undefined };
  const senderDid = didOf(kid);
  const mode = meta.layers.includes('pairwise') ? 'pairwise' : 'authcrypt';
  return { unpacked, senderDid, replyMode: { format: meta.format, mode } };
}

export interface ReplyPacker {
  ctx: EnvelopeContext;
  did: string;
  pairwise: PairwiseSessions;
  compactHintLength: number;
}

/** Packs `m` from the mediator to `to` in `mode` (format and envelope kind of the request). */
export async function packReply(p: ReplyPacker, m: Message, to: string, mode: ReplyMode): Promise<Uint8Array> {
  const message: Message = { ...m, from: p.did, to: [to] };
  if (mode.format === 'json') {
    return (await pack(p.ctx, message, { mode: 'authcrypt', format: 'json', to: [to], from: p.did })).bytes;
  }
  const hints = p.compactHintLength > 0 ? { hints: { length: p.compactHintLength } } : {};
  if (mode.mode === 'pairwise') {
    return (await pack(p.ctx, message, { mode: 'pairwise', format: 'compact', to: [to], from: p.did, pairwise: p.pairwise, ...hints })).bytes;
  }
  return (await pack(p.ctx, message, { mode: 'authcrypt', format: 'compact', to: [to], from: p.did, ...hints })).bytes;
}

export function mediaTypeOf(mode: ReplyMode | undefined): string {
  if (!mode) return PLAIN_MEDIA_TYPE;
  return mode.format === 'compact' ? COMPACT_MEDIA_TYPE : ENCRYPTED_MEDIA_TYPE;
}

/**
 * The problem report for `error` answering `offending`. Comments are static per error code and
 * args carry no request data, so a report never echoes what an attacker sent.
 */
export function problemFor(p: ReplyPacker, error: DidcommError, offending: Pick<Message, 'id' | 'thid'>, extraArgs: string[] = []): Message {
  const args = error.retryAfterMs !== undefined ? [String(error.retryAfterMs), ...extraArgs] : extraArgs;
  return problemReport({
    id: newMessageId(p.ctx.crypto),
    code: problemCodeOf(error),
    pthid: offending.thid ?? offending.id,
    comment: COMMENTS[error.code] ?? error.code,
    ...(args.length > 0 ? { args } : {}),
  });
}

/** Problem codes: the error's own, with the more precise ones pickup and transports define. */
export function problemCodeOf(error: DidcommError): string {
  return error.problemCode;
}

const COMMENTS: Partial<Record<DidcommError['code'], string>> = {
  ERR_NOT_AUTHORIZED: 'Not authorized for this request',
  ERR_REFUSED: 'Request refused',
  ERR_RATE_LIMITED: 'Rate limit exceeded; retry after {1} ms',
  ERR_STORE_FULL: 'Mailbox full',
  ERR_STORE: 'Storage unavailable',
  ERR_TOO_LARGE: 'Message too big',
  ERR_EXPIRED: 'Message expired',
  ERR_INVALID_MESSAGE: 'Invalid message',
  ERR_MALFORMED: 'Malformed message',
  ERR_UNKNOWN_TYPE: 'Unsupported message type',
  ERR_UNSUPPORTED: 'Unsupported',
  ERR_DECRYPTION_FAILED: 'Cannot decrypt',
};

/**
 * An unencrypted problem report for an anonymous caller on a connection (WebSocket): only the
 * code, as much as an HTTP status would say. JSON, or a compact plaintext frame for compact callers.
 */
export async function plainProblem(ctx: EnvelopeContext, error: DidcommError, offending: Pick<Message, 'id' | 'thid'> | undefined, format: 'json' | 'compact'): Promise<Uint8Array> {
  const m = problemReport({
    id: newMessageId(ctx.crypto),
    code: error.problemCode,
    pthid: offending ? (offending.thid ?? offending.id) : 'unknown',
    comment: COMMENTS[error.code] ?? error.code,
    ...(error.retryAfterMs !== undefined ? { args: [String(error.retryAfterMs)] } : {}),
  });
  return (await pack(ctx, m, { mode: 'plain', format })).bytes;
}

/** Throws unless the packed reply fits the session. */
export function checkFits(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length > max) throw err('ERR_TOO_LARGE', `reply of ${bytes.length} bytes exceeds the session limit ${max}`);
  return bytes;
}
