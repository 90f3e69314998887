import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32 } from '../../../transports/fragment/crc32.js';
import {
  decodeFrame,
  encodeAck,
  encodeData,
  encodeProbe,
  encodeRefuse,
  encodeRequest,
  fragmentCount,
  planFragments,
  MAX_FRAGMENT_INDEX,
  messageCrc,
  encodeMissingRequests,
  type RequestFrame,
} from '../../../transports/fragment/header.js';
import { DidcommError } from '../../../src/errors.js';
import { fromHex, toHex, utf8 } from '../../../src/util/bytes.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return (e as DidcommError).code;
  }
  throw new Error('expected a DidcommError');
}

describe('crc32', () => {
  it('matches the standard check value and zlib', async () => {
    expect(crc32(utf8('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(utf8('1234'), utf8('56789'))).toBe(0xcbf43926);
    // The message check binds the id: the same bytes under another id do not match.
    expect(messageCrc(3, utf8('abc'))).toBe(crc32(Uint8Array.of(3), utf8('abc')));
    expect(messageCrc(3, utf8('abc'))).not.toBe(messageCrc(4, utf8('abc')));
    const { crc32: zlibCrc } = await import('node:zlib');
    if (typeof zlibCrc === 'function') {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => crc32(b) === zlibCrc(b)));
    }
  });
});

describe('fragment header', () => {
  it('lays out data fragments as documented (2-byte header, 3 from index 128, CRC on the last)', () => {
    const p = Uint8Array.of(0xaa, 0xbb);
    expect(toHex(encodeData({ id: 5, index: 3, last: false, ackWanted: true, crc: 0, payload: p }))).toBe('2503aabb');
    expect(toHex(encodeData({ id: 31, index: 300, last: false, ackWanted: false, crc: 0, payload: p }))).toBe('1f812caabb');
    expect(toHex(encodeData({ id: 0, index: 0, last: true, ackWanted: false, crc: 0xcbf43926, payload: p }))).toBe('4000cbf43926aabb');
    expect(toHex(encodeAck(7, 0x01020304))).toBe('8701020304');
    expect(toHex(encodeRequest(7, 2, 0, Uint8Array.of(0x80)))).toBe('a7020080');
    expect(toHex(encodeProbe(7, 200, 1))).toBe('c780c800000001');
    expect(toHex(encodeRefuse(7, 1))).toBe('e701');
  });

  it('round-trips every frame kind', () => {
    const id = fc.integer({ min: 0, max: 31 });
    const index = fc.integer({ min: 0, max: MAX_FRAGMENT_INDEX });
    const crc = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(id, index, fc.boolean(), fc.boolean(), crc, fc.uint8Array({ minLength: 1, maxLength: 40 }), (i, x, last, a, c, payload) => {
        const f = decodeFrame(encodeData({ id: i, index: x, last, ackWanted: a, crc: last ? c : 0, payload }));
        expect(f).toEqual({ kind: 'data', id: i, index: x, last, ackWanted: a, crc: last ? c : 0, payload });
      }),
    );
    fc.assert(
      fc.property(id, index, crc, fc.integer({ min: 0, max: 255 }), fc.uint8Array({ minLength: 1, maxLength: 30 }), (i, x, c, round, bitmap) => {
        expect(decodeFrame(encodeAck(i, c))).toEqual({ kind: 'ack', id: i, crc: c });
        expect(decodeFrame(encodeProbe(i, x, c))).toEqual({ kind: 'probe', id: i, lastIndex: x, crc: c });
        expect(decodeFrame(encodeRefuse(i, round))).toEqual({ kind: 'refuse', id: i, reason: round });
        bitmap[0] = bitmap[0]! | 1;
        expect(decodeFrame(encodeRequest(i, round, x, bitmap))).toEqual({ kind: 'request', id: i, round, start: x, bitmap });
      }),
    );
  });

  it('rejects malformed frames with ERR_MALFORMED', () => {
    for (const hex of [
      '', // empty
      '00', // data without index
      '0081', // truncated 2-byte index
      '00807f00', // non-canonical index (<128 in 2 bytes)
      '0001', // non-last fragment without payload
      '4001aabbcc', // last fragment with truncated CRC
      '80010203', // ACK too short
      '8001020304ff', // ACK too long
      'a001', // REQUEST without start
      'a00100', // REQUEST without bitmap
      'a0010000', // REQUEST with an empty bitmap
      'c0010203', // PROBE too short
      'e0', // REFUSE too short
      'e00102', // REFUSE too long
    ]) {
      expect(codeOf(() => decodeFrame(fromHex(hex))), hex).toBe('ERR_MALFORMED');
    }
    // The smallest valid last fragment: an empty message.
    expect(decodeFrame(fromHex('400000000000'))).toMatchObject({ kind: 'data', last: true, payload: new Uint8Array(0) });
  });

  it('decodes arbitrary bytes to a frame or ERR_MALFORMED, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          const f = decodeFrame(b);
          expect(['data', 'ack', 'request', 'probe', 'refuse']).toContain(f.kind);
        } catch (e) {
          expect(e).toBeInstanceOf(DidcommError);
          expect((e as DidcommError).code).toBe('ERR_MALFORMED');
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('builds REQUEST rounds that name exactly the missing fragments, within the mtu', () => {
    const missingOf = (frames: Uint8Array[]): number[] =>
      frames.flatMap((f) => {
        expect(f.length).toBeLessThanOrEqual(20);
        const r = decodeFrame(f) as RequestFrame;
        expect(r).toMatchObject({ kind: 'request', id: 9, round: 4 });
        const out: number[] = [];
        for (let k = 0; k < r.bitmap.length * 8; k++) if (r.bitmap[k >> 3]! & (0x80 >> (k & 7))) out.push(r.start + k);
        return out;
      });
    const base = { id: 9, round: 4, mtu: 20, maxFrames: 4 };
    const gaps = new Set([2, 5, 200, 299]);
    const known = encodeMissingRequests({ ...base, have: (i) => !gaps.has(i), lastIndex: 299, maxIndex: 298 });
    expect(known).toHaveLength(2);
    expect(missingOf(known)).toEqual([2, 5, 200, 299]);
    // Last index unknown: everything after the highest received index is asked for, one window.
    const unknown = encodeMissingRequests({ ...base, have: (i) => i <= 9 && i !== 3, lastIndex: undefined, maxIndex: 9 });
    expect(unknown).toHaveLength(1);
    expect(missingOf(unknown)).toEqual([3, ...Array.from({ length: 129 }, (_, k) => 10 + k)]);
    // At most maxFrames frames per round, lowest first.
    const many = encodeMissingRequests({ ...base, maxFrames: 2, have: (i) => i % 200 !== 0, lastIndex: 1000, maxIndex: 999 });
    expect(missingOf(many)).toEqual([0, 200]);
    expect(encodeMissingRequests({ ...base, have: () => true, lastIndex: 10, maxIndex: 10 })).toEqual([]);
  });

  it('plans full fragments, a CRC-carrying last one, and agrees with fragmentCount', () => {
    // MTU 20: 18 payload bytes per fragment, 14 in the last.
    expect([...planFragments(0, 20)]).toEqual([0, 0]);
    expect([...planFragments(14, 20)]).toEqual([0, 14]);
    expect([...planFragments(15, 20)]).toEqual([0, 15, 15]);
    expect([...planFragments(32, 20)]).toEqual([0, 18, 32]);
    expect(planFragments(2048, 20).length - 1).toBe(114);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40_000 }), fc.integer({ min: 8, max: 300 }), (len, mtu) => {
        let offsets: Uint32Array;
        try {
          offsets = planFragments(len, mtu);
        } catch (e) {
          expect((e as DidcommError).code).toBe('ERR_TOO_LARGE');
          expect(fragmentCount(len, mtu)).toBeGreaterThan(MAX_FRAGMENT_INDEX + 1);
          return;
        }
        const n = offsets.length - 1;
        expect(fragmentCount(len, mtu)).toBe(n);
        expect(offsets[n]).toBe(len);
        for (let i = 0; i < n; i++) {
          const size = offsets[i + 1]! - offsets[i]!;
          const header = i < 128 ? 2 : 3;
          const frame = header + size + (i === n - 1 ? 4 : 0);
          expect(frame).toBeLessThanOrEqual(mtu);
          if (i < n - 1) expect(size).toBeGreaterThan(0);
        }
      }),
    );
    expect(codeOf(() => planFragments(600_000, 20))).toBe('ERR_TOO_LARGE');
  });
});
