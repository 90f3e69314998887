/**
 * DID rotation (DIDComm v2.1 §DID Rotation): the `from_prior` header is a compact JWT signed by a
 * key of the prior DID, `{iss: prior DID, sub: new DID, iat}`. Receivers verify it before
 * re-associating the relationship; the message's `from` must be `sub`.
 */
import { err } from '../errors.js';
import { concatBytes, fromUtf8, utf8 } from '../util/bytes.js';
import { fromBase64url, toBase64url } from '../util/base64url.js';
import { parseJsonObject } from '../util/json.js';
import type { CryptoBackend, Curve, SignatureAlg } from '../crypto/types.js';
import type { KeyResolver } from '../did/resolver.js';
import { didOf, isDid } from '../did/document.js';
import { ALG_FOR_CURVE } from '../envelope/jose/jws.js';

export interface FromPrior {
  iss: string;
  sub: string;
  iat: number;
  kid: string;
}

/** Issues a from_prior JWT signed with a key of the prior DID. `sub` omitted ends the relationship. */
export function issueFromPrior(crypto: CryptoBackend, claims: { iss: string; sub?: string; iat: number }, signer: { kid: string; curve: Curve; privateKey: Uint8Array }): string {
  const alg = ALG_FOR_CURVE[signer.curve];
  if (!alg) throw err('ERR_UNSUPPORTED', `cannot sign with a ${signer.curve} key`);
  const header = toBase64url(utf8(JSON.stringify({ typ: 'JWT', alg, kid: signer.kid })));
  const payload = toBase64url(utf8(JSON.stringify(claims)));
  const sig = crypto.sign(alg, signer.privateKey, utf8(`${header}.${payload}`));
  return `${header}.${payload}.${toBase64url(sig)}`;
}

/**
 * Verifies a from_prior JWT: strict base64url, a signature by an authentication key of `iss`,
 * and `sub` equal to the message sender. Throws ERR_SIGNATURE_INVALID / ERR_LAYER_MISMATCH /
 * ERR_MALFORMED.
 */
export function verifyFromPrior(crypto: CryptoBackend, resolver: KeyResolver, jwt: string, messageFrom: string | undefined): FromPrior {
  const parts = jwt.split('.');
  if (parts.length !== 3) throw err('ERR_MALFORMED', 'from_prior: not a compact JWT');
  const [h, p, s] = parts as [string, string, string];
  const header = parseJsonObject(fromUtf8(fromBase64url(h, 'from_prior header')), 'from_prior header', { maxDepth: 4, maxLength: 4096 });
  const claims = parseJsonObject(fromUtf8(fromBase64url(p, 'from_prior payload')), 'from_prior payload', { maxDepth: 4, maxLength: 16384 });
  const signature = fromBase64url(s, 'from_prior signature');
  if (typeof header.kid !== 'string' || typeof header.alg !== 'string') throw err('ERR_MALFORMED', 'from_prior: header needs alg and kid');
  if (!isDid(claims.iss) || (claims.sub !== undefined && !isDid(claims.sub)) || typeof claims.iat !== 'number') {
    throw err('ERR_MALFORMED', 'from_prior: claims need iss, sub and iat');
  }
  if (didOf(header.kid) !== claims.iss) throw err('ERR_LAYER_MISMATCH', 'from_prior: kid is not a key of iss');
  const key = resolver.authenticationKey(header.kid);
  if (ALG_FOR_CURVE[key.curve] !== header.alg) throw err('ERR_SIGNATURE_INVALID', 'from_prior: alg does not match the key');
  if (!crypto.verify(header.alg as SignatureAlg, key.bytes, concatBytes(utf8(h), utf8('.'), utf8(p)), signature)) {
    throw err('ERR_SIGNATURE_INVALID', 'from_prior: bad signature');
  }
  if (claims.sub !== undefined && messageFrom !== undefined && claims.sub !== messageFrom) {
    throw err('ERR_LAYER_MISMATCH', 'from_prior: sub is not the message sender');
  }
  if (claims.iss === claims.sub) throw err('ERR_MALFORMED', 'from_prior: iss equals sub');
  return { iss: claims.iss as string, sub: (claims.sub as string | undefined) ?? '', iat: claims.iat, kid: header.kid };
}
