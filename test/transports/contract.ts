/**
 * The shared Transport contract (MQTT.js-style abstract suite). Every Transport implementation
 * calls `transportContract(name, makePair)` from its own test file. `makePair` builds two connected
 * ends `a` and `b`; if the link runs on virtual time it also returns the ManualClock, and the suite
 * advances it while waiting.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LinkAddress, Transport } from '../../transports/types.js';
import type { ManualClock } from '../../src/util/clock.js';
import { DidcommError } from '../../src/errors.js';

export interface TransportPair {
  a: Transport;
  b: Transport;
  /** Address to pass to `a.send(frame, to)` so the frame reaches `b` (undefined for point-to-point). */
  bAddress: LinkAddress | undefined;
  /** Present when the link uses virtual time. */
  clock?: ManualClock;
  /** Largest frame to use in the round-trip tests (defaults to min(a.mtu, 4096)). */
  maxTestFrame?: number;
  cleanup?: () => Promise<void>;
}

/** Waits (advancing virtual time if any) until `done()` or the budget runs out. */
export async function waitUntil(done: () => boolean, pair: Pick<TransportPair, 'clock'>, budgetMs = 10_000): Promise<void> {
  if (pair.clock) {
    await pair.clock.runUntilDone(done, budgetMs * 100);
  } else {
    const end = Date.now() + budgetMs;
    while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  }
  if (!done()) throw new Error('timed out waiting for the transport');
}

async function expectCode(p: Promise<unknown>, ...codes: string[]): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    expect(codes).toContain((e as DidcommError).code);
    return;
  }
  throw new Error(`expected rejection with ${codes.join('|')}`);
}

/** Sends, retrying while the link reports a duty-cycle wait (advancing virtual time). */
export async function sendWhenAllowed(pair: TransportPair, frame: Uint8Array): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const delay = pair.a.sendDelay(frame.length);
    if (delay > 0 && pair.clock) await pair.clock.advance(delay);
    try {
      const p = pair.a.send(frame, pair.bAddress);
      if (pair.clock) {
        let settled = false;
        p.then(
          () => (settled = true),
          () => (settled = true),
        );
        await pair.clock.runUntilDone(() => settled, 3_600_000);
      }
      await p;
      return;
    } catch (e) {
      if (e instanceof DidcommError && e.code === 'ERR_DUTY_CYCLE' && pair.clock) {
        await pair.clock.advance(e.retryAfterMs ?? 1000);
        continue;
      }
      throw e;
    }
  }
  throw new Error('could not send within 100 attempts');
}

export function transportContract(name: string, makePair: () => Promise<TransportPair>): void {
  describe(`Transport contract: ${name}`, () => {
    let pair: TransportPair | undefined;

    afterEach(async () => {
      if (!pair) return;
      await pair.a.close();
      await pair.b.close();
      await pair.cleanup?.();
      pair = undefined;
    });

    it('reports a positive integer mtu, a kind and an online state', async () => {
      pair = await makePair();
      for (const t of [pair.a, pair.b]) {
        expect(Number.isInteger(t.mtu) && t.mtu > 0).toBe(true);
        expect(typeof t.kind).toBe('string');
        expect(t.state).toBe('online');
        expect(t.sendDelay(1)).toBeGreaterThanOrEqual(0);
      }
    });

    it('delivers frames intact, binary-safe (every byte value, CR/LF, commas, zeros)', async () => {
      pair = await makePair();
      const p = pair;
      const got: Uint8Array[] = [];
      p.b.on('frame', (f) => got.push(f));
      const max = p.maxTestFrame ?? Math.min(p.a.mtu, 4096);
      const all = new Uint8Array(Math.min(max, 256)).map((_, i) => i);
      const frames = [Uint8Array.of(0x0d, 0x0a, 0x2c, 0x00, 0x2b), all, new Uint8Array(max).fill(0xa5)];
      for (const f of frames) await sendWhenAllowed(p, f);
      await waitUntil(() => got.length >= frames.length, p);
      expect(got.map((g) => Buffer.from(g).toString('hex'))).toEqual(frames.map((f) => Buffer.from(f).toString('hex')));
    });

    it('rejects a frame larger than mtu with ERR_TOO_LARGE and sends nothing', async () => {
      pair = await makePair();
      const p = pair;
      let count = 0;
      p.b.on('frame', () => count++);
      await expectCode(p.a.send(new Uint8Array(p.a.mtu + 1), p.bAddress), 'ERR_TOO_LARGE');
      if (p.clock) await p.clock.advance(60_000);
      else await new Promise((r) => setTimeout(r, 50));
      expect(count).toBe(0);
    });

    it('stops delivering to a removed listener', async () => {
      pair = await makePair();
      const p = pair;
      let first = 0;
      let second = 0;
      const off = p.b.on('frame', () => first++);
      p.b.on('frame', () => second++);
      off();
      await sendWhenAllowed(p, Uint8Array.of(1, 2, 3));
      await waitUntil(() => second === 1, p);
      expect(first).toBe(0);
    });

    it('closes idempotently; send after close rejects with ERR_TRANSPORT', async () => {
      pair = await makePair();
      const p = pair;
      await p.a.close();
      await p.a.close();
      expect(p.a.state).toBe('closed');
      await expectCode(p.a.send(Uint8Array.of(1), p.bAddress), 'ERR_TRANSPORT');
    });
  });
}
