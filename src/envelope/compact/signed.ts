/**
 * Compact signed frames (docs/compact.md §5): marker 0xE4 + COSE_Sign1 (RFC 9052 §4.2), EdDSA
 * (Ed25519) only, empty protected header (the marker fixes the algorithm), the signer's key
 * reference as `kid` (label 4) in the unprotected header, the inner frame as payload. The
 * Sig_structure's external_aad binds the marker and, when the inner plaintext's `to` is implicit,
 * the receiver's DID — so a frame cannot be re-aimed at another recipient.
 */
import { err } from '../../errors.js';
import { concatBytes, utf8 } from '../../util/bytes.js';
import { encodeCbor } from '../../cbor/encode.js';
import type { CborMap, CborValue } from '../../cbor/types.js';
import { didOf } from '../../did/document.js';
import type { Secret } from '../../did/secrets.js';
import type { EnvelopeContext } from '../types.js';
import { decodeKidRef, encodeKidRef } from './did-ref.js';
import { MARKER, withMarker } from './frame.js';

const KID = 4;
const EMPTY = new Uint8Array(0);

function toImplicit(payload: Uint8Array): boolean {
  const m = payload[0];
  return m === MARKER.PLAIN_TO_IMPLICIT || m === MARKER.PLAIN_BOTH_IMPLICIT;
}

function sigStructure(payload: Uint8Array, receiverDid: string | undefined): Uint8Array {
  const external = toImplicit(payload) ? concatBytes(Uint8Array.of(MARKER.SIGNED), utf8(receiverDid ?? '')) : Uint8Array.of(MARKER.SIGNED);
  return encodeCbor(['Signature1', EMPTY, external, payload]);
}

export function signCompact(ctx: EnvelopeContext, payload: Uint8Array, signer: Secret, receiverDid: string | undefined, hintLength = 0): Uint8Array {
  if (signer.curve !== 'Ed25519') throw err('ERR_UNSUPPORTED', 'compact signed frames use EdDSA (Ed25519) keys');
  if (toImplicit(payload) && !receiverDid) throw err('ERR_ARGUMENT', 'an implicit "to" needs the receiver DID');
  const signature = ctx.crypto.sign('EdDSA', signer.privateKey, sigStructure(payload, receiverDid));
  const unprotected: CborMap = new Map([[KID, encodeKidRef(ctx, signer.kid, 'authentication', hintLength)]]);
  return withMarker(MARKER.SIGNED, [EMPTY, unprotected, payload, signature]);
}

export interface VerifiedSigned {
  payload: Uint8Array;
  signerKid: string;
  signerDid: string;
}

/** Verifies a signed frame body; `receiverDid` is needed only when `to` is implicit. */
export function verifyCompact(ctx: EnvelopeContext, body: CborValue, receiverDid: string | undefined): VerifiedSigned {
  if (!Array.isArray(body) || body.length !== 4) throw err('ERR_MALFORMED', 'signed frame: expected COSE_Sign1 [protected, unprotected, payload, signature]');
  const [prot, unprot, payload, signature] = body;
  if (!(prot instanceof Uint8Array) || prot.length !== 0) throw err('ERR_MALFORMED', 'signed frame: protected header must be empty');
  if (!(unprot instanceof Map) || unprot.size !== 1 || !unprot.has(KID)) throw err('ERR_MALFORMED', 'signed frame: unprotected header must hold exactly the kid');
  if (!(payload instanceof Uint8Array) || payload.length === 0) throw err('ERR_MALFORMED', 'signed frame: bad payload');
  if (!(signature instanceof Uint8Array) || signature.length !== 64) throw err('ERR_MALFORMED', 'signed frame: signature must be 64 bytes');
  if (toImplicit(payload) && !receiverDid) throw err('ERR_LAYER_MISMATCH', 'signed frame addressed to an implicit receiver, but the receiver is unknown');
  const candidates = decodeKidRef(ctx, unprot.get(KID)!, 'authentication', 'signed frame kid');
  const toBeSigned = sigStructure(payload, receiverDid);
  for (const kid of candidates) {
    const key = ctx.resolver.authenticationKey(kid);
    if (key.curve !== 'Ed25519') continue;
    if (ctx.crypto.verify('EdDSA', key.bytes, toBeSigned, signature)) return { payload, signerKid: kid, signerDid: didOf(kid) };
  }
  throw err('ERR_SIGNATURE_INVALID', 'signed frame: signature does not verify');
}
