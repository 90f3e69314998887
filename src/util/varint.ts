/**
 * Unsigned LEB128 varints: multicodec prefixes (did:key) and the compact pairwise sequence number.
 * Decoding is canonical (no redundant 0x80 continuation bytes) and bounded in length.
 */
import { err } from '../errors.js';

/** Encodes 0 <= value <= 2^48 (exact in a JS number). */
export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0 || value > 2 ** 48) {
    throw err('ERR_ARGUMENT', 'varint: value out of range');
  }
  const out: number[] = [];
  let v = value;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    out.push(byte);
  } while (v > 0);
  return Uint8Array.from(out);
}

/** Decodes a varint at `offset`; returns the value and the number of bytes read. */
export function decodeVarint(bytes: Uint8Array, offset = 0, maxBytes = 7): { value: number; length: number } {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < maxBytes; i++) {
    const pos = offset + i;
    if (pos >= bytes.length) throw err('ERR_MALFORMED', 'varint: truncated');
    const b = bytes[pos]!;
    value += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      if (i > 0 && b === 0) throw err('ERR_MALFORMED', 'varint: non-canonical');
      return { value, length: i + 1 };
    }
    mul *= 128;
  }
  throw err('ERR_MALFORMED', 'varint: too long');
}
