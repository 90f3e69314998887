/**
 * Who claims to have sent a frame that could not be opened, and which message it was — so the
 * agent can answer a bad signature, a wrong tag or a replayed pairwise frame with a problem report
 * (DIDComm v2.1 §Problem Reports) instead of dropping it silently. Best effort and never trusted:
 * the claimed sender is only used as the address of the report (encrypted to that DID's keys, so
 * nothing leaks to a forger), and such reports are rate-limited per claimed sender. Reads only
 * headers: compact signed kid + unverified payload, pairwise context hint (and, for a replay, the
 * authenticated inner message), compact authcrypt sender kid, JWS kid + payload, JWE skid/apu.
 */
import { fromUtf8 } from '../util/bytes.js';
import { fromBase64url } from '../util/base64url.js';
import { isJsonObject, parseJsonObject, type JsonObject } from '../util/json.js';
import { didOf } from '../did/document.js';
import type { EnvelopeContext } from '../envelope/index.js';
import { bodyOf, kindOf, MARKER, sniffFormat } from '../envelope/compact/frame.js';
import { decodeKidRef } from '../envelope/compact/did-ref.js';
import { decodePlaintextMap } from '../envelope/compact/plaintext.js';
import { openPairwise, parsePairwise } from '../envelope/compact/pairwise.js';
import type { PairwiseSessions } from '../envelope/compact/pairwise-sessions.js';

export interface PeekResult {
  /** The DID the frame claims as sender (undefined when it names none or several). */
  sender?: string;
  /** The claim is authenticated (a pairwise frame that opened but was a replay). */
  authenticated: boolean;
  id?: string;
  thid?: string;
  type?: string;
}

function single(kids: string[]): string | undefined {
  const dids = [...new Set(kids.map(didOf))];
  return dids.length === 1 ? dids[0] : undefined;
}

/** Reads the plaintext of a compact frame (plain, or signed around plain) without verifying. */
function compactPlaintext(ctx: EnvelopeContext, frame: Uint8Array, from: string | undefined, self: string | undefined, out: PeekResult): void {
  let inner = frame;
  let sender = from;
  if (inner[0] === MARKER.SIGNED) {
    const body = bodyOf(inner);
    if (!Array.isArray(body) || body.length !== 4 || !(body[1] instanceof Map) || !(body[2] instanceof Uint8Array)) return;
    sender ??= single(decodeKidRef(ctx, body[1].get(4)!, 'authentication', 'kid'));
    out.sender ??= sender;
    inner = body[2];
  }
  if (kindOf(inner[0]!) !== 'plain') return;
  const marker = inner[0]!;
  const m = decodePlaintextMap(ctx, bodyOf(inner), { fromImplicit: (marker & 2) !== 0, toImplicit: (marker & 1) !== 0, ...(sender ? { impliedFrom: sender } : {}), ...(self ? { impliedTo: self } : {}) });
  out.id = m.id;
  if (m.thid !== undefined) out.thid = m.thid;
  out.type = m.type;
}

function jsonPeek(obj: JsonObject, out: PeekResult): void {
  if (typeof obj.payload === 'string') {
    const sigs = Array.isArray(obj.signatures) ? obj.signatures : [obj];
    const s = sigs[0];
    if (isJsonObject(s)) {
      let kid = isJsonObject(s.header) && typeof s.header.kid === 'string' ? s.header.kid : undefined;
      if (!kid && typeof s.protected === 'string') {
        const ph = parseJsonObject(fromUtf8(fromBase64url(s.protected, 'protected')), 'protected', { maxDepth: 8, maxLength: 16384 });
        if (typeof ph.kid === 'string') kid = ph.kid;
      }
      if (kid) out.sender = didOf(kid);
    }
    const p = parseJsonObject(fromUtf8(fromBase64url(obj.payload, 'payload')), 'payload', { maxDepth: 32, maxLength: 1 << 20 });
    if (typeof p.id === 'string') out.id = p.id;
    if (typeof p.thid === 'string') out.thid = p.thid;
    if (typeof p.type === 'string') out.type = p.type;
    return;
  }
  if (typeof obj.protected === 'string') {
    const h = parseJsonObject(fromUtf8(fromBase64url(obj.protected, 'protected')), 'protected', { maxDepth: 8, maxLength: 65536 });
    const skid = typeof h.skid === 'string' ? h.skid : typeof h.apu === 'string' ? fromUtf8(fromBase64url(h.apu, 'apu')) : undefined;
    if (skid && skid.startsWith('did:')) out.sender = didOf(skid);
  }
}

export function peekFrame(ctx: EnvelopeContext, bytes: Uint8Array, pairwise: PairwiseSessions, self: string | undefined): PeekResult {
  const out: PeekResult = { authenticated: false };
  try {
    const format = sniffFormat(bytes);
    if (format === 'json') {
      jsonPeek(parseJsonObject(fromUtf8(bytes), 'envelope', { maxDepth: 32, maxLength: 1 << 20 }), out);
      return out;
    }
    if (format !== 'compact') return out;
    const kind = kindOf(bytes[0]!);
    if (kind === 'pairwise') {
      const h = parsePairwise(bytes);
      const candidates = pairwise.candidates(h.hint).slice(0, 32);
      for (const c of candidates) {
        try {
          const inner = openPairwise(ctx.crypto, c, h);
          out.sender = c.peerDid;
          out.authenticated = true;
          compactPlaintext(ctx, inner, c.peerDid, c.selfDid, out);
          return out;
        } catch {
          // not this context
        }
      }
      out.sender = single(candidates.map((c) => c.peerDid));
      return out;
    }
    if (kind === 'signed' || kind === 'plain') {
      compactPlaintext(ctx, bytes, undefined, self, out);
      return out;
    }
    if (kind === 'authcrypt') {
      const body = bodyOf(bytes);
      if (Array.isArray(body) && body[1] instanceof Map && body[1].has(-3)) out.sender = single(decodeKidRef(ctx, body[1].get(-3)!, 'keyAgreement', 'sender kid'));
    }
  } catch {
    // a frame too broken to name anyone: nobody to answer
  }
  return out;
}
