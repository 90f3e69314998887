/**
 * AES-CCM (RFC 3610, NIST SP 800-38C) in the COSE profile the pairwise frames use:
 * AES-CCM-16-64-128 (RFC 9053 §4.2: 13-byte nonce so L = 2, 8-byte tag, 128-bit key). Built
 * from block encryption only: CBC-MAC by chaining single blocks, CTR by encrypting all counter
 * blocks A_0..A_n in one ECB call. Same layout as src/crypto/ccm.ts on the Node side.
 */
import { concat, equalBytes, fail } from './bytes.js';
import type { BlockCipher } from './aes.js';

const TAG = 8;

function counterBlocks(nonce: Uint8Array, count: number): Uint8Array {
  const a = new Uint8Array(16 * count);
  for (let i = 0; i < count; i++) {
    a[i * 16] = 1; // flags: L - 1
    a.set(nonce, i * 16 + 1);
    a[i * 16 + 14] = (i >> 8) & 0xff;
    a[i * 16 + 15] = i & 0xff;
  }
  return a;
}

/** The CBC-MAC over B_0 ‖ (len(aad) ‖ aad, padded) ‖ (message, padded), first TAG bytes. */
function cbcMac(enc: BlockCipher, nonce: Uint8Array, aad: Uint8Array, msg: Uint8Array): Uint8Array {
  const aadLen = aad.length ? Math.ceil((aad.length + 2) / 16) * 16 : 0;
  const input = new Uint8Array(16 + aadLen + Math.ceil(msg.length / 16) * 16);
  input[0] = (aad.length ? 0x40 : 0) | (((TAG - 2) / 2) << 3) | 1;
  input.set(nonce, 1);
  input[14] = (msg.length >> 8) & 0xff;
  input[15] = msg.length & 0xff;
  if (aad.length) {
    input[16] = (aad.length >> 8) & 0xff;
    input[17] = aad.length & 0xff;
    input.set(aad, 18);
  }
  input.set(msg, 16 + aadLen);
  let x: Uint8Array = new Uint8Array(16);
  for (let o = 0; o < input.length; o += 16) {
    for (let i = 0; i < 16; i++) x[i] ^= input[o + i];
    x = enc(x);
  }
  return x.subarray(0, TAG);
}

/** XORs `data` with S_1.. and the tag with S_0; returns [data', S_0-masked tag]. */
function ctr(enc: BlockCipher, nonce: Uint8Array, data: Uint8Array, tag: Uint8Array): Uint8Array[] {
  const s = enc(counterBlocks(nonce, 1 + Math.ceil(data.length / 16)));
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ s[16 + i];
  const t = new Uint8Array(TAG);
  for (let i = 0; i < TAG; i++) t[i] = tag[i] ^ s[i];
  return [out, t];
}

function check(nonce: Uint8Array, aad: Uint8Array, len: number): void {
  if (nonce.length !== 13 || len > 0xffff || aad.length >= 0xff00) fail('ccm');
}

/** ciphertext ‖ tag(8). */
export function ccmSeal(enc: BlockCipher, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  check(nonce, aad, plaintext.length);
  const r = ctr(enc, nonce, plaintext, cbcMac(enc, nonce, aad, plaintext));
  return concat(r);
}

/** The plaintext, or null when the tag does not verify (compared in constant time). */
export function ccmOpen(enc: BlockCipher, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | null {
  if (sealed.length < TAG) return null;
  const ctLen = sealed.length - TAG;
  check(nonce, aad, ctLen);
  const r = ctr(enc, nonce, sealed.subarray(0, ctLen), sealed.subarray(ctLen));
  const expected = cbcMac(enc, nonce, aad, r[0]);
  return equalBytes(expected, r[1]) ? r[0] : null;
}
