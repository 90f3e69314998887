/**
 * Byte helpers for the Espruino thin endpoint (ES5 only: no TextEncoder, no Array.from, no
 * padStart; embedded.md §1.1): hex, concatenation, constant-time comparison, UTF-8 (RFC 3629,
 * BMP characters). No Espruino globals here, so tests can run these modules under Node.
 */

/** Throws a short error code (Espruino keeps every string in RAM: messages stay terse). */
export function fail(code: string): never {
  throw new Error(code);
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return s;
}

/** Hex of even length (provisioned config); throws on anything else. */
export function fromHex(s: string): Uint8Array {
  if (typeof s !== 'string' || s.length % 2) fail('hex');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    const v = parseInt(s.substr(2 * i, 2), 16);
    if (v !== v) fail('hex');
    out[i] = v;
  }
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (let i = 0; i < parts.length; i++) n += parts[i].length;
  const out = new Uint8Array(n);
  n = 0;
  for (let i = 0; i < parts.length; i++) {
    out.set(parts[i], n);
    n += parts[i].length;
  }
  return out;
}

/** A copy of b[start, end). */
export function copyOf(b: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(b.subarray(start, end));
}

/** Constant-time for equal lengths (tags); different lengths are unequal at once. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return !diff;
}

/** UTF-8 of a string of BMP characters (Espruino strings are 8-bit on most boards). */
export function utf8(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 3);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) out[n++] = c;
    else {
      if (c < 0x800) out[n++] = 0xc0 | (c >> 6);
      else {
        out[n++] = 0xe0 | (c >> 12);
        out[n++] = 0x80 | ((c >> 6) & 63);
      }
      out[n++] = 0x80 | (c & 63);
    }
  }
  return copyOf(out, 0, n);
}

/** UTF-8 → string (1–3 byte sequences); throws on bad sequences and on 4-byte ones. */
export function fromUtf8(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; ) {
    let c = b[i++];
    const n = c < 0x80 ? 0 : c >= 0xe0 ? 2 : 1;
    if (c >= 0xf0 || (c & 0xc0) === 0x80 || i + n > b.length) fail('utf8');
    c &= n ? 0x3f >> n : 0x7f;
    for (let k = 0; k < n; k++) {
      if ((b[i] & 0xc0) !== 0x80) fail('utf8');
      c = (c << 6) | (b[i++] & 63);
    }
    s += String.fromCharCode(c);
  }
  return s;
}
