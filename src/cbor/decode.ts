/**
 * Strict CBOR decoding for untrusted frames. Accepts only what `encodeCbor` produces (RFC 8949
 * §4.2.1 deterministic encoding): anything else — non-shortest heads, indefinite lengths, unsorted
 * or duplicate map keys, non-preferred floats, integral floats, reserved/simple values other than
 * false/true/null, tags not allowed by the caller, invalid UTF-8, trailing bytes — is ERR_MALFORMED.
 * One valid encoding per value means a changed byte can never decode to the same message.
 * Lengths are checked against the bytes actually present before anything is allocated.
 */
import { err } from '../errors.js';
import { encodeCbor, halfToNumber } from './encode.js';
import { CborTag, type CborMap, type CborValue } from './types.js';

export interface CborDecodeOptions {
  /** Maximum nesting depth (default 16). */
  maxDepth?: number;
  /** Maximum number of array items + map entries in total (default 4096). */
  maxItems?: number;
  /** Tags that may appear (default none). */
  allowedTags?: readonly number[];
}

const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function malformed(msg: string): never {
  throw err('ERR_MALFORMED', `CBOR: ${msg}`);
}

class Reader {
  pos = 0;
  items = 0;
  readonly b: Uint8Array;
  readonly o: Required<CborDecodeOptions>;
  constructor(b: Uint8Array, o: Required<CborDecodeOptions>) {
    this.b = b;
    this.o = o;
  }

  need(n: number): void {
    if (n > this.b.length - this.pos) malformed('truncated');
  }

  u8(): number {
    this.need(1);
    return this.b[this.pos++]!;
  }

  /** Reads the argument for additional info `ai`, requiring the shortest form. */
  arg(ai: number): number {
    if (ai < 24) return ai;
    if (ai === 24) {
      const v = this.u8();
      if (v < 24) malformed('non-shortest integer');
      return v;
    }
    if (ai === 25) {
      this.need(2);
      const v = (this.b[this.pos]! << 8) | this.b[this.pos + 1]!;
      this.pos += 2;
      if (v < 0x100) malformed('non-shortest integer');
      return v;
    }
    if (ai === 26) {
      this.need(4);
      const v = ((this.b[this.pos]! << 24) >>> 0) + (this.b[this.pos + 1]! << 16) + (this.b[this.pos + 2]! << 8) + this.b[this.pos + 3]!;
      this.pos += 4;
      if (v < 0x10000) malformed('non-shortest integer');
      return v;
    }
    if (ai === 27) {
      this.need(8);
      const hi = ((this.b[this.pos]! << 24) >>> 0) + (this.b[this.pos + 1]! << 16) + (this.b[this.pos + 2]! << 8) + this.b[this.pos + 3]!;
      const lo = ((this.b[this.pos + 4]! << 24) >>> 0) + (this.b[this.pos + 5]! << 16) + (this.b[this.pos + 6]! << 8) + this.b[this.pos + 7]!;
      this.pos += 8;
      if (hi === 0) malformed('non-shortest integer');
      if (hi >= 0x200000) throw err('ERR_UNSUPPORTED', 'CBOR: integer beyond 2^53');
      return hi * 0x100000000 + lo;
    }
    if (ai === 31) malformed('indefinite length');
    return malformed('reserved additional information');
  }

  count(n: number): void {
    this.items += n;
    if (this.items > this.o.maxItems) throw err('ERR_TOO_LARGE', `CBOR: more than ${this.o.maxItems} items`);
  }

  value(depth: number): CborValue {
    if (depth > this.o.maxDepth) throw err('ERR_TOO_LARGE', `CBOR: nesting deeper than ${this.o.maxDepth}`);
    const ib = this.u8();
    const major = ib >> 5;
    const ai = ib & 31;
    switch (major) {
      case 0:
        return this.arg(ai);
      case 1: {
        const n = this.arg(ai);
        if (n >= Number.MAX_SAFE_INTEGER) throw err('ERR_UNSUPPORTED', 'CBOR: integer beyond -2^53');
        return -1 - n;
      }
      case 2: {
        const n = this.arg(ai);
        this.need(n);
        const out = this.b.slice(this.pos, this.pos + n);
        this.pos += n;
        return out;
      }
      case 3: {
        const n = this.arg(ai);
        this.need(n);
        let s: string;
        try {
          s = textDecoder.decode(this.b.subarray(this.pos, this.pos + n));
        } catch {
          malformed('invalid UTF-8 in text string');
        }
        this.pos += n;
        return s;
      }
      case 4: {
        const n = this.arg(ai);
        this.need(n); // every item takes at least one byte
        this.count(n);
        const out: CborValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
        return out;
      }
      case 5: {
        const n = this.arg(ai);
        this.need(2 * n);
        this.count(n);
        const out: CborMap = new Map();
        let prevKeyStart = -1;
        let prevKeyEnd = -1;
        for (let i = 0; i < n; i++) {
          const keyStart = this.pos;
          const k = this.value(depth + 1);
          const keyEnd = this.pos;
          if (k instanceof Map || Array.isArray(k) || k instanceof CborTag) malformed('map keys must be integers or strings');
          if (prevKeyStart >= 0 && compareRange(this.b, prevKeyStart, prevKeyEnd, keyStart, keyEnd) >= 0) malformed('map keys not in deterministic order or duplicated');
          prevKeyStart = keyStart;
          prevKeyEnd = keyEnd;
          out.set(k, this.value(depth + 1));
        }
        return out;
      }
      case 6: {
        const tag = this.arg(ai);
        if (!this.o.allowedTags.includes(tag)) malformed(`tag ${tag} not allowed here`);
        return new CborTag(tag, this.value(depth + 1));
      }
      default:
        return this.simple(ai);
    }
  }

  simple(ai: number): CborValue {
    if (ai === 20) return false;
    if (ai === 21) return true;
    if (ai === 22) return null;
    if (ai === 25) {
      this.need(2);
      const h = (this.b[this.pos]! << 8) | this.b[this.pos + 1]!;
      this.pos += 2;
      return this.checkFloat(halfToNumber(h), 3, h === 0x7e00);
    }
    if (ai === 26) {
      this.need(4);
      const v = new DataView(this.b.buffer, this.b.byteOffset + this.pos, 4).getFloat32(0);
      this.pos += 4;
      return this.checkFloat(v, 5, false);
    }
    if (ai === 27) {
      this.need(8);
      const v = new DataView(this.b.buffer, this.b.byteOffset + this.pos, 8).getFloat64(0);
      this.pos += 8;
      return this.checkFloat(v, 9, false);
    }
    return malformed(`simple value ${ai} not allowed`);
  }

  /** A float must be non-integral (or ±0 as -0 / NaN / ±Infinity) and in its shortest encoding. */
  checkFloat(v: number, size: number, canonicalNaN: boolean): number {
    if (Number.isNaN(v) && !canonicalNaN) malformed('non-canonical NaN');
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) malformed('integral value encoded as a float');
    const again = encodeCbor(v);
    if (again.length !== size) malformed('float not in its shortest form');
    return v;
  }
}

function compareRange(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): number {
  const n = Math.min(e1 - s1, e2 - s2);
  for (let i = 0; i < n; i++) if (b[s1 + i] !== b[s2 + i]) return b[s1 + i]! - b[s2 + i]!;
  return e1 - s1 - (e2 - s2);
}

function options(o: CborDecodeOptions): Required<CborDecodeOptions> {
  return { maxDepth: o.maxDepth ?? 16, maxItems: o.maxItems ?? 4096, allowedTags: o.allowedTags ?? [] };
}

/** Decodes exactly one value filling `bytes` (trailing bytes are an error). */
export function decodeCbor(bytes: Uint8Array, o: CborDecodeOptions = {}): CborValue {
  if (!(bytes instanceof Uint8Array)) throw err('ERR_ARGUMENT', 'CBOR: expected Uint8Array');
  const r = new Reader(bytes, options(o));
  const v = r.value(0);
  if (r.pos !== bytes.length) malformed('trailing bytes');
  return v;
}

/** Decodes one value at `offset`; returns it and the offset after it (for concatenated items). */
export function decodeCborPrefix(bytes: Uint8Array, offset: number, o: CborDecodeOptions = {}): { value: CborValue; end: number } {
  const r = new Reader(bytes, options(o));
  r.pos = offset;
  const value = r.value(0);
  return { value, end: r.pos };
}
