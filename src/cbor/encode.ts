/**
 * Deterministic CBOR encoding (RFC 8949 §4.2.1, "core deterministic encoding"): shortest argument
 * forms, definite lengths only, map keys sorted by the bytewise order of their encodings, floats
 * in the shortest of half/single/double precision that keeps the value (integral numbers are
 * integers). The same value always gives the same bytes, so signatures are reproducible.
 */
import { err } from '../errors.js';
import { CborTag, type CborValue } from './types.js';

const textEncoder = new TextEncoder();

class Writer {
  buf = new Uint8Array(256);
  len = 0;
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
}

function head(w: Writer, major: number, n: number): void {
  const m = major << 5;
  if (n < 24) w.byte(m | n);
  else if (n < 0x100) {
    w.byte(m | 24);
    w.byte(n);
  } else if (n < 0x10000) {
    w.byte(m | 25);
    w.byte(n >> 8);
    w.byte(n & 0xff);
  } else if (n < 0x100000000) {
    w.byte(m | 26);
    w.byte((n >>> 24) & 0xff);
    w.byte((n >>> 16) & 0xff);
    w.byte((n >>> 8) & 0xff);
    w.byte(n & 0xff);
  } else {
    w.byte(m | 27);
    const hi = Math.floor(n / 0x100000000);
    const lo = n >>> 0;
    for (const v of [hi >>> 24, hi >>> 16, hi >>> 8, hi, lo >>> 24, lo >>> 16, lo >>> 8, lo]) w.byte(v & 0xff);
  }
}

/** Decodes IEEE 754 half-precision bits. */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Half-precision bits of `v`, or undefined if half precision cannot hold it exactly. */
function toHalf(v: number): number | undefined {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  let bits: number;
  if (a === 0) bits = sign;
  else if (a === Infinity) bits = sign | 0x7c00;
  else if (a < 2 ** -14) {
    const mant = a / 2 ** -24;
    if (!Number.isInteger(mant)) return undefined;
    bits = sign | mant;
  } else {
    let e = Math.floor(Math.log2(a));
    if (2 ** e > a) e--;
    if (2 ** (e + 1) <= a) e++;
    if (e > 15) return undefined;
    const mant = (a / 2 ** e - 1) * 1024;
    if (!Number.isInteger(mant)) return undefined;
    bits = sign | ((e + 15) << 10) | mant;
  }
  return Object.is(halfToNumber(bits), v) ? bits : undefined;
}

function encodeFloat(w: Writer, v: number): void {
  const half = toHalf(v);
  if (half !== undefined) {
    w.byte(0xf9);
    w.byte(half >> 8);
    w.byte(half & 0xff);
    return;
  }
  if (Math.fround(v) === v) {
    const dv = new DataView(new ArrayBuffer(4));
    dv.setFloat32(0, v);
    w.byte(0xfa);
    w.bytes(new Uint8Array(dv.buffer));
    return;
  }
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v);
  w.byte(0xfb);
  w.bytes(new Uint8Array(dv.buffer));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function encodeInto(w: Writer, v: CborValue, depth: number): void {
  if (depth > 64) throw err('ERR_TOO_LARGE', 'CBOR: nesting deeper than 64');
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
      if (v >= 0) head(w, 0, v);
      else head(w, 1, -1 - v);
    } else encodeFloat(w, v);
  } else if (typeof v === 'string') {
    const b = textEncoder.encode(v);
    head(w, 3, b.length);
    w.bytes(b);
  } else if (v instanceof Uint8Array) {
    head(w, 2, v.length);
    w.bytes(v);
  } else if (Array.isArray(v)) {
    head(w, 4, v.length);
    for (const x of v) encodeInto(w, x, depth + 1);
  } else if (v instanceof Map) {
    const entries = [...v.entries()].map(([k, val]) => [encodeCbor(k), val] as const);
    entries.sort((a, b) => compareBytes(a[0], b[0]));
    for (let i = 1; i < entries.length; i++) {
      if (compareBytes(entries[i - 1]![0], entries[i]![0]) === 0) throw err('ERR_ARGUMENT', 'CBOR: duplicate map key');
    }
    head(w, 5, entries.length);
    for (const [k, val] of entries) {
      w.bytes(k);
      encodeInto(w, val, depth + 1);
    }
  } else if (v instanceof CborTag) {
    head(w, 6, v.tag);
    encodeInto(w, v.value, depth + 1);
  } else if (v === false) w.byte(0xf4);
  else if (v === true) w.byte(0xf5);
  else if (v === null) w.byte(0xf6);
  else throw err('ERR_ARGUMENT', `CBOR: cannot encode ${typeof v}`);
}

/** Encodes one value deterministically. */
export function encodeCbor(v: CborValue): Uint8Array {
  const w = new Writer();
  encodeInto(w, v, 0);
  return w.buf.slice(0, w.len);
}
