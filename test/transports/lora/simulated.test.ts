/**
 * The "N radios on one simulated channel" factory, used by the field simulation and agent tests:
 * every modem kind, mixed kinds on one channel, split UART reads, and a scale run (hundreds of
 * radios, thousands of frames on virtual time) whose throughput is printed, not asserted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/util/clock.js';
import { createPrng } from '../../../src/util/prng.js';
import { RadioChannel } from '../../../transports/lora/channel.js';
import {
  createSimulatedLoraRadio,
  LORA_MODEM_KINDS,
  type LoraModemKind,
  type SimulatedLoraRadio,
} from '../../../transports/lora/simulated.js';

let radios: SimulatedLoraRadio[] = [];
afterEach(async () => {
  for (const r of radios) await r.close();
  radios = [];
});

async function make(channel: RadioChannel, modem: LoraModemKind, n: number, extra = {}): Promise<SimulatedLoraRadio[]> {
  const out: SimulatedLoraRadio[] = [];
  for (let i = 1; i <= n; i++) out.push(await createSimulatedLoraRadio({ channel, modem, address: i, id: `${modem}-${i}`, ...extra }));
  radios.push(...out);
  return out;
}

describe('createSimulatedLoraRadio', () => {
  it.each(LORA_MODEM_KINDS)('%s: three radios, one broadcast reaches the other two', async (modem) => {
    const clock = new ManualClock();
    const channel = new RadioChannel({ clock });
    const [a, b, c] = await make(channel, modem, 3);
    const got: string[] = [];
    for (const r of [b!, c!]) r.transport.on('frame', (f) => got.push(`${r.radio.id}:${Buffer.from(f).toString('hex')}`));
    expect(a!.transport.state).toBe('online');
    expect(a!.transport.kind).toMatch(/^lora-/);
    await a!.transport.send(Uint8Array.of(0xde, 0xad));
    await clock.advance(2000);
    expect(got.sort()).toEqual([`${modem}-2:dead`, `${modem}-3:dead`]);
    expect(a!.radio.stats.txFrames).toBe(1);
    expect(a!.emulator.radio).toBe(a!.radio);
    expect(channel.stats().dutyCycleViolations).toBe(0);
  });

  it('keeps different spreading factors apart on one carrier, and works with 1-byte UART reads', async () => {
    const clock = new ManualClock();
    const channel = new RadioChannel({ clock });
    const oneByte = { chunker: (c: Uint8Array) => [...c].map((b) => Uint8Array.of(b)) };
    const [r1, r2] = await make(channel, 'rylr', 2, { serial: oneByte });
    const [n1, n2] = await make(channel, 'rn2483', 2, { radio: { sf: 9 }, serial: oneByte });
    const seen: string[] = [];
    for (const r of [r1!, r2!, n1!, n2!]) r.transport.on('frame', () => seen.push(r.radio.id));
    await r1!.transport.send(Uint8Array.of(1), '2');
    await n1!.transport.send(Uint8Array.of(2));
    await clock.advance(2000);
    expect(seen.sort()).toEqual(['rn2483-2', 'rylr-2']);
  });

  it('turns garbage from the air into error events, never crashes', async () => {
    const clock = new ManualClock();
    const channel = new RadioChannel({ clock, dutyCycle: 1 });
    const [r1, r2] = await make(channel, 'rylr', 2);
    const [e1, e2] = await make(channel, 'e22', 2, { radio: { frequencyHz: 868_300_000 } });
    const frames: string[] = [];
    const errors: string[] = [];
    for (const r of [r2!, e2!]) {
      r.transport.on('frame', (f) => frames.push(`${r.radio.id}:${Buffer.from(f).toString('hex')}`));
      r.transport.on('error', (e) => errors.push(`${r.radio.id}:${e.code}`));
    }
    // RYLR: keep the 8-byte module header, replace the data with non-base64 text, CR/LF and commas.
    const junk = [new Uint8Array([...'!!!!'].map((c) => c.charCodeAt(0))), Uint8Array.of(0x41, 0x0d, 0x0a, 0x2c, 0x42)];
    let n = 0;
    channel.setFaultHook(({ payload, to }) => {
      if (to === 'rylr-2') return [new Uint8Array([...payload.subarray(0, 5), junk[n]!.length, 0, 0, ...junk[n++]!])];
      if (to === 'e22-2') payload[payload.length - 2]! ^= 0x10; // breaks the CRC
      return undefined;
    });
    for (let i = 0; i < 2; i++) {
      await r1!.transport.send(Uint8Array.of(1, 2, 3), '2');
      await clock.advance(1000);
    }
    await e1!.transport.send(Uint8Array.of(4, 5, 6));
    await clock.advance(1000);
    expect(frames).toEqual([]);
    expect(errors.filter((e) => e.startsWith('e22-2'))).toEqual(['e22-2:ERR_MALFORMED']);
    expect(errors.filter((e) => e.startsWith('rylr-2')).length).toBeGreaterThanOrEqual(2);
    for (const e of errors) expect(e).toMatch(/:ERR_MALFORMED$/);
    // Both still work afterwards.
    channel.setFaultHook(undefined);
    await r1!.transport.send(Uint8Array.of(7), '2');
    await e1!.transport.send(Uint8Array.of(8));
    await clock.advance(1000);
    expect(frames.sort()).toEqual(['e22-2:08', 'rylr-2:07']);
  });

  it('rejects unknown modems and RYLR without an address', async () => {
    const channel = new RadioChannel({ clock: new ManualClock() });
    await expect(createSimulatedLoraRadio({ channel, modem: 'sx1276' as LoraModemKind })).rejects.toMatchObject({
      code: 'ERR_ARGUMENT',
    });
    await expect(createSimulatedLoraRadio({ channel, modem: 'rylr' })).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
  });

  it('scales: 300 radios of all kinds, thousands of frames on virtual time, no duty-cycle violation', async () => {
    const clock = new ManualClock();
    const channel = new RadioChannel({ clock, seed: 7, lossProbability: 0.05 });
    const prng = createPrng(99);
    const kinds: LoraModemKind[] = ['rylr', 'rn2483', 'rak3172', 'e22', 'e32'];
    const setupStart = performance.now();
    // Each kind on its own carrier so that modems only hear their own kind (as in a real deployment).
    const carriers = [868_100_000, 868_300_000, 868_500_000, 867_100_000, 867_300_000];
    const groups: SimulatedLoraRadio[][] = [];
    for (const [k, modem] of kinds.entries()) {
      groups.push(await make(channel, modem, 60, { radio: { frequencyHz: carriers[k] } }));
    }
    const setupMs = performance.now() - setupStart;
    let received = 0;
    let errors = 0;
    for (const g of groups) {
      for (const r of g) {
        r.transport.on('frame', () => received++);
        r.transport.on('error', () => errors++);
      }
    }
    const all = groups.flat();
    const simulatedMs = 2 * 3_600_000;
    const end = clock.now() + simulatedMs;
    let attempted = 0;
    const refused: string[] = [];
    // Every radio wakes up every 1..11 min and sends 20..60 bytes (≤ mtu) when its budget allows.
    const schedule = (r: SimulatedLoraRadio, peers: SimulatedLoraRadio[]): void => {
      const wait = 60_000 + prng.int(600_000);
      clock.setTimer(wait, () => {
        if (clock.now() >= end) return;
        const size = Math.min(r.transport.mtu, 20 + prng.int(41));
        if (r.transport.sendDelay(size) === 0) {
          attempted++;
          const peer = peers[prng.int(peers.length)]!;
          r.transport.send(new Uint8Array(size).fill(attempted & 0xff), peer.transport.address).catch((e: { code: string }) => refused.push(e.code));
        }
        schedule(r, peers);
      });
    };
    for (const g of groups) for (const r of g) schedule(r, g);
    const t0 = performance.now();
    await clock.runUntil(end);
    await clock.advance(60_000);
    const wallMs = performance.now() - t0;
    const s = channel.stats();
    console.log(
      `LoRa simulation: ${all.length} radios, ${(simulatedMs / 3_600_000).toFixed(0)} h simulated in ${wallMs.toFixed(0)} ms ` +
        `(setup ${setupMs.toFixed(0)} ms): ${s.txFrames} frames on the air, ${received} frames delivered to drivers, ` +
        `${((s.txFrames / wallMs) * 1000).toFixed(0)} tx frames/s, ${((received / wallMs) * 1000).toFixed(0)} rx frames/s; ` +
        `dropped ${JSON.stringify(s.dropped)}`,
    );
    expect(s.dutyCycleViolations).toBe(0);
    expect(refused).toEqual([]);
    expect(errors).toBe(0);
    expect(s.txFrames).toBe(attempted);
    expect(s.txFrames).toBeGreaterThan(2000);
    // Broadcast kinds deliver to 59 peers each, RYLR unicast to 1; allow for loss and collisions.
    expect(received).toBeGreaterThan(s.txFrames * 10);
    for (const r of all) expect(r.transport.budget.usedInWindowMs()).toBeLessThanOrEqual(36_000 + 200);
  }, 60_000);
});
