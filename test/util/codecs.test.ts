import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromBase64url, toBase64url, toBase64, fromBase64Lenient } from '../../src/util/base64url.js';
import { fromBase58, toBase58 } from '../../src/util/base58.js';
import { decodeVarint, encodeVarint } from '../../src/util/varint.js';
import { equalBytes, fromHex, toHex, fromUtf8 } from '../../src/util/bytes.js';
import { parseJson } from '../../src/util/json.js';
import { DidcommError } from '../../src/errors.js';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return (e as DidcommError).code;
  }
  throw new Error('expected a DidcommError');
};

describe('base64url', () => {
  it('round-trips and matches Node Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const s = toBase64url(b);
        expect(s).toBe(Buffer.from(b).toString('base64url'));
        expect(toBase64(b)).toBe(Buffer.from(b).toString('base64'));
        expect(equalBytes(fromBase64url(s), b)).toBe(true);
        expect(equalBytes(fromBase64Lenient(toBase64(b)), b)).toBe(true);
      }),
    );
  });
  it('rejects non-canonical padding bits, bad characters and bad lengths', () => {
    // "QQ" is canonical for 0x41; "QR" decodes leniently to the same byte.
    expect(toHex(fromBase64url('QQ'))).toBe('41');
    expect(code(() => fromBase64url('QR'))).toBe('ERR_MALFORMED');
    expect(code(() => fromBase64url('QQ=='))).toBe('ERR_MALFORMED');
    expect(code(() => fromBase64url('Q'))).toBe('ERR_MALFORMED');
    expect(code(() => fromBase64url('a+b/'))).toBe('ERR_MALFORMED');
  });
});

describe('base58btc', () => {
  it('round-trips with leading zeros', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 80 }), (b) => {
        expect(equalBytes(fromBase58(toBase58(b)), b)).toBe(true);
      }),
    );
  });
  it('has the known encoding of a did:key Ed25519 key prefix', () => {
    // did:key spec example: z6Mk... starts with multicodec 0xed01.
    const b = fromBase58('z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'.slice(1));
    expect(toHex(b.subarray(0, 2))).toBe('ed01');
    expect(b.length).toBe(34);
  });
  it('rejects characters outside the alphabet', () => {
    expect(code(() => fromBase58('0OIl'))).toBe('ERR_MALFORMED');
    expect(code(() => fromBase58(''))).toBe('ERR_MALFORMED');
  });
});

describe('varint', () => {
  it('round-trips and rejects non-canonical encodings', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (n) => {
        const e = encodeVarint(n);
        expect(decodeVarint(e)).toEqual({ value: n, length: e.length });
      }),
    );
    expect(toHex(encodeVarint(0xed))).toBe('ed01');
    expect(code(() => decodeVarint(fromHex('8000')))).toBe('ERR_MALFORMED');
    expect(code(() => decodeVarint(fromHex('80')))).toBe('ERR_MALFORMED');
  });
});

describe('bytes and JSON', () => {
  it('rejects invalid UTF-8 and over-deep JSON with typed errors', () => {
    expect(code(() => fromUtf8(fromHex('c328')))).toBe('ERR_MALFORMED');
    expect(code(() => parseJson('['.repeat(100) + ']'.repeat(100)))).toBe('ERR_TOO_LARGE');
    expect(code(() => parseJson('{"a":'))).toBe('ERR_MALFORMED');
    const polluted = parseJson('{"__proto__":{"x":1}}') as Record<string, unknown>;
    expect(Object.prototype.hasOwnProperty.call(polluted, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(parseJson('{"a":"[[[["}')).toEqual({ a: '[[[[' });
  });
});
