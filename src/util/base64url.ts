/**
 * Strict base64url (RFC 4648 §5, no padding) and standard base64 decoding.
 *
 * Strictness matters for security: a lenient decoder accepts several encodings of the same bytes
 * (non-zero padding bits), which is exactly what didcomm-rust's "invalid from_prior signature"
 * vector tests. Non-canonical input is ERR_MALFORMED.
 */
import { err } from '../errors.js';

const URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const STD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function table(alphabet: string): Int16Array {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
}
const URL_TABLE = table(URL_ALPHABET);
const STD_TABLE = table(STD_ALPHABET);

function encode(b: Uint8Array, alphabet: string, pad: boolean): string {
  let s = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    s += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + alphabet[n & 63]!;
  }
  const rest = b.length - i;
  if (rest === 1) {
    const n = b[i]! << 16;
    s += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + (pad ? '==' : '');
  } else if (rest === 2) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8);
    s += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + (pad ? '=' : '');
  }
  return s;
}

function decode(s: string, t: Int16Array, what: string): Uint8Array {
  if (typeof s !== 'string') throw err('ERR_MALFORMED', `${what}: expected string`);
  const len = s.length;
  if (len % 4 === 1) throw err('ERR_MALFORMED', `${what}: invalid length`);
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? t[c]! : -1;
    if (v < 0) throw err('ERR_MALFORMED', `${what}: invalid character`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Canonical: the leftover bits must be zero.
  if ((acc & ((1 << bits) - 1)) !== 0) throw err('ERR_MALFORMED', `${what}: non-canonical encoding`);
  return out.subarray(0, o);
}

/** Node's native codec when present (an order of magnitude faster); same bytes either way. */
const NodeBuffer: { from(a: ArrayBufferLike, o: number, l: number): { toString(e: string): string }; from(s: string, e: string): Uint8Array } | undefined =
  (globalThis as unknown as { Buffer?: never }).Buffer;

const URL_CHARS = /^[A-Za-z0-9_-]*$/u;
/** For a final character carrying 2 (len%4==2) or 4 (len%4==3) data bits, the unused low bits must be zero. */
function canonicalTail(s: string): boolean {
  const r = s.length % 4;
  if (r === 0) return true;
  const v = URL_TABLE[s.charCodeAt(s.length - 1)]!;
  return r === 2 ? (v & 15) === 0 : (v & 3) === 0;
}

export function toBase64url(b: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(b.buffer, b.byteOffset, b.length).toString('base64url');
  return encode(b, URL_ALPHABET, false);
}

/** Strict base64url without padding: one valid encoding per byte string. */
export function fromBase64url(s: string, what = 'base64url'): Uint8Array {
  if (NodeBuffer && typeof s === 'string') {
    if (s.length % 4 === 1 || !URL_CHARS.test(s)) throw err('ERR_MALFORMED', `${what}: invalid character or length`);
    if (!canonicalTail(s)) throw err('ERR_MALFORMED', `${what}: non-canonical encoding`);
    const b = NodeBuffer.from(s, 'base64url');
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  }
  return decode(s, URL_TABLE, what);
}

export function toBase64(b: Uint8Array): string {
  return encode(b, STD_ALPHABET, true);
}

/**
 * Base64 as found in DIDComm attachments (`data.base64`): the spec says base64url, but peers send
 * standard base64 with padding too. Accepts both alphabets and optional padding, still canonical.
 */
export function fromBase64Lenient(s: string, what = 'base64'): Uint8Array {
  if (typeof s !== 'string') throw err('ERR_MALFORMED', `${what}: expected string`);
  let body = s;
  if (body.length % 4 === 0 && body.endsWith('=')) body = body.endsWith('==') ? body.slice(0, -2) : body.slice(0, -1);
  if (/[+/]/.test(body)) return decode(body, STD_TABLE, what);
  return decode(body, URL_TABLE, what);
}
