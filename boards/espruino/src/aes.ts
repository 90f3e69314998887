/**
 * AES-128 encryption of whole 16-byte blocks (FIPS-197), the only block-cipher direction CCM
 * needs. Uses the board's native `require("crypto").AES` in ECB mode where the firmware has it
 * (Puck.js, Pico, WiFi, ESP32; jswrap_crypto.c: ECB encrypts every full block of the input).
 * Never its CTR mode: Espruino ignores the IV there and restarts the counter at zero on every
 * call (embedded.md §1.4), which would repeat the keystream. Boards without AES (Pixl.js,
 * MDBT42Q) get the small pure-JS encrypt-only implementation below (S-box computed at first use,
 * no T-tables, so ~0.3 KB of RAM); a board entry registers it with `useJsAesFallback()`, so the
 * bundles of boards whose firmware has AES leave it out.
 */
import { fail } from './bytes.js';

/** Encrypts each 16-byte block of `blocks` (length a multiple of 16) under one fixed key. */
export type BlockCipher = (blocks: Uint8Array) => Uint8Array;

let sbox: Uint8Array | null = null;

function rotl8(x: number, s: number): number {
  return ((x << s) | (x >> (8 - s))) & 0xff;
}

/** The AES S-box from the multiplicative inverse in GF(2^8) and the affine map (FIPS-197 §5.1.1). */
function sBox(): Uint8Array {
  if (sbox) return sbox;
  const s = new Uint8Array(256);
  let p = 1;
  let q = 1;
  do {
    // p *= 3, q /= 3: q stays the inverse of p.
    p = (p ^ (p << 1) ^ (p & 0x80 ? 0x1b : 0)) & 0xff;
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    s[p] = q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4) ^ 0x63;
  } while (p !== 1);
  s[0] = 0x63;
  sbox = s;
  return s;
}

function xtime(x: number): number {
  return ((x << 1) ^ (x & 0x80 ? 0x1b : 0)) & 0xff;
}

/** The 176-byte AES-128 key schedule (FIPS-197 §5.2). */
function expandKey(key: Uint8Array): Uint8Array {
  const s = sBox();
  const w = new Uint8Array(176);
  w.set(key);
  let rcon = 1;
  for (let i = 16; i < 176; i += 4) {
    let t0 = w[i - 4];
    let t1 = w[i - 3];
    let t2 = w[i - 2];
    let t3 = w[i - 1];
    if (i % 16 === 0) {
      const t = t0;
      t0 = s[t1] ^ rcon;
      t1 = s[t2];
      t2 = s[t3];
      t3 = s[t];
      rcon = xtime(rcon);
    }
    w[i] = w[i - 16] ^ t0;
    w[i + 1] = w[i - 15] ^ t1;
    w[i + 2] = w[i - 14] ^ t2;
    w[i + 3] = w[i - 13] ^ t3;
  }
  return w;
}

/** Encrypts the block at `out[o..o+16)` in place. */
function encryptBlock(w: Uint8Array, st: Uint8Array, o: number): void {
  const s = sBox();
  const t = new Uint8Array(16);
  for (let i = 0; i < 16; i++) st[o + i] ^= w[i];
  for (let round = 1; round <= 10; round++) {
    // SubBytes + ShiftRows: t[c*4+r] = S(st[((c+r)%4)*4+r]).
    for (let c = 0; c < 4; c++) for (let r = 0; r < 4; r++) t[c * 4 + r] = s[st[o + ((c + r) % 4) * 4 + r]];
    const k = round * 16;
    for (let c = 0; c < 4; c++) {
      const a0 = t[c * 4];
      const a1 = t[c * 4 + 1];
      const a2 = t[c * 4 + 2];
      const a3 = t[c * 4 + 3];
      if (round < 10) {
        // MixColumns (FIPS-197 §5.1.3).
        const all = a0 ^ a1 ^ a2 ^ a3;
        st[o + c * 4] = a0 ^ all ^ xtime(a0 ^ a1) ^ w[k + c * 4];
        st[o + c * 4 + 1] = a1 ^ all ^ xtime(a1 ^ a2) ^ w[k + c * 4 + 1];
        st[o + c * 4 + 2] = a2 ^ all ^ xtime(a2 ^ a3) ^ w[k + c * 4 + 2];
        st[o + c * 4 + 3] = a3 ^ all ^ xtime(a3 ^ a0) ^ w[k + c * 4 + 3];
      } else {
        st[o + c * 4] = a0 ^ w[k + c * 4];
        st[o + c * 4 + 1] = a1 ^ w[k + c * 4 + 1];
        st[o + c * 4 + 2] = a2 ^ w[k + c * 4 + 2];
        st[o + c * 4 + 3] = a3 ^ w[k + c * 4 + 3];
      }
    }
  }
}

/** The pure-JS cipher (exported for tests that compare it with node:crypto). */
export function jsAes128(key: Uint8Array): BlockCipher {
  const w = expandKey(key);
  return (blocks) => {
    const out = new Uint8Array(blocks);
    for (let o = 0; o + 16 <= out.length; o += 16) encryptBlock(w, out, o);
    return out;
  };
}

/** The firmware's AES in ECB mode, or undefined when this firmware has no AES. */
function nativeAes(key: Uint8Array): BlockCipher | undefined {
  let aes: { encrypt(m: Uint8Array, k: Uint8Array, o: { mode: 'ECB' }): ArrayBuffer | undefined } | undefined;
  try {
    aes = require('crypto').AES;
  } catch (e) {
    return undefined;
  }
  if (!aes || typeof aes.encrypt !== 'function') return undefined;
  const native = aes;
  const k = new Uint8Array(key);
  return (blocks) => {
    const r = native.encrypt(blocks, k, { mode: 'ECB' });
    if (!r || r.byteLength !== blocks.length) fail('aes');
    return new Uint8Array(r);
  };
}

let fallback: ((key: Uint8Array) => BlockCipher) | null = null;

/** Lets `aes128` fall back to the pure-JS cipher when the firmware has no AES. */
export function useJsAesFallback(): void {
  fallback = jsAes128;
}

/** The board's AES-128 for `key` (native, else the registered fallback, else an error). */
export function aes128(key: Uint8Array): BlockCipher {
  if (key.length !== 16) fail('aes key');
  const c = nativeAes(key) || (fallback && fallback(key));
  return c || fail('no AES');
}
