/**
 * Pairwise frames on the device (docs/compact.md §7; Node reference src/envelope/compact/
 * pairwise.ts): an OSCORE-like context (RFC 8613) provisioned as hex, byte-for-byte the same
 * frame as the Node side:
 *   0xE9 | hint = idContext[0] | seq (ULEB128, the Partial IV) | AES-CCM-16-64-128 ct ‖ tag(8)
 * nonce = RFC 8613 §5.2 (id length ‖ id left-padded to 7 ‖ PIV left-padded to 5) XOR commonIv,
 * AAD = CBOR ["Encrypt0", h'', 0xE9 ‖ idContext ‖ senderId ‖ seq bytes].
 * The 64-entry replay window keeps its bitmap as two 32-bit halves (no BigInt on Espruino).
 * Internal fields start with `_` (terser shortens them; config keys never do).
 */
import { concat, copyOf, fail, fromHex, toHex } from './bytes.js';
import { encode } from './cbor.js';
import { aes128, type BlockCipher } from './aes.js';
import { ccmOpen, ccmSeal } from './ccm.js';

export const PAIRWISE = 0xe9;
export const MAX_SEQ = 1099511627775; // 2^40 - 1

/** What provisioning writes for one peer (src/provision/espruino.ts), all hex but role/via. */
export interface ContextConfig {
  role: string;
  via?: string;
  peerDid?: string;
  /** The peer's DID as an encoded CBOR compact DID reference (binary did:key). */
  peerRef?: string;
  idContext: string;
  senderId: string;
  recipientId: string;
  senderKey: string;
  recipientKey: string;
  commonIv: string;
}

export interface Context {
  _index: number;
  _role: string;
  /** Send through the mediator context (forward) instead of directly. */
  _via: boolean;
  _peerRef: Uint8Array | null;
  _idc: Uint8Array;
  _sid: Uint8Array;
  _rid: Uint8Array;
  _iv: Uint8Array;
  _seal: BlockCipher;
  _open: BlockCipher;
  /** Name of this context's persistent state: idContext hex "." sender id (as the Node side). */
  _name: string;
}

function hexOf(v: string, min: number, max: number): Uint8Array {
  const b = fromHex(v);
  if (b.length < min || b.length > max) fail('context');
  return b;
}

export function parseContext(c: ContextConfig, index: number): Context {
  const idc = hexOf(c.idContext, 8, 8);
  const sid = hexOf(c.senderId, 1, 7);
  return {
    _index: index,
    _role: String(c.role),
    _via: c.via === 'mediator',
    _peerRef: c.peerRef ? fromHex(c.peerRef) : null,
    _idc: idc,
    _sid: sid,
    _rid: hexOf(c.recipientId, 1, 7),
    _iv: hexOf(c.commonIv, 13, 13),
    _seal: aes128(hexOf(c.senderKey, 16, 16)),
    _open: aes128(hexOf(c.recipientKey, 16, 16)),
    _name: toHex(idc) + '.' + sid[0],
  };
}

export function encodeSeq(seq: number): Uint8Array {
  const out: number[] = [];
  do {
    out.push((seq % 128) | (seq >= 128 ? 0x80 : 0));
    seq = Math.floor(seq / 128);
  } while (seq > 0);
  return new Uint8Array(out);
}

function nonce(c: Context, id: Uint8Array, seq: number): Uint8Array {
  const n = new Uint8Array(13);
  n[0] = id.length;
  n.set(id, 8 - id.length);
  for (let i = 12; i >= 8; i--, seq = Math.floor(seq / 256)) n[i] = seq % 256;
  for (let i = 0; i < 13; i++) n[i] ^= c._iv[i];
  return n;
}

function aad(c: Context, id: Uint8Array, seqBytes: Uint8Array): Uint8Array {
  return encode(['Encrypt0', new Uint8Array(0), concat([new Uint8Array([PAIRWISE]), c._idc, id, seqBytes])]);
}

export function sealFrame(c: Context, seq: number, inner: Uint8Array): Uint8Array {
  if (!(seq >= 0 && seq <= MAX_SEQ)) fail('seq');
  const seqBytes = encodeSeq(seq);
  return concat([new Uint8Array([PAIRWISE, c._idc[0]]), seqBytes, ccmSeal(c._seal, nonce(c, c._sid, seq), inner, aad(c, c._sid, seqBytes))]);
}

export interface FrameHeader {
  _hint: number;
  _seq: number;
  _seqBytes: Uint8Array;
  _sealed: Uint8Array;
}

/** Parses 0xE9 | hint | seq | sealed; null when it is not a well-formed pairwise frame. */
export function parseFrame(f: Uint8Array): FrameHeader | null {
  if (f.length < 11 || f[0] !== PAIRWISE) return null;
  let seq = 0;
  for (let i = 2, mul = 1; i < 8; i++, mul *= 128) {
    seq += (f[i] & 0x7f) * mul;
    if (!(f[i] & 0x80)) {
      // Canonical only (no zero last byte after the first), at most 2^40 - 1, 8 tag bytes left.
      if ((i > 2 && !f[i]) || seq > MAX_SEQ || f.length - i - 1 < 8) return null;
      return { _hint: f[1], _seq: seq, _seqBytes: copyOf(f, 2, i + 1), _sealed: f.subarray(i + 1) };
    }
  }
  return null;
}

/** The inner frame if `c` opens `h`, else null. */
export function openFrame(c: Context, h: FrameHeader): Uint8Array | null {
  return h._hint === c._idc[0] ? ccmOpen(c._open, nonce(c, c._rid, h._seq), h._sealed, aad(c, c._rid, h._seqBytes)) : null;
}

/** Receive replay state: [highest accepted seq, bits 0–31, bits 32–63]; bit i = highest - i. */
export type Window = number[];

/** True when `seq` was already accepted or is older than the 64-entry window. */
export function isReplay(w: Window, seq: number): boolean {
  const age = w[0] - seq;
  return age >= 0 && (age >= 64 || ((age < 32 ? w[1] >>> age : w[2] >>> (age - 32)) & 1) === 1);
}

/** Records an accepted `seq` (call only after isReplay said no). */
export function accept(w: Window, seq: number): void {
  let age = w[0] - seq;
  if (age < 0) {
    const n = w[0] < 0 ? 64 : -age;
    w[2] = n >= 64 ? 0 : n >= 32 ? w[1] << (n - 32) : (w[2] << n) | (w[1] >>> (32 - n));
    w[1] = n >= 32 ? 0 : w[1] << n;
    w[0] = seq;
    age = 0;
  }
  if (age < 32) w[1] |= 1 << age;
  else w[2] |= 1 << (age - 32);
  w[1] >>>= 0;
  w[2] >>>= 0;
}
