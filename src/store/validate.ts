/**
 * Shared argument checks and the one key order used by every store backend.
 *
 * Order: keys, recipients and DIDs are compared by **Unicode code point**, which is the same as
 * comparing their UTF-8 encodings byte by byte (memcmp). SQLite BLOB/BINARY, PostgreSQL
 * `COLLATE "C"` and Redis lexicographic ranges all compare bytes, so `compareKeys` makes the
 * in-memory stores agree with them. (Plain JS `<` compares UTF-16 code units, which differs for
 * characters above U+FFFF versus U+E000..U+FFFF.) Lone surrogates have no UTF-8 form and are refused.
 */
import { err } from '../errors.js';

/** Characters a recipient/DID may not contain: C0 controls and DEL (`\n` is a separator inside stores). */
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
/** A lone surrogate (with the `u` flag a valid pair is one code point, so only lone ones match). */
const LONE_SURROGATE = /\p{Cs}/u;

/** Longest recipient / DID string accepted by the mailbox and mediation stores (UTF-8 bytes). */
export const MAX_ID_BYTES = 2048;

/** Code point order (= UTF-8 byte order) of two well-formed strings: negative, 0 or positive. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Move surrogates (D800-DFFF) above E000-FFFF so supplementary characters sort last.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Number of bytes of the UTF-8 encoding of a well-formed string, without allocating. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Throws ERR_ARGUMENT unless `s` is a string without lone surrogates. */
export function checkWellFormed(s: unknown, label: string): string {
  if (typeof s !== 'string') throw err('ERR_ARGUMENT', `${label}: expected string`);
  if (LONE_SURROGATE.test(s)) throw err('ERR_ARGUMENT', `${label}: lone surrogate (not valid Unicode)`);
  return s;
}

/**
 * A recipient DID (mailbox owner) or any DID handed to the mediation registry: non-empty,
 * well-formed, no control characters, at most MAX_ID_BYTES (ERR_TOO_LARGE beyond).
 */
export function checkDid(s: unknown, label: string): string {
  const v = checkWellFormed(s, label);
  if (v.length === 0) throw err('ERR_ARGUMENT', `${label}: empty`);
  if (CONTROL_CHARS.test(v)) throw err('ERR_ARGUMENT', `${label}: control character`);
  if (utf8Length(v) > MAX_ID_BYTES) throw err('ERR_TOO_LARGE', `${label}: longer than ${MAX_ID_BYTES} bytes`);
  return v;
}

/** A non-negative safe integer (limits, offsets). */
export function checkCount(v: unknown, label: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw err('ERR_ARGUMENT', `${label}: expected a non-negative integer`);
  }
  return v;
}

/** A page size: integer in 1..max (ERR_ARGUMENT otherwise); `fallback` when undefined. */
export function checkPageLimit(v: unknown, label: string, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) {
    throw err('ERR_ARGUMENT', `${label}: expected an integer in 1..${max}`);
  }
  return v;
}

/** A time in milliseconds since the epoch (safe integer >= 0). */
export function checkTime(v: unknown, label: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw err('ERR_ARGUMENT', `${label}: expected milliseconds since the epoch (integer)`);
  }
  return v;
}

/** Throws ERR_ARGUMENT unless `v` is an array with at most `max` items (ERR_TOO_LARGE beyond). */
export function checkArray(v: unknown, label: string, max: number): readonly unknown[] {
  if (!Array.isArray(v)) throw err('ERR_ARGUMENT', `${label}: expected an array`);
  if (v.length > max) throw err('ERR_TOO_LARGE', `${label}: more than ${max} items`);
  return v;
}

/** Sorts strings in code point order (a copy) with duplicates removed. */
export function sortedUnique(values: Iterable<string>): string[] {
  const out = [...new Set(values)];
  out.sort(compareKeys);
  return out;
}
