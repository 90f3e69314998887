/**
 * Fuzzing the inbound side of the fragmentation layer: arbitrary bytes and random well-formed
 * frames from the air never throw, never hang, never deliver anything, surface only as documented
 * 'error' events (ERR_MALFORMED for undecodable frames; ERR_TIMEOUT / ERR_STORE_FULL /
 * ERR_TOO_LARGE for partial messages they start), keep every table bounded and leave nothing
 * behind; and they cannot disturb a real message from another address.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ManualClock } from '../../../src/util/clock.js';
import { DidcommError } from '../../../src/errors.js';
import { equalBytes } from '../../../src/util/bytes.js';
import { MemoryHub } from '../../../transports/memory.js';
import { FragmentTransport } from '../../../transports/fragment/index.js';
import { decodeFrame, encodeAck, encodeData, encodeProbe, encodeRefuse, encodeRequest } from '../../../transports/fragment/header.js';
import { bytesOf, settle } from './helpers.js';

const DOCUMENTED = ['ERR_MALFORMED', 'ERR_TIMEOUT', 'ERR_STORE_FULL', 'ERR_TOO_LARGE'];

const id = fc.integer({ min: 0, max: 31 });
const index = fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 0x7fff }));
const crc = fc.integer({ min: 0, max: 0xffffffff });

/** Frames that decode: they reach the reassembler's and the sender's logic, not just the decoder. */
const wellFormed = fc.oneof(
  fc
    .tuple(id, index, fc.boolean(), fc.boolean(), crc, fc.uint8Array({ minLength: 1, maxLength: 30 }))
    .map(([i, x, last, a, c, payload]) => encodeData({ id: i, index: x, last, ackWanted: a, crc: c, payload })),
  fc.tuple(id, crc).map(([i, c]) => encodeAck(i, c)),
  fc.tuple(id, fc.integer({ min: 0, max: 255 }), index, fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([i, r, x, b]) => {
    b[0] = b[0]! | 0x80;
    return encodeRequest(i, r, x, b);
  }),
  fc.tuple(id, index, crc).map(([i, x, c]) => encodeProbe(i, x, c)),
  fc.tuple(id, fc.integer({ min: 0, max: 255 })).map(([i, r]) => encodeRefuse(i, r)),
);

const frame = fc.oneof(fc.uint8Array({ maxLength: 300 }), wellFormed);

function setup(options = {}) {
  const clock = new ManualClock();
  const hub = new MemoryHub({ clock, mtu: 20 });
  const air = hub.attach('air', { mtu: 4096 });
  const b = new FragmentTransport(hub.attach('b'), { clock, maxPartials: 8, maxPartialsPerPeer: 4, maxBufferedBytes: 65_536, maxMessageSize: 16_384, ...options });
  const errors: DidcommError[] = [];
  const delivered: Uint8Array[] = [];
  b.on('error', (e) => errors.push(e));
  b.on('frame', (m) => delivered.push(m));
  return { clock, hub, air, b, errors, delivered };
}

describe('fragment decoder fuzz', () => {
  it('arbitrary inbound frames: no throw, no hang, no delivery, documented errors, bounded tables', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { maxLength: 120 }), async (frames) => {
        const { clock, air, b, errors, delivered } = setup();
        let undecodable = 0;
        for (const f of frames) {
          try {
            decodeFrame(f);
          } catch {
            undecodable++;
          }
          await air.send(f, 'b');
          await clock.advance(10);
          const t = b.tables;
          expect(t.partials).toBeLessThanOrEqual(8);
          expect(t.bufferedBytes).toBeLessThanOrEqual(65_536);
          expect(t.completed).toBeLessThanOrEqual(64);
        }
        await clock.advance(120_000);
        expect(delivered).toHaveLength(0);
        for (const e of errors) {
          expect(e).toBeInstanceOf(DidcommError);
          expect(DOCUMENTED).toContain(e.code);
        }
        expect(b.stats.malformed).toBe(undecodable);
        expect(errors.filter((e) => e.code === 'ERR_MALFORMED').length).toBeGreaterThanOrEqual(undecodable);
        expect(b.tables).toMatchObject({ partials: 0, bufferedBytes: 0, inFlight: 0, queuedFrames: 0 });
        await b.close();
        await clock.advance(1);
        expect(clock.pending).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('a flood of garbage from one address cannot touch a message from another', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 20, maxLength: 80 }), async (frames) => {
        const { clock, hub, air, delivered } = setup();
        const a = new FragmentTransport(hub.attach('a'), { clock });
        const message = bytesOf(1500, 3);
        const sending = a.send(message, 'b');
        for (const f of frames) void air.send(f, 'b');
        expect(await settle(clock, sending)).toBe('ok');
        expect(delivered.map((m) => equalBytes(m, message))).toEqual([true]);
      }),
      { numRuns: 40 },
    );
  });

  it('the empty frame is ERR_MALFORMED; big fragments are held within maxMessageSize, then refused', async () => {
    const { clock, air, b, errors } = setup();
    await air.send(new Uint8Array(0), 'b');
    await clock.advance(10);
    expect(errors.map((e) => e.code)).toEqual(['ERR_MALFORMED']);
    // 1f 64+i ...: non-last data fragment, id 31, index 100+i, 4094 B. Four fit in 16 KiB, a fifth does not.
    const big = (index: number) => {
      const f = new Uint8Array(4096).fill(0xee);
      f[0] = 0x1f;
      f[1] = index;
      return f;
    };
    for (let i = 0; i < 5; i++) {
      const f = big(100 + i);
      await air.send(f, 'b');
      await clock.advance(10);
      if (i < 4) expect(b.tables.bufferedBytes).toBe(4094 * (i + 1));
    }
    expect(errors.map((e) => e.code)).toEqual(['ERR_MALFORMED', 'ERR_TOO_LARGE']);
    expect(b.tables).toMatchObject({ partials: 0, bufferedBytes: 0 });
    // Further fragments of the refused message are dropped without holding memory.
    await air.send(big(110), 'b');
    await clock.advance(10);
    expect(b.tables.bufferedBytes).toBe(0);
  });
});
