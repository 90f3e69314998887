/**
 * The deterministic CBOR codec: RFC 8949 Appendix A examples, agreement with an independent
 * implementation (cbor-x) in both directions, canonical-only decoding, and fuzzing.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decoder, Encoder } from 'cbor-x';

const cborx = new Decoder({ useRecords: false, mapsAsObjects: false, int64AsNumber: true } as never);
import { encodeCbor } from '../../src/cbor/encode.js';
import { decodeCbor } from '../../src/cbor/decode.js';
import { CborTag, type CborValue } from '../../src/cbor/types.js';
import { fromHex, toHex } from '../../src/util/bytes.js';
import { DidcommError } from '../../src/errors.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return (e as DidcommError).code;
  }
  return 'no error';
}

// RFC 8949 Appendix A (the deterministic subset: preferred floats, definite lengths).
const APPENDIX_A: Array<[CborValue, string]> = [
  [0, '00'], [1, '01'], [10, '0a'], [23, '17'], [24, '1818'], [25, '1819'], [100, '1864'], [1000, '1903e8'],
  [1000000, '1a000f4240'], [1000000000000, '1b000000e8d4a51000'], [-1, '20'], [-10, '29'], [-100, '3863'], [-1000, '3903e7'],
  [-0, 'f98000'], [1.1, 'fb3ff199999999999a'], [1.5, 'f93e00'], [65504.0 + 0.5, 'fa477fe080'], [100000.5, 'fa47c35040'],
  [3.4028234663852886e38, 'fa7f7fffff'], [1.0e300, 'fb7e37e43c8800759c'], [5.960464477539063e-8, 'f90001'], [0.00006103515625, 'f90400'],
  [-4.1, 'fbc010666666666666'], [Infinity, 'f97c00'], [NaN, 'f97e00'], [-Infinity, 'f9fc00'],
  [false, 'f4'], [true, 'f5'], [null, 'f6'], [new Uint8Array(0), '40'], [fromHex('01020304'), '4401020304'],
  ['', '60'], ['a', '6161'], ['IETF', '6449455446'], ['"\\', '62225c'], ['\u00fc', '62c3bc'], ['\u6c34', '63e6b0b4'],
  ['\ud800\udd51', '64f0908591'], [[], '80'], [[1, 2, 3], '83010203'], [[1, [2, 3], [4, 5]], '8301820203820405'],
  [new Map(), 'a0'], [new Map([[1, 2], [3, 4]]), 'a201020304'], [new Map<CborValue, CborValue>([['a', 1], ['b', [2, 3]]]), 'a26161016162820203'],
  [new CborTag(1, 1363896240), 'c11a514b67b0'],
];

describe('deterministic CBOR', () => {
  it('encodes the RFC 8949 Appendix A examples and decodes them back', () => {
    for (const [value, hex] of APPENDIX_A) {
      expect(toHex(encodeCbor(value))).toBe(hex);
      const back = decodeCbor(fromHex(hex), { allowedTags: [1] });
      if (typeof value === 'number' && Number.isNaN(value)) expect(Number.isNaN(back)).toBe(true);
      else expect(back).toEqual(value);
    }
  });

  it('sorts map keys by encoded bytes (integers before texts, shorter first)', () => {
    const m = new Map<CborValue, CborValue>([['b', 1], [100, 2], [-1, 3], ['a', 4], [10, 5]]);
    expect(toHex(encodeCbor(m))).toBe('a50a05186402200361610461620' + '1');
  });

  const arbValue: fc.Arbitrary<CborValue> = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
      fc.double({ noNaN: true }),
      fc.string(),
      fc.uint8Array({ maxLength: 40 }),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('v'), { maxLength: 5 }) as fc.Arbitrary<CborValue[]>,
      fc.array(fc.tuple(fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.string({ maxLength: 6 })), tie('v')), { maxLength: 5 }).map((es) => new Map<CborValue, CborValue>(es as Array<[CborValue, CborValue]>)),
    ),
  })).v;

  it('round-trips random values, and cbor-x reads our bytes as the same value', () => {
    fc.assert(
      fc.property(arbValue, (v) => {
        const bytes = encodeCbor(v);
        expect(decodeCbor(bytes)).toEqual(v);
        const theirs = cborx.decode(bytes);
        expect(normalize(theirs)).toEqual(normalize(v));
      }),
      { numRuns: 400 },
    );
  });

  it('accepts canonical bytes produced by cbor-x and rejects its non-canonical ones', () => {
    const enc = new Encoder({ useRecords: false, mapsAsObjects: false, useFloat32: 0 as never });
    // cbor-x writes floats as float64 and keeps insertion order: we must refuse such encodings.
    expect(codeOf(() => decodeCbor(new Uint8Array(enc.encode(1.5))))).toBe('ERR_MALFORMED');
    expect(codeOf(() => decodeCbor(new Uint8Array(enc.encode(new Map([[2, 0], [1, 0]])))))).toBe('ERR_MALFORMED');
    // ...and accept its canonical ones.
    expect(decodeCbor(new Uint8Array(enc.encode([1, 'a', Buffer.from([9]), -500, new Map<unknown, unknown>([[1, 'x'], ['a', true]])])))).toEqual([1, 'a', new Uint8Array([9]), -500, new Map<CborValue, CborValue>([[1, 'x'], ['a', true]])]);
  });

  it('rejects every non-canonical or unsafe encoding with a typed error', () => {
    const bad: Array<[string, string]> = [
      ['1817', 'ERR_MALFORMED'], // 23 in two bytes
      ['190017', 'ERR_MALFORMED'],
      ['5f4101ff', 'ERR_MALFORMED'], // indefinite byte string
      ['9f01ff', 'ERR_MALFORMED'],
      ['a202000100', 'ERR_MALFORMED'], // unsorted keys
      ['a201000100', 'ERR_MALFORMED'], // duplicate keys
      ['fa3fc00000', 'ERR_MALFORMED'], // 1.5 as float32
      ['f94500', 'ERR_MALFORMED'], // 5.0 as a float: integral
      ['f97e01', 'ERR_MALFORMED'], // non-canonical NaN
      ['f7', 'ERR_MALFORMED'], // undefined
      ['f0', 'ERR_MALFORMED'], // simple(16)
      ['c11a514b67b0', 'ERR_MALFORMED'], // tag not allowed
      ['62c328', 'ERR_MALFORMED'], // invalid UTF-8
      ['0000', 'ERR_MALFORMED'], // trailing bytes
      ['5a0fffffff', 'ERR_MALFORMED'], // claims 268 MB
      ['9b00000001000000000000', 'ERR_MALFORMED'], // huge array, nothing present
      ['1c', 'ERR_MALFORMED'],
      ['1b0020000000000000', 'ERR_UNSUPPORTED'],
      ['', 'ERR_MALFORMED'],
    ];
    for (const [hex, code] of bad) expect([hex, codeOf(() => decodeCbor(fromHex(hex)))]).toEqual([hex, code]);
    expect(codeOf(() => decodeCbor(fromHex('81'.repeat(100) + '00')))).toBe('ERR_TOO_LARGE');
  });

  it('never crashes or hangs on random bytes; decodes only canonical inputs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          const v = decodeCbor(b, { allowedTags: [37] });
          expect(toHex(encodeCbor(v))).toBe(toHex(b));
        } catch (e) {
          expect(e).toBeInstanceOf(DidcommError);
        }
      }),
      { numRuns: 5000 },
    );
  });
});

/** cbor-x returns Buffers and plain numbers; compare on a neutral representation. */
function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: toHex(new Uint8Array(v)) };
  if (Array.isArray(v)) return v.map(normalize);
  if (v instanceof Map) return { map: [...v.entries()].map(([k, x]) => [normalize(k), normalize(x)]).sort((a, b) => (JSON.stringify(a[0]) < JSON.stringify(b[0]) ? -1 : 1)) };
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  if (typeof v === 'bigint') return Number(v);
  return v;
}

describe('text strings keep every character', () => {
  it('does not drop a leading U+FEFF (BOM) from a text string', () => {
    expect(decodeCbor(encodeCbor('\ufeffx'))).toBe('\ufeffx');
  });
});
