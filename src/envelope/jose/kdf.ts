/**
 * Concat KDF (NIST SP 800-56A §5.8.1, as profiled by RFC 7518 §4.6.2) for ECDH-ES+A256KW, and its
 * ECDH-1PU variant (draft-madden-jose-ecdh-1pu-04 §2.3: Z = Ze‖Zs, SuppPubInfo carries the content
 * tag). One SHA-256 round yields the 256-bit key-wrapping key for every curve, P-521 included.
 */
import { concatBytes, utf8 } from '../../util/bytes.js';
import type { CryptoBackend } from '../../crypto/types.js';

function lengthPrefixed(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + b.length);
  new DataView(out.buffer).setUint32(0, b.length);
  out.set(b, 4);
  return out;
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/**
 * Derives the 32-byte KEK. `apu`/`apv` are the decoded header values; `tag` is given for ECDH-1PU
 * only (the AEAD tag of the content, which 1PU binds into the key derivation).
 */
export function concatKdf(crypto: CryptoBackend, z: Uint8Array, alg: string, apu: Uint8Array, apv: Uint8Array, tag?: Uint8Array): Uint8Array {
  const suppPub = tag === undefined ? u32(256) : concatBytes(u32(256), lengthPrefixed(tag));
  const otherInfo = concatBytes(lengthPrefixed(utf8(alg)), lengthPrefixed(apu), lengthPrefixed(apv), suppPub);
  return crypto.sha256(concatBytes(u32(1), z, otherInfo));
}
