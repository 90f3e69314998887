/**
 * Property tests of the fragmentation layer over the faulty memory link: random messages, MTUs
 * and fault mixes. Every message arrives intact exactly once or its send rejects with a typed
 * error; nothing else is ever delivered; the tables stay within their limits and end empty.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DidcommError } from '../../../src/errors.js';
import { toHex } from '../../../src/util/bytes.js';
import type { FragmentTransport } from '../../../transports/fragment/index.js';
import { bytesOf, fragmentPair, type FragmentPair } from './helpers.js';

/** Runs per property; raise with FRAGMENT_PROPERTY_RUNS=2000 for a long hunt. */
const RUNS = Number(process.env.FRAGMENT_PROPERTY_RUNS ?? 60);

const LIMITS = { maxPartials: 16, maxBufferedBytes: 262_144, maxInFlight: 8, maxCompleted: 64 };

function checkTables(t: FragmentTransport): void {
  const s = t.tables;
  expect(s.partials).toBeLessThanOrEqual(LIMITS.maxPartials);
  expect(s.bufferedBytes).toBeLessThanOrEqual(LIMITS.maxBufferedBytes);
  expect(s.bufferedBytes).toBeGreaterThanOrEqual(0);
  expect(s.inFlight).toBeLessThanOrEqual(LIMITS.maxInFlight);
  expect(s.completed).toBeLessThanOrEqual(LIMITS.maxCompleted);
}

interface Outcome {
  code: string;
  message: Uint8Array;
}

/** Sends every message (concurrently or one after the other) and runs virtual time until all settle. */
async function run(p: FragmentPair, messages: Uint8Array[], concurrent: boolean, oneWay: boolean): Promise<Outcome[]> {
  const send = (m: Uint8Array) => (oneWay ? p.a.sendOneWay(m, 'b') : p.a.send(m, 'b'));
  const outcomes: Outcome[] = [];
  const track = (m: Uint8Array, promise: Promise<void>): Promise<void> =>
    promise.then(
      () => void outcomes.push({ code: 'ok', message: m }),
      (e: unknown) => {
        expect(e).toBeInstanceOf(DidcommError);
        outcomes.push({ code: (e as DidcommError).code, message: m });
      },
    );
  if (concurrent) {
    const all = messages.map((m) => track(m, send(m)));
    await p.clock.runUntilDone(() => outcomes.length === messages.length, 24 * 3_600_000);
    await Promise.all(all);
  } else {
    for (const m of messages) {
      const done = track(m, send(m));
      const before = outcomes.length;
      await p.clock.runUntilDone(() => outcomes.length > before, 24 * 3_600_000);
      await done;
    }
  }
  expect(outcomes).toHaveLength(messages.length);
  // Let stragglers, timeouts and expiries play out.
  await p.clock.advance(120_000);
  return outcomes;
}

/** A probability in percent steps, so small, medium and large rates all get drawn. */
const rate = (maxPercent: number) => fc.integer({ min: 0, max: maxPercent }).map((x) => x / 100);

const faults = fc.record({
  loss: rate(40),
  duplicate: rate(30),
  reorder: rate(30),
  corrupt: fc.integer({ min: 0, max: 20 }).map((x) => x / 1000),
});

/** Message bodies: a length in 0..maxLength and a seed for the bytes (cheap to shrink). */
const bodies = fc.array(
  fc.tuple(fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 3000 })), fc.integer({ min: 1, max: 1e9 })),
  { minLength: 1, maxLength: 4 },
);

const scenario = fc.record({
  mtu: fc.integer({ min: 20, max: 255 }),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  delayMs: fc.integer({ min: 0, max: 20 }),
  faults,
  bodies,
  concurrent: fc.boolean(),
});

/** Distinct messages: a leading index byte, then the body. */
function messagesOf(spec: Array<[number, number]>): Uint8Array[] {
  return spec.map(([length, seed], i) => {
    const m = new Uint8Array(length + 1);
    m[0] = i;
    m.set(bytesOf(length, seed), 1);
    return m;
  });
}

const stats: Array<[number, number, number, number]> = [];

describe('fragment layer properties', () => {
  it('ack-on-error: each message is delivered intact exactly once, or its send rejects typed', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (c) => {
        const p = fragmentPair({ mtu: c.mtu, seed: c.seed, delayMs: c.delayMs, faults: c.faults });
        p.hub.on('transmit', () => {
          checkTables(p.a);
          checkTables(p.b);
        });
        const messages = messagesOf(c.bodies);
        const outcomes = await run(p, messages, c.concurrent, false);
        const sent = new Map(messages.map((m) => [toHex(m), 0]));
        for (const r of p.received) {
          const k = toHex(r.message);
          expect(sent.has(k)).toBe(true); // never a wrong or corrupted message
          sent.set(k, sent.get(k)! + 1);
          expect(r.from).toBe('a');
        }
        for (const o of outcomes) {
          const n = sent.get(toHex(o.message))!;
          if (o.code === 'ok') expect(n).toBe(1);
          else {
            expect(['ERR_TIMEOUT', 'ERR_TRANSPORT']).toContain(o.code);
            expect(n).toBeLessThanOrEqual(1);
          }
        }
        stats.push([messages.reduce((n, m) => n + m.length, 0), outcomes.filter((o) => o.code === 'ok').length, outcomes.length, p.a.stats.sender.retransmissions]);
        if (c.faults.loss === 0 && c.faults.corrupt === 0) expect(outcomes.every((o) => o.code === 'ok')).toBe(true);
        for (const t of [p.a, p.b]) {
          expect(t.tables).toMatchObject({ inFlight: 0, partials: 0, bufferedBytes: 0, queuedFrames: 0 });
        }
        await p.a.close();
        await p.b.close();
        await p.clock.advance(1);
        expect(p.clock.pending).toBe(0);
      }),
      { numRuns: RUNS },
    );
    const bytes = stats.reduce((n, s) => n + s[0], 0);
    const ok = stats.reduce((n, s) => n + s[1], 0);
    const all = stats.reduce((n, s) => n + s[2], 0);
    console.log(`ack-on-error runs: ${stats.length}, ${all} messages (${bytes} B), ${ok} acknowledged, ${all - ok} rejected typed, ${stats.reduce((n, s) => n + s[3], 0)} fragments resent`);
  });

  it('one-way: at most once and intact; exactly once on a link that loses nothing', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, fc.boolean(), async (c, clean) => {
        const f = clean ? { duplicate: c.faults.duplicate, reorder: c.faults.reorder } : c.faults;
        const p = fragmentPair({ mtu: c.mtu, seed: c.seed, delayMs: c.delayMs, faults: f }, { mode: 'one-way' });
        p.hub.on('transmit', () => checkTables(p.b));
        const messages = messagesOf(c.bodies);
        const outcomes = await run(p, messages, c.concurrent, true);
        expect(outcomes.every((o) => o.code === 'ok')).toBe(true);
        const counts = new Map(messages.map((m) => [toHex(m), 0]));
        for (const r of p.received) {
          const k = toHex(r.message);
          expect(counts.has(k)).toBe(true);
          counts.set(k, counts.get(k)! + 1);
        }
        for (const n of counts.values()) expect(n).toBeLessThanOrEqual(1);
        if (clean) expect(p.received).toHaveLength(messages.length);
        // Only a damaged A bit could make the receiver answer a one-way sender.
        if (clean || c.faults.corrupt === 0) expect(p.wire.controlFromB).toBe(0);
        expect(p.b.tables).toMatchObject({ partials: 0, bufferedBytes: 0 });
      }),
      { numRuns: RUNS },
    );
  });
});
