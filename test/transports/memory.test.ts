import { describe, expect, it } from 'vitest';
import { transportContract } from './contract.js';
import { createMemoryPair, MemoryHub, type MemoryHubOptions } from '../../transports/memory.js';
import { ManualClock } from '../../src/util/clock.js';
import { DidcommError } from '../../src/errors.js';
import type { LinkAddress } from '../../transports/types.js';

transportContract('memory (point-to-point, virtual time)', async () => {
  const clock = new ManualClock();
  const { a, b } = createMemoryPair({ clock, delayMs: 5 });
  return { a, b, bAddress: undefined, clock };
});

transportContract('memory (addressed hub of three, real time)', async () => {
  const hub = new MemoryHub({ mtu: 1024 });
  const a = hub.attach('a');
  const b = hub.attach('b');
  const c = hub.attach('c');
  return { a, b, bAddress: 'b', cleanup: () => c.close() };
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return (e as DidcommError).code;
  }
  throw new Error('expected a rejection');
}

function collect(t: { on(e: 'frame', l: (f: Uint8Array, from: LinkAddress | undefined) => void): () => void }) {
  const got: Array<{ frame: Uint8Array; from: LinkAddress | undefined }> = [];
  t.on('frame', (frame, from) => got.push({ frame, from }));
  return got;
}

async function sendMany(options: MemoryHubOptions, n: number) {
  const clock = new ManualClock();
  const { hub, a, b } = createMemoryPair({ clock, ...options });
  const got = collect(b);
  for (let i = 0; i < n; i++) await a.send(Uint8Array.of(i >> 8, i & 0xff, 0, 0, 0, 0, 0, 0));
  await clock.advance(10_000);
  return { hub, got: got.map((g) => g.frame) };
}

describe('memory link', () => {
  it('addresses frames to one member or broadcasts to all others, with the sender address', async () => {
    const hub = new MemoryHub();
    const [a, b, c] = ['a', 'b', 'c'].map((x) => hub.attach(x));
    const gotB = collect(b!);
    const gotC = collect(c!);
    await a!.send(Uint8Array.of(1), 'c');
    await a!.send(Uint8Array.of(2));
    await new Promise((r) => setImmediate(r));
    expect(gotB.map((g) => [...g.frame])).toEqual([[2]]);
    expect(gotC.map((g) => [...g.frame])).toEqual([[1], [2]]);
    expect(gotC[0]!.from).toBe('a');
    expect(await code(a!.send(Uint8Array.of(3), 'nobody'))).toBe('ERR_TRANSPORT');
    expect(() => hub.attach('a')).toThrowError(DidcommError);
  });

  it('never delivers inside send and delivers after the configured delay on the clock', async () => {
    const clock = new ManualClock();
    const { a, b } = createMemoryPair({ clock, delayMs: 100 });
    const got = collect(b);
    await a.send(Uint8Array.of(7));
    await clock.advance(99);
    expect(got).toHaveLength(0);
    await clock.advance(1);
    expect(got).toHaveLength(1);
  });

  it('copies frames (the sender may reuse its buffer)', async () => {
    const { a, b } = createMemoryPair();
    const got = collect(b);
    const buf = Uint8Array.of(1, 2, 3);
    await a.send(buf);
    buf.fill(0);
    await new Promise((r) => setImmediate(r));
    expect([...got[0]!.frame]).toEqual([1, 2, 3]);
  });

  it('checks arguments and mtu', async () => {
    const { a } = createMemoryPair({ mtu: 20 });
    expect(await code(a.send(new Uint8Array(21)))).toBe('ERR_TOO_LARGE');
    expect(await code(a.send('x' as unknown as Uint8Array))).toBe('ERR_ARGUMENT');
    expect(() => new MemoryHub({ mtu: 0 })).toThrowError(DidcommError);
    expect(() => new MemoryHub({ faults: { loss: 2 } })).toThrowError(DidcommError);
    expect(() => new MemoryHub({ delayMs: -1 })).toThrowError(DidcommError);
  });

  it('loses frames at the configured rate, reproducibly from the seed', async () => {
    const first = await sendMany({ faults: { loss: 0.3 }, seed: 42 }, 1000);
    const again = await sendMany({ faults: { loss: 0.3 }, seed: 42 }, 1000);
    const other = await sendMany({ faults: { loss: 0.3 }, seed: 43 }, 1000);
    expect(first.got.length).toBeGreaterThan(620);
    expect(first.got.length).toBeLessThan(780);
    expect(first.hub.stats.lost).toBe(1000 - first.got.length);
    expect(again.got).toEqual(first.got);
    expect(other.got).not.toEqual(first.got);
    expect((await sendMany({ faults: { loss: 1 } }, 50)).got).toHaveLength(0);
  });

  it('duplicates, reorders and corrupts frames when asked', async () => {
    const dup = await sendMany({ faults: { duplicate: 0.5 } }, 200);
    expect(dup.got.length).toBe(200 + dup.hub.stats.duplicated);
    expect(dup.hub.stats.duplicated).toBeGreaterThan(60);

    const reo = await sendMany({ faults: { reorder: 0.3 }, delayMs: 1 }, 200);
    const order = reo.got.map((f) => f[0]! * 256 + f[1]!);
    expect(order).toHaveLength(200);
    expect(order).not.toEqual([...order].sort((x, y) => x - y));
    expect([...order].sort((x, y) => x - y)).toEqual([...Array(200).keys()]);

    const cor = await sendMany({ faults: { corrupt: 1 } }, 100);
    for (let i = 0; i < 100; i++) {
      const f = cor.got[i]!;
      const sent = Uint8Array.of(i >> 8, i & 0xff, 0, 0, 0, 0, 0, 0);
      let bits = 0;
      for (let j = 0; j < f.length; j++) for (let x = f[j]! ^ sent[j]!; x; x &= x - 1) bits++;
      expect(bits).toBe(1);
    }
  });

  it('announced partition: offline state, sends rejected, frames in flight dropped; heal restores', async () => {
    const clock = new ManualClock();
    const { hub, a, b } = createMemoryPair({ clock, delayMs: 10 });
    const states: string[] = [];
    b.on('state', (s) => states.push(s));
    const got = collect(b);
    await a.send(Uint8Array.of(1));
    hub.partition(['b']);
    expect(b.state).toBe('offline');
    expect(await code(b.send(Uint8Array.of(2)))).toBe('ERR_TRANSPORT');
    await a.send(Uint8Array.of(3));
    await clock.advance(100);
    expect(got).toHaveLength(0);
    hub.heal();
    expect(b.state).toBe('online');
    await a.send(Uint8Array.of(4));
    await clock.advance(100);
    expect(got.map((g) => g.frame[0])).toEqual([4]);
    expect(states).toEqual(['offline', 'online']);
    expect(hub.stats.partitioned).toBe(2);
  });

  it('silent partition: still online, frames vanish', async () => {
    const { hub, a, b } = createMemoryPair();
    const got = collect(b);
    hub.partition(undefined, { silent: true });
    expect(a.state).toBe('online');
    await a.send(Uint8Array.of(1));
    await new Promise((r) => setImmediate(r));
    expect(got).toHaveLength(0);
    hub.heal();
    await a.send(Uint8Array.of(2));
    await new Promise((r) => setImmediate(r));
    expect(got).toHaveLength(1);
  });

  it('duty cycle: rejects with ERR_DUTY_CYCLE and retryAfterMs, sendDelay is honest', async () => {
    const clock = new ManualClock();
    const { a } = createMemoryPair({ clock, dutyCycle: { perFrameMs: 1000, perByteMs: 10 } });
    expect(a.sendDelay(10)).toBe(0);
    await a.send(new Uint8Array(10));
    expect(a.sendDelay(10)).toBe(1100);
    try {
      await a.send(new Uint8Array(1));
      throw new Error('expected ERR_DUTY_CYCLE');
    } catch (e) {
      expect((e as DidcommError).code).toBe('ERR_DUTY_CYCLE');
      expect((e as DidcommError).retryAfterMs).toBe(1100);
    }
    await clock.advance(1100);
    expect(a.sendDelay(1)).toBe(0);
    await a.send(new Uint8Array(1));
  });

  it('emits transmit for every accepted frame and detaches on close', async () => {
    const hub = new MemoryHub();
    const a = hub.attach('a');
    hub.attach('b');
    const seen: string[] = [];
    hub.on('transmit', (f, from, to) => seen.push(`${from}>${to ?? '*'}:${f.length}`));
    await a.send(new Uint8Array(3), 'b');
    await a.send(new Uint8Array(2));
    expect(seen).toEqual(['a>b:3', 'a>*:2']);
    await a.close();
    expect(hub.addresses).toEqual(['b']);
    expect(a.state).toBe('closed');
  });
});
