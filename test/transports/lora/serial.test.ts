import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { DidcommError } from '../../../src/errors.js';
import { concatBytes, utf8 } from '../../../src/util/bytes.js';
import { crc16 } from '../../../transports/serial/crc16.js';
import {
  COBS_FRAME_OVERHEAD,
  CobsFrameDecoder,
  cobsDecode,
  cobsEncode,
  encodeCobsFrame,
} from '../../../transports/serial/cobs-frames.js';
import { LineSplitter } from '../../../transports/serial/line-splitter.js';
import { bytesToLatin1, latin1ToBytes } from '../../../transports/serial/latin1.js';
import { createSerialPair } from '../../../transports/serial/memory-pair.js';

/** Splits `bytes` at the given cut points. */
function cut(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const sorted = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of sorted) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

describe('CRC-16/CCITT-FALSE', () => {
  it('has the catalogue check value 0x29B1', () => {
    expect(crc16(utf8('123456789'))).toBe(0x29b1);
    expect(crc16(new Uint8Array(0))).toBe(0xffff);
  });
});

describe('COBS', () => {
  it('encodes the reference examples', () => {
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    expect(hex(cobsEncode(Uint8Array.of(0x00)))).toBe('0101');
    expect(hex(cobsEncode(Uint8Array.of(0x00, 0x00)))).toBe('010101');
    expect(hex(cobsEncode(Uint8Array.of(0x11, 0x22, 0x00, 0x33)))).toBe('0311220233');
    expect(hex(cobsEncode(Uint8Array.of(0x11, 0x00, 0x00, 0x00)))).toBe('0211010101');
    const ff = new Uint8Array(254).map((_, i) => i + 1);
    expect(cobsEncode(ff).length).toBe(256);
    expect(cobsEncode(ff)[0]).toBe(0xff);
  });

  it('round-trips any bytes and never emits 0x00', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (b) => {
        const e = cobsEncode(b);
        expect(e.includes(0)).toBe(false);
        expect(Buffer.from(cobsDecode(e)).equals(Buffer.from(b))).toBe(true);
      }),
    );
  });

  it('rejects invalid blocks with ERR_MALFORMED', () => {
    expect(() => cobsDecode(Uint8Array.of(0x05, 0x01))).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED' }));
    expect(() => cobsDecode(Uint8Array.of(0x02, 0x00))).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED' }));
  });
});

describe('COBS + CRC frames', () => {
  it('adds exactly 5 bytes up to 251-byte payloads', () => {
    for (const n of [1, 53, 235, 251]) expect(encodeCobsFrame(new Uint8Array(n)).length).toBe(n + COBS_FRAME_OVERHEAD);
  });

  it('recovers every frame through split/merged reads and garbage between frames', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 235 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 7, maxLength: 7 }),
        fc.array(fc.nat(2000), { maxLength: 12 }),
        (frames, garbage, cuts) => {
          const got: Uint8Array[] = [];
          const errors: DidcommError[] = [];
          const dec = new CobsFrameDecoder({ maxEncodedLength: 240, onFrame: (f) => got.push(f), onError: (e) => errors.push(e) });
          const parts: Uint8Array[] = [];
          frames.forEach((f, i) => parts.push(garbage[i]!, encodeCobsFrame(f)));
          parts.push(garbage[6]!);
          for (const piece of cut(concatBytes(...parts), cuts)) dec.push(piece);
          // Garbage can (rarely) be a valid frame by itself; every real frame must be there, in order.
          const want = frames.map((f) => Buffer.from(f).toString('hex'));
          const have = got.map((f) => Buffer.from(f).toString('hex'));
          let j = 0;
          for (const h of have) if (h === want[j]) j++;
          expect(j).toBe(want.length);
          for (const e of errors) expect(['ERR_MALFORMED', 'ERR_TOO_LARGE']).toContain(e.code);
        },
      ),
    );
  });

  it('reports corrupted and over-long frames, then resynchronises', () => {
    const got: string[] = [];
    const codes: string[] = [];
    const dec = new CobsFrameDecoder({
      maxEncodedLength: 16,
      onFrame: (f) => got.push(Buffer.from(f).toString('hex')),
      onError: (e) => codes.push(e.code),
    });
    const good = encodeCobsFrame(Uint8Array.of(1, 2, 3));
    const bad = good.slice();
    bad[2]! ^= 0x40; // corrupt a data byte: CRC mismatch
    dec.push(bad);
    dec.push(new Uint8Array(40).fill(7)); // no delimiter for 40 bytes: too long
    dec.push(good);
    expect(got).toEqual(['010203']);
    expect(codes).toEqual(['ERR_MALFORMED', 'ERR_TOO_LARGE']);
  });
});

describe('LineSplitter', () => {
  it('splits CRLF lines across arbitrary chunk boundaries and skips empty lines', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(200), { maxLength: 10 }), (cuts) => {
        const lines: string[] = [];
        const s = new LineSplitter({ onLine: (l) => lines.push(l), onError: () => expect.fail('no error expected') });
        const text = '+OK\r\n\r\n+RCV=7,5,HE,LO,-42,11\r\nradio_rx  00FF\r\nbare-lf\n';
        for (const piece of cut(latin1ToBytes(text), cuts)) s.push(piece);
        expect(lines).toEqual(['+OK', '+RCV=7,5,HE,LO,-42,11', 'radio_rx  00FF', 'bare-lf']);
      }),
    );
  });

  it('discards an over-long line once and carries on (bounded memory)', () => {
    const lines: string[] = [];
    const codes: string[] = [];
    const s = new LineSplitter({ maxLineLength: 8, onLine: (l) => lines.push(l), onError: (e) => codes.push(e.code) });
    for (let i = 0; i < 100; i++) s.push(new Uint8Array(1000).fill(0x41));
    s.push(latin1ToBytes('\r\n12345678\r\n123456789\r\nok\r\n'));
    expect(lines).toEqual(['12345678', 'ok']);
    expect(codes).toEqual(['ERR_TOO_LARGE', 'ERR_TOO_LARGE']);
    expect((s as unknown as { partial: string }).partial.length).toBe(0);
  });

  it('keeps every byte value as one character (latin-1)', () => {
    const all = new Uint8Array(256).map((_, i) => i);
    expect(latin1ToBytes(bytesToLatin1(all))).toEqual(all);
  });
});

describe('in-memory serial pair', () => {
  it('delivers writes in order, asynchronously, split by the chunker', async () => {
    const [a, b] = createSerialPair({ chunker: (c) => [c.subarray(0, 1), c.subarray(1)] });
    const got: number[][] = [];
    b.on('data', (c) => got.push([...c]));
    let done = false;
    a.write(Uint8Array.of(1, 2, 3), () => (done = true));
    a.write(Uint8Array.of(4));
    expect(got).toEqual([]); // not synchronous
    await Promise.resolve();
    await Promise.resolve();
    expect(got).toEqual([[1], [2, 3], [4]]);
    expect(done).toBe(true);
    b.inject(Uint8Array.of(9));
    await Promise.resolve();
    expect(got.at(-1)).toEqual([9]);
  });

  it('reports writes after close and drops data to a closed end', async () => {
    const [a, b] = createSerialPair();
    const got: Uint8Array[] = [];
    b.on('data', (c) => got.push(c));
    let closed = false;
    b.on('close', () => (closed = true));
    await new Promise<void>((r) => b.close(() => r()));
    expect(closed).toBe(true);
    a.write(Uint8Array.of(1));
    const e = await new Promise<Error | null | undefined>((r) => b.write(Uint8Array.of(1), r));
    expect(e).toBeInstanceOf(Error);
    await Promise.resolve();
    expect(got).toEqual([]);
  });
});
