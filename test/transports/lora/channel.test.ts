import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/util/clock.js';
import { DidcommError } from '../../../src/errors.js';
import { airtimeMs, loraSettings } from '../../../transports/lora/airtime.js';
import { RadioChannel, type AirFrame, type RadioChannelOptions } from '../../../transports/lora/channel.js';

function setup(options: Partial<RadioChannelOptions> = {}) {
  const clock = new ManualClock();
  const channel = new RadioChannel({ clock, dutyCycle: 1, ...options });
  const inbox = new Map<string, AirFrame[]>();
  const join = (id: string, settings = {}) => {
    inbox.set(id, []);
    const r = channel.join(id, settings, (f) => inbox.get(id)!.push(f));
    r.setListening(true);
    return r;
  };
  return { clock, channel, inbox, join };
}

const T50 = airtimeMs(50, loraSettings());

describe('RadioChannel', () => {
  it('delivers a frame after its airtime to radios on the same carrier/SF/BW only', async () => {
    const { clock, inbox, join } = setup();
    const a = join('a');
    join('b');
    join('c', { sf: 8 });
    join('d', { frequencyHz: 868_300_000 });
    join('e', { bandwidthHz: 250_000 });
    const t0 = clock.now();
    const { airtimeMs: air, endsAt } = a.transmit(new Uint8Array(50).fill(1));
    expect(air).toBeCloseTo(T50, 9);
    expect(endsAt).toBe(t0 + air);
    expect(a.transmitting).toBe(true);
    // The manual clock runs on whole milliseconds: the frame lands on the first one after `air`.
    await clock.advance(Math.ceil(air) - 1);
    expect(inbox.get('b')).toEqual([]);
    await clock.advance(1);
    expect(inbox.get('b')!.map((f) => [f.from, f.payload.length, f.startedAt, f.endedAt])).toEqual([['a', 50, t0, t0 + air]]);
    for (const id of ['a', 'c', 'd', 'e']) expect(inbox.get(id)).toEqual([]);
    expect(a.transmitting).toBe(false);
    expect(a.stats).toMatchObject({ txFrames: 1, txBytes: 50 });
    expect(a.stats.txAirtimeMs).toBeCloseTo(air, 9);
  });

  it('destroys overlapping transmissions at every receiver that hears both (no capture)', async () => {
    const { clock, channel, inbox, join } = setup();
    const a = join('a');
    const b = join('b');
    join('c');
    a.transmit(new Uint8Array(50));
    await clock.advance(T50 / 2);
    b.transmit(new Uint8Array(50));
    await clock.advance(T50 * 2);
    expect(inbox.get('c')).toEqual([]);
    expect(channel.stats().dropped.collision).toBe(2);
    // Back to back (touching, not overlapping) is fine.
    await clock.advance(10);
    a.transmit(new Uint8Array(50));
    await clock.advance(T50);
    b.transmit(new Uint8Array(50));
    await clock.advance(T50);
    expect(inbox.get('c')!.map((f) => f.from)).toEqual(['a', 'b']);
  });

  it('lets the stronger frame through with the capture effect (≥ 6 dB)', async () => {
    const rssi: Record<string, number> = { a: -60, b: -70, x: -64 };
    const { clock, inbox, join } = setup({
      captureEffect: true,
      link: (from) => ({ rssiDbm: rssi[from.id] ?? -80, snrDb: 5 }),
    });
    const a = join('a');
    const b = join('b');
    const x = join('x');
    join('c');
    a.transmit(new Uint8Array(20));
    b.transmit(new Uint8Array(20));
    await clock.advance(1000);
    expect(inbox.get('c')!.map((f) => [f.from, f.rssiDbm])).toEqual([['a', -60]]);
    a.transmit(new Uint8Array(20));
    x.transmit(new Uint8Array(20)); // only 4 dB weaker: both lost
    await clock.advance(1000);
    expect(inbox.get('c')!.length).toBe(1);
  });

  it('models range, half duplex and closed receivers', async () => {
    const { clock, channel, inbox, join } = setup({
      link: (from, to) => (Math.abs((from.meta.x as number) - (to.meta.x as number)) > 1 ? undefined : { rssiDbm: -90, snrDb: 1 }),
    });
    const a = join('a');
    const b = join('b');
    const far = join('far');
    const deaf = join('deaf');
    a.meta.x = 0;
    b.meta.x = 1;
    far.meta.x = 5;
    deaf.meta.x = 0;
    deaf.setListening(false);
    a.transmit(new Uint8Array(50));
    // Hidden node: `far` transmits at the same time; `b` does not hear it, so no collision at b.
    far.transmit(new Uint8Array(50));
    await clock.advance(T50 / 2);
    deaf.setListening(true); // opened mid-frame: too late for this one
    await clock.advance(T50);
    expect(inbox.get('b')!.map((f) => f.from)).toEqual(['a']);
    expect(inbox.get('deaf')).toEqual([]);
    const d = channel.stats().dropped;
    expect(d['out-of-range']).toBeGreaterThan(0);
    expect(d['not-listening']).toBe(1);
    // b transmits while a's frame is on the air: b misses it.
    a.transmit(new Uint8Array(50));
    b.transmit(new Uint8Array(5));
    await clock.advance(T50);
    expect(b.stats.dropped['half-duplex']).toBe(1);
  });

  it('loses, corrupts and duplicates frames reproducibly from the seed', async () => {
    const run = async (seed: number) => {
      const { clock, inbox, join } = setup({ seed, lossProbability: 0.3, corruptProbability: 0.2, duplicateProbability: 0.2 });
      const a = join('a');
      join('b');
      for (let i = 0; i < 200; i++) {
        a.transmit(new Uint8Array(10).fill(i));
        await clock.advance(100);
      }
      return inbox.get('b')!.map((f) => Buffer.from(f.payload).toString('hex'));
    };
    const r1 = await run(42);
    expect(await run(42)).toEqual(r1);
    expect(await run(43)).not.toEqual(r1);
    const intact = r1.filter((h) => /^(..)\1{9}$/.test(h)).length;
    expect(r1.length).toBeGreaterThan(120); // ~70 % delivered, plus duplicates
    expect(r1.length).toBeLessThan(200);
    expect(intact).toBeLessThan(r1.length); // some corrupted
    expect(new Set(r1).size).toBeLessThan(r1.length); // some duplicated
  });

  it('lets a fault hook rewrite, drop or multiply deliveries', async () => {
    const { clock, channel, inbox, join } = setup();
    const a = join('a');
    join('b');
    let n = 0;
    channel.setFaultHook(({ payload }) => {
      n++;
      if (n === 1) return [];
      if (n === 2) return [payload, Uint8Array.of(0xee)];
      return undefined;
    });
    for (let i = 0; i < 3; i++) {
      a.transmit(Uint8Array.of(i));
      await clock.advance(100);
    }
    expect(inbox.get('b')!.map((f) => [...f.payload])).toEqual([[1], [0xee], [2]]);
    expect(channel.stats().dropped.fault).toBe(1);
  });

  it('reports transmissions beyond the duty-cycle budget as violations', async () => {
    const clock = new ManualClock();
    const channel = new RadioChannel({ clock }); // EU868 plan: 868.1 MHz is 1 %
    const violations: DidcommError[] = [];
    channel.on('violation', (v) => violations.push(v.error));
    const a = channel.join('a', {}, () => undefined);
    a.transmit(new Uint8Array(50));
    await clock.advance(T50 * 100);
    a.transmit(new Uint8Array(50)); // exactly allowed
    expect(violations).toEqual([]);
    await clock.advance(T50 * 50);
    a.transmit(new Uint8Array(50)); // too early
    expect(violations.map((e) => e.code)).toEqual(['ERR_DUTY_CYCLE']);
    expect(violations[0]!.retryAfterMs).toBe(Math.ceil(T50 * 50));
    expect(a.stats.dutyCycleViolations).toBe(1);
    expect(channel.stats().dutyCycleViolations).toBe(1);
  });

  it('refuses a second transmission while one is on the air, and bad radio ids', () => {
    const { channel, join } = setup();
    const a = join('a');
    a.transmit(Uint8Array.of(1));
    expect(() => a.transmit(Uint8Array.of(1))).toThrow(expect.objectContaining({ code: 'ERR_TRANSPORT' }));
    expect(() => a.configure({ sf: 9 })).toThrow(expect.objectContaining({ code: 'ERR_TRANSPORT' }));
    expect(() => join('a')).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
    expect(() => channel.join('', {}, () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
    expect(() => new RadioChannel({ clock: new ManualClock(), lossProbability: 2 })).toThrow(
      expect.objectContaining({ code: 'ERR_ARGUMENT' }),
    );
  });

  it('survives a throwing receiver and keeps its bookkeeping bounded', async () => {
    const { clock, channel, join } = setup();
    const a = join('a');
    channel.join('bad', {}, () => {
      throw new Error('boom');
    }).setListening(true);
    const errors: string[] = [];
    channel.on('error', (e) => errors.push(e.code));
    for (let i = 0; i < 50; i++) {
      a.transmit(Uint8Array.of(i));
      await clock.advance(50);
    }
    expect(errors.length).toBe(50);
    expect((channel as unknown as { onAir: unknown[] }).onAir.length).toBe(0);
    expect(channel.stats().onAir).toBe(0);
  });
});
