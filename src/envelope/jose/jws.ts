/**
 * JWS (RFC 7515) as DIDComm signed messages use it (DIDComm v2.1 §Message Signing): General JSON
 * serialization by default, Flattened accepted and optionally produced; protected header
 * `{"typ":"application/didcomm-signed+json","alg":...}`, `kid` in the per-signature unprotected
 * header. Algorithms EdDSA (Ed25519), ES256 (P-256), ES256K (secp256k1); signatures raw r‖s.
 */
import { err } from '../../errors.js';
import { concatBytes, fromUtf8, utf8 } from '../../util/bytes.js';
import { fromBase64url, toBase64url } from '../../util/base64url.js';
import { isJsonObject, parseJsonObject, type JsonObject } from '../../util/json.js';
import type { CryptoBackend, Curve, SignatureAlg } from '../../crypto/types.js';
import { SIGNED_MEDIA_TYPE } from '../../message/message.js';

export const ALG_FOR_CURVE: Partial<Record<Curve, SignatureAlg>> = {
  Ed25519: 'EdDSA',
  'P-256': 'ES256',
  secp256k1: 'ES256K',
  'P-384': 'ES384',
  'P-521': 'ES512',
};

const ACCEPTED: ReadonlySet<string> = new Set(['EdDSA', 'ES256', 'ES256K', 'ES384', 'ES512']);
const MAX_SIGNATURES = 16;

export interface JwsSigner {
  kid: string;
  curve: Curve;
  privateKey: Uint8Array;
}

export function signJws(crypto: CryptoBackend, payload: Uint8Array, signer: JwsSigner, flattened = false): string {
  const alg = ALG_FOR_CURVE[signer.curve];
  if (!alg) throw err('ERR_UNSUPPORTED', `cannot sign with a ${signer.curve} key`);
  const protectedB64 = toBase64url(utf8(JSON.stringify({ typ: SIGNED_MEDIA_TYPE, alg })));
  const payloadB64 = toBase64url(payload);
  const signature = toBase64url(crypto.sign(alg, signer.privateKey, utf8(`${protectedB64}.${payloadB64}`)));
  const sig = { protected: protectedB64, signature, header: { kid: signer.kid } };
  return JSON.stringify(flattened ? { payload: payloadB64, ...sig } : { payload: payloadB64, signatures: [sig] });
}

export interface ParsedSignature {
  protectedB64: string;
  alg: SignatureAlg;
  kid: string;
  signature: Uint8Array;
}

export interface ParsedJws {
  payloadB64: string;
  payload: Uint8Array;
  signatures: ParsedSignature[];
}

export function isJwsShape(o: JsonObject): boolean {
  return typeof o.payload === 'string' && (Array.isArray(o.signatures) || typeof o.signature === 'string');
}

export function parseJws(o: JsonObject): ParsedJws {
  if (typeof o.payload !== 'string') throw err('ERR_MALFORMED', 'JWS: missing "payload"');
  const raw = Array.isArray(o.signatures) ? o.signatures : [{ protected: o.protected, signature: o.signature, header: o.header }];
  if (raw.length === 0 || raw.length > MAX_SIGNATURES) throw err('ERR_MALFORMED', 'JWS: bad number of signatures');
  const signatures = raw.map((s, i): ParsedSignature => {
    if (!isJsonObject(s) || typeof s.protected !== 'string' || typeof s.signature !== 'string') throw err('ERR_MALFORMED', `JWS: signatures[${i}] is incomplete`);
    const ph = parseJsonObject(fromUtf8(fromBase64url(s.protected, 'JWS protected header')), 'JWS protected header', { maxDepth: 8, maxLength: 16384 });
    if (typeof ph.alg !== 'string' || !ACCEPTED.has(ph.alg)) throw err('ERR_UNSUPPORTED', `JWS alg ${String(ph.alg)} is not accepted`);
    if (ph.typ !== undefined && ph.typ !== SIGNED_MEDIA_TYPE && ph.typ !== 'didcomm-signed+json') throw err('ERR_MALFORMED', `JWS typ ${String(ph.typ)} is not ${SIGNED_MEDIA_TYPE}`);
    const kid = (isJsonObject(s.header) && typeof s.header.kid === 'string' ? s.header.kid : undefined) ?? (typeof ph.kid === 'string' ? ph.kid : undefined);
    if (!kid) throw err('ERR_MALFORMED', `JWS: signatures[${i}] has no kid`);
    return { protectedB64: s.protected, alg: ph.alg as SignatureAlg, kid, signature: fromBase64url(s.signature, 'JWS signature') };
  });
  return { payloadB64: o.payload, payload: fromBase64url(o.payload, 'JWS payload'), signatures };
}

/** Verifies one signature with a public key (the caller resolves and authorizes `kid`). */
export function verifyJwsSignature(crypto: CryptoBackend, jws: ParsedJws, sig: ParsedSignature, key: { curve: Curve; bytes: Uint8Array }): boolean {
  if (ALG_FOR_CURVE[key.curve] !== sig.alg) return false;
  return crypto.verify(sig.alg, key.bytes, concatBytes(utf8(sig.protectedB64), utf8('.'), utf8(jws.payloadB64)), sig.signature);
}
