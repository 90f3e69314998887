/**
 * Unpacking DIDComm Compact frames, layer by layer, with the same nesting and consistency rules
 * as the JSON format (docs/compact.md §8). `from`/`to` left implicit are restored from the layer
 * that authenticated the sender / decrypted for the recipient.
 */
import { err } from '../../errors.js';
import { didOf } from '../../did/document.js';
import { verifyFromPrior } from '../../message/from-prior.js';
import { emptyMeta, type EnvelopeContext, type UnpackResult } from '../types.js';
import { bodyOf, kindOf, MARKER } from './frame.js';
import { decodePlaintextMap } from './plaintext.js';
import { verifyCompact } from './signed.js';
import { openHpkeFrame } from './hpke-envelope.js';
import { openPairwise, parsePairwise } from './pairwise.js';
import type { PairwiseSessions } from './pairwise-sessions.js';
import { isDidcommError } from '../../errors.js';

const ALLOWED = new Set(['', 'signed', 'anoncrypt', 'authcrypt', 'anoncrypt,signed', 'authcrypt,signed', 'anoncrypt,authcrypt', 'anoncrypt,authcrypt,signed', 'pairwise', 'pairwise,signed']);

export const HPKE_ALG = { anoncrypt: 'HPKE-Base-X25519-SHA256-ChaCha20Poly1305', authcrypt: 'HPKE-Auth-X25519-SHA256-ChaCha20Poly1305' } as const;
export const PAIRWISE_ALG = 'OSCORE-X25519-static';

export interface CompactUnpackOptions {
  /** Needed to open pairwise frames. */
  pairwise?: PairwiseSessions;
  /** Our DID, for a signed frame addressed to us with an implicit `to` (default: our only DID). */
  receiverDid?: string;
}

export async function unpackCompact(ctx: EnvelopeContext, bytes: Uint8Array, o: CompactUnpackOptions = {}): Promise<UnpackResult> {
  const meta = emptyMeta('compact');
  let frame = bytes;
  let impliedFrom: string | undefined;
  let impliedTo: string | undefined;
  let authSenderDid: string | undefined;
  const recipientDids: string[] = [];
  for (let depth = 0; ; depth++) {
    if (depth > 4) throw err('ERR_MALFORMED', 'too many envelope layers');
    if (frame.length === 0) throw err('ERR_MALFORMED', 'empty frame');
    const marker = frame[0]!;
    const kind = kindOf(marker);
    if (kind === 'plain') break;
    if (kind === 'signed') {
      let receiver = impliedTo ?? o.receiverDid;
      if (!receiver) {
        const own = [...new Set(ctx.secrets.kids().map(didOf))];
        if (own.length === 1) receiver = own[0];
      }
      const v = verifyCompact(ctx, bodyOf(frame), receiver);
      meta.layers.push('signed');
      meta.signerKid = v.signerKid;
      meta.signAlg = 'EdDSA';
      meta.authenticated = meta.nonRepudiation = true;
      if (meta.alg === undefined) meta.alg = 'EdDSA';
      impliedFrom = v.signerDid;
      if (receiver && (v.payload[0] === MARKER.PLAIN_TO_IMPLICIT || v.payload[0] === MARKER.PLAIN_BOTH_IMPLICIT)) impliedTo = receiver;
      frame = v.payload;
      continue;
    }
    if (kind === 'pairwise') {
      if (!o.pairwise) throw err('ERR_SECRET_NOT_FOUND', 'pairwise frame, but no pairwise sessions are configured');
      const h = parsePairwise(frame);
      let opened: { inner: Uint8Array; peer: string; self: string } | undefined;
      for (const c of o.pairwise.candidates(h.hint).slice(0, 32)) {
        let inner: Uint8Array;
        try {
          inner = openPairwise(ctx.crypto, c, h);
        } catch (e) {
          if (isDidcommError(e) && e.code === 'ERR_DECRYPTION_FAILED') continue;
          throw e;
        }
        await o.pairwise.checkReplay(c, h.seq);
        await o.pairwise.commitReplay(c, h.seq);
        opened = { inner, peer: c.peerDid, self: c.selfDid };
        break;
      }
      if (!opened) throw err('ERR_DECRYPTION_FAILED', 'decryption failed');
      meta.layers.push('pairwise');
      meta.encrypted = meta.authenticated = true;
      meta.senderKid = opened.peer;
      meta.recipientKid ??= opened.self;
      meta.alg = PAIRWISE_ALG;
      meta.enc = 'AES-CCM-16-64-128';
      recipientDids.push(opened.self);
      impliedFrom = authSenderDid = opened.peer;
      impliedTo = opened.self;
      frame = opened.inner;
      continue;
    }
    const opened = openHpkeFrame(ctx, marker, bodyOf(frame));
    meta.layers.push(kind);
    meta.encrypted = true;
    meta.recipientKid ??= opened.recipientKid;
    meta.alg = HPKE_ALG[kind];
    meta.enc = 'ChaCha20-Poly1305';
    recipientDids.push(didOf(opened.recipientKid));
    impliedTo = didOf(opened.recipientKid);
    if (kind === 'authcrypt') {
      meta.senderKid = opened.senderKid;
      meta.authenticated = true;
      impliedFrom = authSenderDid = didOf(opened.senderKid!);
    } else impliedFrom = undefined;
    frame = opened.inner;
  }
  if (!ALLOWED.has(meta.layers.join(','))) throw err('ERR_MALFORMED', `envelope nesting ${meta.layers.join('(')} is not allowed`);
  const marker = frame[0]!;
  const message = decodePlaintextMap(ctx, bodyOf(frame), {
    fromImplicit: (marker & 2) !== 0,
    toImplicit: (marker & 1) !== 0,
    ...(impliedFrom ? { impliedFrom } : {}),
    ...(impliedTo ? { impliedTo } : {}),
  });
  if (meta.layers.length === 0) meta.layers.push('plain');
  meta.anonymousSender = meta.layers[0] === 'anoncrypt';
  if (authSenderDid !== undefined && message.from !== authSenderDid) throw err('ERR_LAYER_MISMATCH', 'plaintext "from" is not the authenticated sender');
  if (meta.signerKid !== undefined) {
    const signerDid = didOf(meta.signerKid);
    if (message.from !== signerDid) throw err('ERR_LAYER_MISMATCH', 'plaintext "from" is not the signer');
    if (authSenderDid !== undefined && authSenderDid !== signerDid) throw err('ERR_LAYER_MISMATCH', 'signer differs from the authenticated sender');
  }
  if (message.to) for (const d of recipientDids) if (!message.to.includes(d)) throw err('ERR_LAYER_MISMATCH', `recipient ${d} is not in the message "to"`);
  if (message.from_prior !== undefined) meta.fromPrior = verifyFromPrior(ctx.crypto, ctx.resolver, message.from_prior, message.from);
  return { message, meta, plaintext: frame };
}
