/**
 * The CBOR subset the thin endpoint needs (RFC 8949), with the deterministic encoding of §4.2.1
 * that the Node decoder insists on (src/cbor/encode.ts): shortest heads, definite lengths, map
 * keys sorted by their encoded bytes, integral numbers as integers, floats in the shortest of
 * half/single/double that is exact. No Map on Espruino, so maps are `CMap` (parallel key and
 * value arrays: integer key 1 and text key "1" stay distinct). `Raw` splices pre-encoded bytes;
 * `Tag` is a tagged value (tag 37 = UUID id). The reader is bounded (depth, items, lengths
 * checked against the bytes present) and rejects non-shortest integers and unsorted map keys.
 */
import { concat, copyOf, fail, fromUtf8, utf8 } from './bytes.js';

export type CValue = number | string | boolean | null | Uint8Array | CValue[] | CMap | Tag | Raw;

export class CMap {
  k: CValue[] = [];
  v: CValue[] = [];
  /** Adds an entry (the caller keeps keys unique; the writer rejects duplicates). */
  set(key: CValue, value: CValue): CMap {
    this.k.push(key);
    this.v.push(value);
    return this;
  }
  /** Value of a number or string key (undefined when absent). */
  get(key: number | string): CValue | undefined {
    const i = this.k.indexOf(key);
    return i < 0 ? undefined : this.v[i];
  }
}

export class Tag {
  tag: number;
  value: CValue;
  constructor(tag: number, value: CValue) {
    this.tag = tag;
    this.value = value;
  }
}

/** Bytes that are already one encoded CBOR item. */
export class Raw {
  bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Half-precision bits of v when exact, else -1 (v finite, non-integral or -0). */
function toHalf(v: number): number {
  const sign = v < 0 || 1 / v < 0 ? 0x8000 : 0;
  let a = Math.abs(v);
  let e = 0;
  if (a >= Math.pow(2, -14)) {
    while (a >= 2) {
      a /= 2;
      e++;
    }
    while (a < 1) {
      a *= 2;
      e--;
    }
    if (e > 15) return -1;
    a = (a - 1) * 1024;
    e += 15;
  } else a *= Math.pow(2, 24);
  return Math.floor(a) === a ? sign | (e << 10) | a : -1;
}

class Writer {
  _b = new Uint8Array(64);
  _n = 0;
  _put(x: Uint8Array): void {
    if (this._n + x.length > this._b.length) {
      const nb = new Uint8Array(2 * (this._n + x.length));
      nb.set(this._b);
      this._b = nb;
    }
    this._b.set(x, this._n);
    this._n += x.length;
  }
  _head(major: number, v: number): void {
    const ai = v < 24 ? v : v < 256 ? 24 : v < 65536 ? 25 : v < 4294967296 ? 26 : 27;
    const n = ai < 24 ? 0 : 1 << (ai - 24);
    const h = new Uint8Array(1 + n);
    h[0] = (major << 5) | ai;
    for (let i = 1; i <= n; i++) h[i] = Math.floor(v / Math.pow(256, n - i)) % 256;
    this._put(h);
  }
  _value(v: CValue, depth: number): void {
    if (depth > 16) fail('cbor');
    if (typeof v === 'number') {
      if (Math.floor(v) === v && Math.abs(v) < 9007199254740992 && (v || 1 / v > 0)) return this._head(v < 0 ? 1 : 0, v < 0 ? -1 - v : v);
      // Floats: NaN and ±Infinity as half, else the shortest exact of half/single/double.
      const h = v !== v ? 0x7e00 : Math.abs(v) === Infinity ? (v < 0 ? 0xfc00 : 0x7c00) : toHalf(v);
      if (h >= 0) return this._put(new Uint8Array([0xf9, h >> 8, h & 255]));
      const f = new Float32Array([v]);
      const b = new Uint8Array(f[0] === v ? 5 : 9);
      const dv = new DataView(b.buffer);
      b[0] = f[0] === v ? 0xfa : 0xfb;
      if (f[0] === v) dv.setFloat32(1, v, false);
      else dv.setFloat64(1, v, false);
      return this._put(b);
    }
    if (typeof v === 'string' || v instanceof Uint8Array) {
      const b = typeof v === 'string' ? utf8(v) : v;
      this._head(typeof v === 'string' ? 3 : 2, b.length);
      return this._put(b);
    }
    if (v instanceof Raw) return this._put(v.bytes);
    if (v instanceof Tag) {
      this._head(6, v.tag);
      return this._value(v.value, depth + 1);
    }
    if (v instanceof CMap) {
      const keys: Uint8Array[] = [];
      const order: number[] = [];
      for (let i = 0; i < v.k.length; i++) {
        keys.push(encode(v.k[i]));
        order.push(i);
      }
      order.sort((x, y) => compare(keys[x], keys[y]));
      this._head(5, order.length);
      for (let i = 0; i < order.length; i++) {
        if (i && !compare(keys[order[i - 1]], keys[order[i]])) fail('cbor key');
        this._put(keys[order[i]]);
        this._value(v.v[order[i]], depth + 1);
      }
      return;
    }
    if (Array.isArray(v)) {
      this._head(4, v.length);
      for (let i = 0; i < v.length; i++) this._value(v[i], depth + 1);
      return;
    }
    this._put(new Uint8Array([v === true ? 0xf5 : v === false ? 0xf4 : v === null ? 0xf6 : fail('cbor')]));
  }
}

export function encode(v: CValue): Uint8Array {
  const w = new Writer();
  w._value(v, 0);
  return copyOf(w._b, 0, w._n);
}

/** A marker byte followed by one encoded value (compact frames, docs/compact.md §2). */
export function withMarker(marker: number, v: CValue): Uint8Array {
  return concat([new Uint8Array([marker]), encode(v)]);
}

// ---- reader ------------------------------------------------------------------------------

class Reader {
  _b: Uint8Array;
  _p: number;
  _items = 0;
  constructor(b: Uint8Array, p: number) {
    this._b = b;
    this._p = p;
  }
  _need(n: number): void {
    if (n > this._b.length - this._p) fail('cbor short');
  }
  _value(depth: number): CValue {
    this._need(1);
    if (depth > 8) fail('cbor deep');
    const ib = this._b[this._p++];
    const major = ib >> 5;
    const ai = ib & 31;
    if (ai > 27) fail('cbor ai');
    const size = ai < 24 ? 0 : 1 << (ai - 24);
    this._need(size);
    let n = ai < 24 ? ai : 0;
    for (let i = 0; i < size; i++) n = n * 256 + this._b[this._p++];
    if (major === 7) {
      if (ai >= 20 && ai <= 22) return ai === 22 ? null : ai === 21;
      if (ai < 25) fail('cbor simple');
      const dv = new DataView(this._b.buffer, this._b.byteOffset + this._p - size, size);
      if (size === 4) return dv.getFloat32(0, false);
      if (size === 8) return dv.getFloat64(0, false);
      const e = (n >> 10) & 31;
      const m = n & 1023;
      const f = e === 31 ? (m ? NaN : Infinity) : e ? (1 + m / 1024) * Math.pow(2, e - 15) : m * Math.pow(2, -24);
      return n & 0x8000 ? -f : f;
    }
    if (size && n < (size === 1 ? 24 : Math.pow(2, 4 * size))) fail('cbor long');
    if (n > 9007199254740991) fail('cbor big');
    if (major < 2) return major ? -1 - n : n;
    if (major < 4) {
      this._need(n);
      const bytes = copyOf(this._b, this._p, (this._p += n));
      return major === 2 ? bytes : fromUtf8(bytes);
    }
    if (major === 6) return new Tag(n, this._value(depth + 1));
    this._need(major === 4 ? n : 2 * n);
    this._items += n;
    if (this._items > 128) fail('cbor items');
    if (major === 4) {
      const a: CValue[] = [];
      for (let i = 0; i < n; i++) a.push(this._value(depth + 1));
      return a;
    }
    const m = new CMap();
    let prev: Uint8Array | null = null;
    for (let i = 0; i < n; i++) {
      const start = this._p;
      const k = this._value(depth + 1);
      const kb = this._b.subarray(start, this._p);
      if ((typeof k !== 'number' && typeof k !== 'string') || (prev && compare(prev, kb) >= 0)) fail('cbor key');
      prev = kb;
      m.set(k, this._value(depth + 1));
    }
    return m;
  }
}

/** Decodes exactly one item filling b[start..]; throws on trailing bytes or anything malformed. */
export function decode(b: Uint8Array, start: number): CValue {
  const r = new Reader(b, start);
  const v = r._value(0);
  if (r._p !== b.length) fail('cbor trailing');
  return v;
}
