/**
 * Byte helpers used everywhere: argument checks, concatenation, constant-time comparison, hex and
 * UTF-8. `Uint8Array` only (no Node `Buffer` in the core), so the same code runs on every runtime.
 */
import { err } from '../errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Throws ERR_ARGUMENT unless `value` is a Uint8Array (optionally of one of `lengths`). */
export function abytes(value: unknown, label: string, ...lengths: number[]): Uint8Array {
  if (!(value instanceof Uint8Array)) throw err('ERR_ARGUMENT', `${label}: expected Uint8Array`);
  if (lengths.length > 0 && !lengths.includes(value.length)) {
    throw err('ERR_ARGUMENT', `${label}: expected ${lengths.join(' or ')} bytes, got ${value.length}`);
  }
  return value;
}

/** Throws ERR_ARGUMENT unless `value` is a string. */
export function astring(value: unknown, label: string): string {
  if (typeof value !== 'string') throw err('ERR_ARGUMENT', `${label}: expected string`);
  return value;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Constant-time equality for equal-length inputs; different lengths return false at once. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Strict UTF-8 decoding: invalid sequences are ERR_MALFORMED, not replacement characters. */
export function fromUtf8(b: Uint8Array): string {
  try {
    return decoder.decode(b);
  } catch {
    throw err('ERR_MALFORMED', 'invalid UTF-8');
  }
}

const HEX = '0123456789abcdef';

export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]! >> 4]! + HEX[b[i]! & 15]!;
  return s;
}

/** Decodes lowercase or uppercase hex of even length; anything else is ERR_MALFORMED. */
export function fromHex(s: string): Uint8Array {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw err('ERR_MALFORMED', 'invalid hex');
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Big-endian unsigned integer of `len` bytes (len <= 6, so it stays an exact JS number). */
export function uintToBytes(value: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let v = value;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

export function bytesToUint(b: Uint8Array): number {
  let v = 0;
  for (let i = 0; i < b.length; i++) v = v * 256 + b[i]!;
  return v;
}

/** A copy that does not alias the caller's buffer. */
export function copyBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}
