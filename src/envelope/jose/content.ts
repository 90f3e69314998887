/**
 * JWE content encryption for DIDComm (DIDComm v2.1 §Curves and Content Encryption Algorithms):
 * A256CBC-HS512 (RFC 7518 §5.2.5, required; the only one allowed with ECDH-1PU), A256GCM
 * (§5.3) and XC20P (draft-irtf-cfrg-xchacha: 24-byte IV). The AAD is the ASCII of the protected
 * header (RFC 7516 §5.1 step 14).
 */
import { decryptionFailed, err } from '../../errors.js';
import { concatBytes, equalBytes } from '../../util/bytes.js';
import type { CryptoBackend } from '../../crypto/types.js';

export type ContentEncryption = 'A256CBC-HS512' | 'A256GCM' | 'XC20P';

export const CONTENT_ENCRYPTIONS: readonly ContentEncryption[] = ['A256CBC-HS512', 'A256GCM', 'XC20P'];

export const CEK_LENGTH: Record<ContentEncryption, number> = { 'A256CBC-HS512': 64, A256GCM: 32, XC20P: 32 };
const IV_LENGTH: Record<ContentEncryption, number> = { 'A256CBC-HS512': 16, A256GCM: 12, XC20P: 24 };
const TAG_LENGTH: Record<ContentEncryption, number> = { 'A256CBC-HS512': 32, A256GCM: 16, XC20P: 16 };

export function isContentEncryption(s: unknown): s is ContentEncryption {
  return s === 'A256CBC-HS512' || s === 'A256GCM' || s === 'XC20P';
}

export interface EncryptedContent {
  iv: Uint8Array;
  ciphertext: Uint8Array;
  tag: Uint8Array;
}

function cbcHmacTag(crypto: CryptoBackend, macKey: Uint8Array, aad: Uint8Array, iv: Uint8Array, ct: Uint8Array): Uint8Array {
  const al = new Uint8Array(8);
  new DataView(al.buffer).setBigUint64(0, BigInt(aad.length) * 8n);
  return crypto.hmacSha512(macKey, concatBytes(aad, iv, ct, al)).subarray(0, 32);
}

export function encryptContent(crypto: CryptoBackend, enc: ContentEncryption, cek: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, iv = crypto.randomBytes(IV_LENGTH[enc])): EncryptedContent {
  if (cek.length !== CEK_LENGTH[enc]) throw err('ERR_ARGUMENT', `${enc}: CEK must be ${CEK_LENGTH[enc]} bytes`);
  if (enc === 'A256CBC-HS512') {
    const ciphertext = crypto.aesCbcEncrypt(cek.subarray(32), iv, plaintext);
    return { iv, ciphertext, tag: cbcHmacTag(crypto, cek.subarray(0, 32), aad, iv, ciphertext) };
  }
  const sealed = enc === 'A256GCM' ? crypto.aesGcmSeal(cek, iv, plaintext, aad) : crypto.xchachaSeal(cek, iv, plaintext, aad);
  return { iv, ciphertext: sealed.subarray(0, sealed.length - 16), tag: sealed.subarray(sealed.length - 16) };
}

export function decryptContent(crypto: CryptoBackend, enc: ContentEncryption, cek: Uint8Array, c: EncryptedContent, aad: Uint8Array): Uint8Array {
  if (cek.length !== CEK_LENGTH[enc] || c.iv.length !== IV_LENGTH[enc] || c.tag.length !== TAG_LENGTH[enc]) throw decryptionFailed();
  if (enc === 'A256CBC-HS512') {
    // MAC first, constant-time, so padding errors can never act as an oracle.
    if (!equalBytes(cbcHmacTag(crypto, cek.subarray(0, 32), aad, c.iv, c.ciphertext), c.tag)) throw decryptionFailed();
    return crypto.aesCbcDecrypt(cek.subarray(32), c.iv, c.ciphertext);
  }
  const sealed = concatBytes(c.ciphertext, c.tag);
  return enc === 'A256GCM' ? crypto.aesGcmOpen(cek, c.iv, sealed, aad) : crypto.xchachaOpen(cek, c.iv, sealed, aad);
}
