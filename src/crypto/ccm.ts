/**
 * AES-CCM (RFC 3610, NIST SP 800-38C) built from two AES primitives: CBC with a zero IV (for the
 * CBC-MAC) and CTR. Used by the noble backend, which has no CCM; node:crypto has it natively.
 * Only the COSE profile is needed: 13-byte nonce (L = 2, so messages < 64 KiB), tag 8 or 16 bytes
 * (AES-CCM-16-64-128 / AES-CCM-16-128-128, RFC 9053 §4.2).
 */
import { decryptionFailed, err } from '../errors.js';
import { concatBytes, equalBytes } from '../util/bytes.js';

export interface CcmPrimitives {
  /** AES-CBC encryption without padding, zero IV; input length is a multiple of 16. */
  cbcNoPad(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** AES-CTR keystream XOR starting from the 16-byte counter block. */
  ctr(key: Uint8Array, counter: Uint8Array, data: Uint8Array): Uint8Array;
}

const NONCE_LENGTH = 13;
const L = 15 - NONCE_LENGTH; // 2-byte length field

function checkParams(key: Uint8Array, nonce: Uint8Array, tagLength: number): void {
  if (key.length !== 16 && key.length !== 32) throw err('ERR_ARGUMENT', 'AES-CCM: key must be 16 or 32 bytes');
  if (nonce.length !== NONCE_LENGTH) throw err('ERR_ARGUMENT', 'AES-CCM: nonce must be 13 bytes');
  if (tagLength !== 8 && tagLength !== 16) throw err('ERR_ARGUMENT', 'AES-CCM: tag length must be 8 or 16');
}

function formatInput(nonce: Uint8Array, aad: Uint8Array, message: Uint8Array, tagLength: number): Uint8Array {
  if (message.length >= 1 << (8 * L)) throw err('ERR_TOO_LARGE', 'AES-CCM: message too long');
  const b0 = new Uint8Array(16);
  b0[0] = (aad.length > 0 ? 0x40 : 0) | (((tagLength - 2) / 2) << 3) | (L - 1);
  b0.set(nonce, 1);
  b0[14] = (message.length >> 8) & 0xff;
  b0[15] = message.length & 0xff;
  let aadBlock = new Uint8Array(0);
  if (aad.length > 0) {
    if (aad.length >= 0xff00) throw err('ERR_TOO_LARGE', 'AES-CCM: AAD too long');
    const withLen = concatBytes(Uint8Array.of(aad.length >> 8, aad.length & 0xff), aad);
    aadBlock = new Uint8Array(Math.ceil(withLen.length / 16) * 16);
    aadBlock.set(withLen);
  }
  const msgBlock = new Uint8Array(Math.ceil(message.length / 16) * 16);
  msgBlock.set(message);
  return concatBytes(b0, aadBlock, msgBlock);
}

function counterBlock(nonce: Uint8Array, i: number): Uint8Array {
  const a = new Uint8Array(16);
  a[0] = L - 1;
  a.set(nonce, 1);
  a[14] = (i >> 8) & 0xff;
  a[15] = i & 0xff;
  return a;
}

function macOf(p: CcmPrimitives, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, message: Uint8Array, tagLength: number): Uint8Array {
  const cbc = p.cbcNoPad(key, formatInput(nonce, aad, message, tagLength));
  const t = cbc.subarray(cbc.length - 16, cbc.length - 16 + tagLength);
  // The tag is encrypted with counter block A_0.
  return p.ctr(key, counterBlock(nonce, 0), t);
}

export function ccmSeal(p: CcmPrimitives, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, tagLength: number): Uint8Array {
  checkParams(key, nonce, tagLength);
  const tag = macOf(p, key, nonce, aad, plaintext, tagLength);
  const ct = plaintext.length ? p.ctr(key, counterBlock(nonce, 1), plaintext) : new Uint8Array(0);
  return concatBytes(ct, tag);
}

export function ccmOpen(p: CcmPrimitives, key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array, tagLength: number): Uint8Array {
  checkParams(key, nonce, tagLength);
  if (sealed.length < tagLength) throw decryptionFailed();
  const ct = sealed.subarray(0, sealed.length - tagLength);
  const tag = sealed.subarray(sealed.length - tagLength);
  const pt = ct.length ? p.ctr(key, counterBlock(nonce, 1), ct) : new Uint8Array(0);
  const expected = macOf(p, key, nonce, aad, pt, tagLength);
  if (!equalBytes(expected, tag)) throw decryptionFailed();
  return pt;
}
