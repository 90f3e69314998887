/**
 * The field scenario of DESIGN.md §1 on virtual time: a sensor and a collector, each an Agent on a
 * simulated RN2483 modem (emulator + UART + the LoRa channel simulator, EU868 1 % duty cycle, SF7),
 * 20 % frame loss, a 10-minute outage of the air. The sensor reports 1,000 signed readings
 * (batched, compact, provisioned peers use short hints); every reading must reach the collector's
 * application exactly once, and the radios must never break the duty cycle.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { MemoryKvStore } from '../../src/store/kv-memory.js';
import { RadioChannel } from '../../transports/lora/channel.js';
import { createSimulatedLoraRadio, type SimulatedLoraRadio } from '../../transports/lora/simulated.js';
import type { Agent } from '../../src/agent/agent.js';
import { FragmentTransport } from '../../transports/fragment/transport.js';
import { identities, makeAgent } from './helpers.js';

let radios: SimulatedLoraRadio[] = [];
let agents: Agent[] = [];
afterEach(async () => {
  for (const a of agents) await a.stop();
  for (const r of radios) await r.close();
  radios = [];
  agents = [];
});

describe('agent over simulated LoRa', () => {
  it('1,000 telemetry readings, 20 % loss, a 10-minute outage: each delivered exactly once', async () => {
    const clock = new ManualClock();
    const channel = new RadioChannel({ clock, seed: 42, lossProbability: 0.2 });
    const start = clock.now();
    const outage = { from: start + 2 * 3600_000, to: start + 2 * 3600_000 + 10 * 60_000 };
    let outageDrops = 0;
    channel.setFaultHook(() => {
      const now = clock.now();
      if (now >= outage.from && now < outage.to) {
        outageDrops++;
        return [];
      }
      return undefined;
    });
    const sensorRadio = await createSimulatedLoraRadio({ channel, modem: 'rn2483', id: 'sensor' });
    const collectorRadio = await createSimulatedLoraRadio({ channel, modem: 'rn2483', id: 'collector' });
    radios.push(sensorRadio, collectorRadio);
    const [s, c] = identities(2);
    const known = [s!, c!];
    const sensor = makeAgent({
      id: s!,
      clock,
      known,
      transport: sensorRadio.transport,
      peers: { [c!.did]: null },
      peerConfigs: [{ did: c!.did, knowsUs: true }],
      link: { ackTimeoutMs: 60_000 },
      extra: {
        telemetry: { to: c!.did, batch: { maxReadings: 4, maxDelayMs: 120_000 } },
        outbox: { backoff: { baseMs: 30_000, maxMs: 300_000, jitter: 0.3 }, maxEntries: 2000 },
      },
    });
    const collector = makeAgent({ id: c!, clock, known, transport: collectorRadio.transport, peers: { [s!.did]: null }, peerConfigs: [{ did: s!.did, knowsUs: true }], store: new MemoryKvStore() });
    agents.push(sensor, collector);
    const received = new Map<number, number>();
    let signed = 0;
    collector.on('telemetry', (e) => {
      if (e.signed) signed++;
      for (const r of e.readings) received.set(r.seq as number, (received.get(r.seq as number) ?? 0) + 1);
    });
    const dropped: string[] = [];
    sensor.on('dropped', (e) => dropped.push(`${e.id}:${e.reason}:${e.error?.code}:${e.error?.message}`));
    await sensor.start();
    await collector.start();

    const N = 1000;
    let produced = 0;
    const tick = (): void => {
      const seq = produced++;
      void sensor.report({ ts: Math.floor(clock.now() / 1000), seq, temp: 20 + (seq % 50) / 10, hum: 40 + (seq % 7) });
      if (produced < N) clock.setTimer(20_000, tick);
    };
    tick();
    const errors: string[] = [];
    for (const a of [sensor, collector]) {
      a.on('error', (e) => errors.push(`${a === sensor ? 'sensor' : 'collector'} ${e.code} ${e.message}`));
      a.on('problem', (p) => errors.push(`${a === sensor ? 'sensor' : 'collector'} problem ${p.direction} ${p.code} ${p.error?.message ?? p.comment ?? ''}`));
    }
    const ok = await clock.runUntilDone(() => received.size === N && sensor.outbox.size === 0, 48 * 3600_000);
    if (!ok) console.log({ dropped: dropped.slice(0, 5), dstats: sensor.outbox.stats.dropped, produced, received: received.size, pending: sensor.outbox.size, errors: errors.slice(0, 20), st: sensor.stats(), ct: collector.stats(), ch: channel.stats(), at: (clock.now() - start) / 1000 });
    expect(ok).toBe(true);

    const dup = [...received.values()].filter((n) => n !== 1).length;
    const st = sensor.stats() as { outbox: { transmissions: number; delivered: number }; router: { bytes: number }; links: Record<string, { dutyWaits: number; dutyWaitMs: number }> };
    const ct = collector.stats() as { inbound: { duplicates: number; replays: number; accepted: number }; acks: number };
    const ch = channel.stats();
    console.log(
      `[lora] ${N} readings in ${((clock.now() - start) / 3600_000).toFixed(2)} h virtual: ` +
        `${st.outbox.delivered} batch messages delivered after ${st.outbox.transmissions} transmissions; ` +
        `collector accepted ${ct.inbound.accepted} messages, suppressed ${ct.inbound.duplicates} retries + ${ct.inbound.replays} replays, sent ${ct.acks} acks; ` +
        `air: ${ch.txFrames} frames, ${ch.dropped.loss} lost, ${ch.dropped.collision} collisions, ${ch.dropped['half-duplex']} half-duplex, ${outageDrops} in the outage; ` +
        `duty-cycle waits ${Object.values(st.links)[0]!.dutyWaits} (${(Object.values(st.links)[0]!.dutyWaitMs / 1000).toFixed(0)} s); violations ${ch.dutyCycleViolations}; ` +
        `every reading delivered once: ${received.size === N && dup === 0}`,
    );
    expect(received.size).toBe(N);
    expect(dup).toBe(0);
    expect(dropped).toEqual([]);
    expect(signed).toBe(st.outbox.delivered); // every message verified as signed (non-repudiable)
    expect(outageDrops).toBeGreaterThan(0);
    expect(ch.dropped.loss).toBeGreaterThan(0);
    expect(ch.dutyCycleViolations).toBe(0);
  }, 120_000);

  it('RYLR modems with fragmentation: batches larger than one LoRa frame, 20 % loss', async () => {
    const clock = new ManualClock();
    const channel = new RadioChannel({ clock, seed: 7, lossProbability: 0.2 });
    const sRadio = await createSimulatedLoraRadio({ channel, modem: 'rylr', address: 1 });
    const cRadio = await createSimulatedLoraRadio({ channel, modem: 'rylr', address: 2 });
    radios.push(sRadio, cRadio);
    // fragment timers scaled to a 1 % duty cycle (README: ackTimeout must exceed the peer's off-time)
    const frag = { clock, maxMessageSize: 2048, ackTimeoutMs: 60_000, requestDelayMs: 3_000, maxRounds: 6, reassemblyTimeoutMs: 900_000 };
    const sLink = new FragmentTransport(sRadio.transport, frag);
    const cLink = new FragmentTransport(cRadio.transport, frag);
    const [s, c] = identities(2);
    const known = [s!, c!];
    const sensor = makeAgent({
      id: s!,
      clock,
      known,
      transport: sLink,
      peers: { [c!.did]: '2' },
      peerConfigs: [{ did: c!.did, knowsUs: true }],
      link: { constrained: true, ackTimeoutMs: 600_000 },
      extra: { telemetry: { to: c!.did, batch: { maxReadings: 12, maxDelayMs: 600_000 } }, outbox: { backoff: { baseMs: 60_000, maxMs: 900_000 } } },
    });
    const collector = makeAgent({ id: c!, clock, known, transport: cLink, peers: { [s!.did]: '1' }, peerConfigs: [{ did: s!.did, knowsUs: true }], link: { constrained: true } });
    agents.push(sensor, collector);
    const received = new Map<number, number>();
    collector.on('telemetry', (e) => e.readings.forEach((r) => received.set(r.seq as number, (received.get(r.seq as number) ?? 0) + 1)));
    await sensor.start();
    await collector.start();
    const N = 120;
    for (let i = 0; i < N; i++) {
      await sensor.report({ ts: Math.floor(clock.now() / 1000), seq: i, temp: 20 + (i % 9) / 10 });
      await clock.advance(30_000);
    }
    const errs: string[] = [];
    for (const a of [sensor, collector]) a.on('error', (e) => errs.push(e.code + ' ' + e.message));
    for (const a of [sensor, collector]) a.on('problem', (e) => errs.push(e.code + ' ' + e.direction));
    const ok = await clock.runUntilDone(() => received.size === N && sensor.outbox.size === 0, 48 * 3600_000);
    const st = sensor.stats() as { outbox: { transmissions: number; delivered: number } };
    if (!ok) console.log({ got: received.size, pending: sensor.outbox.pending(), errs, st: JSON.stringify(sensor.stats()), ct: JSON.stringify(collector.stats()), frag: JSON.stringify(sLink.stats), cfrag: JSON.stringify(cLink.stats) });
    console.log(
      `[lora+fragment] ${N} readings in ${st.outbox.delivered} batch messages (${st.outbox.transmissions} transmissions), ` +
        `${sLink.stats.sender.dataFrames} fragments sent (${sLink.stats.sender.retransmissions} repairs); air: ${channel.stats().txFrames} frames, ${channel.stats().dropped.loss} lost; violations ${channel.stats().dutyCycleViolations}`,
    );
    expect(ok).toBe(true);
    expect([...received.values()].every((n) => n === 1)).toBe(true);
    expect(st.outbox.delivered).toBeLessThan(N / 5); // batches span several LoRa frames
    expect(channel.stats().dutyCycleViolations).toBe(0);
  }, 120_000);
});
