/**
 * Routing Protocol 2.0 (DIDComm v2.1 §Routing): the `forward` message, wrapping a packed message
 * for each mediator hop (routing keys in reverse order, each hop anoncrypted to its key) and
 * parsing a forward on the mediator side. JSON inner envelopes travel as `data.json` (what
 * didcomm-rust sends), compact frames as raw bytes (`data.base64`, which the compact format
 * carries as a bare byte string — no base64 on the wire).
 */
import { err } from '../errors.js';
import { fromUtf8, toHex, utf8 } from '../util/bytes.js';
import { fromBase64Lenient, toBase64url } from '../util/base64url.js';
import { isJsonObject, parseJsonObject, type JsonObject } from '../util/json.js';
import { didOf, isDid, isDidUrl } from '../did/document.js';
import type { Message } from '../message/message.js';
import { pack, type EnvelopeContext, type WireFormat } from '../envelope/index.js';
import { derivedForwardId } from '../envelope/compact/plaintext.js';
import { sniffFormat } from '../envelope/compact/frame.js';
import type { CompactHints } from '../envelope/compact/pack.js';

export const FORWARD_TYPE = 'https://didcomm.org/routing/2.0/forward';

/** A forward message carrying `inner` (a packed JSON envelope or a compact frame) to `next`. */
export function forwardMessage(ctx: EnvelopeContext, next: string, inner: Uint8Array, extra: Partial<Message> = {}): Message {
  if (!isDid(next) && !isDidUrl(next)) throw err('ERR_ARGUMENT', 'forward: next must be a DID or DID URL');
  const format = sniffFormat(inner);
  if (!format) throw err('ERR_ARGUMENT', 'forward: inner is not a DIDComm message');
  const data = format === 'json' ? { json: parseJsonObject(fromUtf8(inner), 'forwarded message') } : { base64: toBase64url(inner) };
  const id = format === 'compact' ? derivedForwardId(ctx, inner) : toHex(ctx.crypto.randomBytes(8));
  return { id, type: FORWARD_TYPE, ...extra, body: { next }, attachments: [{ data }] } as Message;
}

export interface ParsedForward {
  next: string;
  /** The forwarded message, as bytes ready to deliver (JSON text or compact frame). */
  inner: Uint8Array;
  expiresTime: number | undefined;
  delayMilli: number | undefined;
}

/** Validates a forward message (after it was unpacked) and extracts `next` and the payload. */
export function parseForward(m: Message): ParsedForward {
  if (m.type !== FORWARD_TYPE) throw err('ERR_ARGUMENT', 'not a forward message');
  const next = m.body?.next;
  if (typeof next !== 'string' || (!isDid(next) && !isDidUrl(next))) throw err('ERR_INVALID_MESSAGE', 'forward: body.next must be a DID or DID URL');
  const atts = m.attachments;
  if (!atts || atts.length !== 1) throw err('ERR_INVALID_MESSAGE', 'forward: exactly one attachment is supported');
  const data = atts[0]!.data;
  let inner: Uint8Array;
  const onlyEncrypted = (o: JsonObject): void => {
    if (typeof o.ciphertext !== 'string') throw err('ERR_INVALID_MESSAGE', 'forward: only encrypted messages may be forwarded');
  };
  if (data.json !== undefined) {
    // already parsed (within the outer message's depth and size limits): checked as it is
    if (!isJsonObject(data.json)) throw err('ERR_INVALID_MESSAGE', 'forward: attachment json must be an object');
    onlyEncrypted(data.json);
    inner = utf8(JSON.stringify(data.json));
  } else if (typeof data.base64 === 'string') {
    inner = fromBase64Lenient(data.base64, 'forward attachment');
    const fmt = sniffFormat(inner);
    if (!fmt) throw err('ERR_INVALID_MESSAGE', 'forward: attachment is not a packed DIDComm message');
    if (fmt === 'json') onlyEncrypted(parseJsonObject(fromUtf8(inner), 'forwarded message'));
  } else throw err('ERR_INVALID_MESSAGE', 'forward: attachment needs json or base64 data');
  const delay = m.delay_milli;
  return {
    next,
    inner,
    expiresTime: m.expires_time,
    delayMilli: typeof delay === 'number' && Number.isSafeInteger(delay) ? delay : undefined,
  };
}

export interface WrapOptions {
  /** The final recipient (DID); becomes `next` of the innermost forward. */
  recipient: string;
  /** Routing keys (DID URLs or DIDs of mediators), in the order the recipient's service lists them. */
  routingKeys: string[];
  format?: WireFormat;
  hints?: CompactHints;
  /** Copied to each forward (e.g. expires_time). */
  headers?: Partial<Message>;
  /**
   * Authenticate the outermost forward to the first mediator instead of anoncrypting it — for a
   * device talking to its own mediator over a radio: the mediator then knows which device is
   * awake and answers `return_route` with a receipt once the payload is stored. The inner layers
   * stay anoncrypted. (The mediator learns nothing it would not learn from the radio link.)
   */
  authenticateOuter?: { from: string };
  /** Id of the outermost forward (what the first mediator's receipt acknowledges). */
  outerId?: string;
}

/**
 * Wraps `packed` for delivery through mediators: for each routing key in reverse order, a forward
 * to the previous target, anoncrypted to that key. Returns the outermost bytes.
 */
export async function wrapInForwards(ctx: EnvelopeContext, packed: Uint8Array, o: WrapOptions): Promise<Uint8Array> {
  let current = packed;
  let next = o.recipient;
  const keys = [...o.routingKeys].reverse();
  for (const [i, key] of keys.entries()) {
    const outer = i === keys.length - 1 && o.authenticateOuter;
    const extra: Partial<Message> = outer ? { ...o.headers, from: o.authenticateOuter!.from, to: [didOf(key)], return_route: 'all' } : { ...o.headers };
    if (i === keys.length - 1 && o.outerId !== undefined) extra.id = o.outerId;
    const fwd = forwardMessage(ctx, next, current, extra);
    const r = await pack(ctx, fwd, {
      mode: outer ? 'authcrypt' : 'anoncrypt',
      to: [key],
      ...(outer ? { from: o.authenticateOuter!.from } : {}),
      format: o.format ?? (sniffFormat(packed) === 'compact' ? 'compact' : 'json'),
      ...(o.hints ? { hints: o.hints } : {}),
    });
    current = r.bytes;
    next = key.includes('#') ? key : didOf(key);
  }
  return current;
}
