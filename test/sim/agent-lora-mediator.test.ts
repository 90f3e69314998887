/**
 * A full agent on a simulated LoRa radio enrols with the real mediator through its radio gateway
 * (coordinate-mediation over the air), sends telemetry through it to a controller that picks up
 * its mail, and gets the controller's ack back over the air — the path every sensor of the field
 * simulation takes. It found three bugs: a fractional virtual clock made mailbox ids unackable, an
 * old copy from the mediator's queue drew a problem report (a storm), and anoncrypted forwards
 * never told the radio gateway the device was awake.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { createDid } from '../../src/did/create.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { defaultCrypto } from '../../src/crypto/default.js';
import { Agent } from '../../src/agent/index.js';
import { Mediator } from '../../src/mediator/service.js';
import { RadioGateway } from '../../src/mediator/radio-gateway.js';
import { openMediatorStores } from '../../src/mediator/stores.js';
import { MemoryKvStore } from '../../src/store/kv-memory.js';
import { RadioChannel } from '../../transports/lora/channel.js';
import { createSimulatedLoraRadio } from '../../transports/lora/simulated.js';
import { FragmentTransport } from '../../transports/fragment/index.js';
import { MemoryHub } from '../../transports/memory.js';
import type { TelemetryEvent } from '../../src/agent/types.js';

const FRAGMENT = { maxMessageSize: 8192, ackTimeoutMs: 40_000, maxRounds: 8, requestDelayMs: 500, reassemblyTimeoutMs: 180_000 };

async function rig(o: { heldAtMediatorMs?: number } = {}) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const [m, c, s] = [createDid(), createDid(), createDid()];
  const docs = [m, c, s].map((x) => x.didDocument);
  const secrets = new SecretsStore(defaultCrypto);
  secrets.addFromJson(m);
  const mediator = await Mediator.create({ did: m.did, ctx: { crypto: defaultCrypto, resolver: new OfflineResolver({ documents: docs }), secrets }, stores: await openMediatorStores('memory:', { clock }), clock });
  const channel = new RadioChannel({ clock, seed: 2 });
  const gwRadio = await createSimulatedLoraRadio({ channel, modem: 'rylr', address: 1, id: 'gw' });
  const gw = new RadioGateway(mediator, { name: 'lora', transport: new FragmentTransport(gwRadio.transport, { clock, ...FRAGMENT }), clock, listenAfterUplinkMs: 180_000, schedules: { [s.did]: { periodMs: 86_400_000, windowMs: 86_400_000 } } });
  const hub = new MemoryHub({ clock, mtu: 65536 });
  new RadioGateway(mediator, { name: 'mem', transport: hub.attach('m'), clock });
  const sRadio = await createSimulatedLoraRadio({ channel, modem: 'rylr', address: 7, id: 's' });
  const sensor = new Agent({ secrets: s, resolver: new OfflineResolver({ documents: docs }), store: new MemoryKvStore(), clock, mediator: m.did, links: [{ transport: new FragmentTransport(sRadio.transport, { clock, ...FRAGMENT }), peers: { [m.did]: '1' }, constrained: true, ackTimeoutMs: 300_000 }], peers: [{ did: c.did, mediator: m.did, knowsUs: true }], telemetry: { to: c.did }, ...o });
  const controller = new Agent({ secrets: c, resolver: new OfflineResolver({ documents: docs }), store: new MemoryKvStore(), clock, mediator: m.did, links: [{ transport: hub.attach('c'), peers: { [m.did]: 'm' }, persistent: true }], peers: [{ did: s.did, mediator: m.did }] });
  await sensor.start();
  await controller.start();
  let done = false;
  let failure: unknown;
  controller.requestMediation(m.did).then(() => controller.setLiveDelivery(true)).then(() => sensor.requestMediation(m.did, { timeoutMs: 600_000 })).then(() => (done = true), (e: unknown) => ((failure = e), (done = true)));
  await clock.runUntilDone(() => done, 3_600_000);
  expect(failure).toBeUndefined();
  const got: TelemetryEvent[] = [];
  controller.on('telemetry', (e) => got.push(e));
  const problems: string[] = [];
  controller.on('problem', (p) => problems.push(p.code));
  sensor.on('problem', (p) => problems.push(p.code));
  return { clock, channel, gw, sensor, controller, got, problems };
}

describe('agent on LoRa through the mediator gateway', () => {
  it('enrols, reports to a controller on another link, and is acknowledged', { timeout: 120_000 }, async () => {
    const { clock, channel, gw, sensor, controller, got, problems } = await rig();
    await sensor.report({ seq: 1, temp: 21.5 });
    // The controller's in-memory link is not a live session here: it picks up every minute.
    const poll = (): void => {
      controller.sync().catch(() => undefined).finally(() => clock.setTimer(60_000, poll));
    };
    clock.setTimer(60_000, poll);
    await clock.runUntilDone(() => got.length > 0 && sensor.outbox.size === 0, 3_600_000);
    expect(got[0]?.readings[0]).toMatchObject({ seq: 1, temp: 21.5 });
    expect(sensor.outbox.size).toBe(0);
    expect(got).toHaveLength(1);
    expect(problems).toEqual([]);
    // Over the air: mediate-request, keylist-update, the telemetry forward up; grant, keylist
    // response and the controller's ack down (nothing retransmitted, nothing left queued).
    expect(gw.stats.uplinks).toBe(3);
    expect(gw.stats.repliesSent + gw.stats.messagesPushed).toBe(3);
    expect(channel.stats().dutyCycleViolations).toBe(0);
  });

  it('once the mediator’s receipt says a reading is stored, the sensor does not resend it on the air', { timeout: 120_000 }, async () => {
    const { clock, gw, sensor, controller, got } = await rig({ heldAtMediatorMs: 4 * 3_600_000 });
    await sensor.report({ seq: 1, temp: 21.5 });
    // The controller is away for three hours (ack timeout on the radio link: 5 min).
    await clock.advance(3 * 3_600_000);
    expect(gw.stats.uplinks).toBe(3);
    expect(sensor.outbox.size).toBe(1);
    const synced = controller.sync();
    await clock.runUntilDone(() => got.length > 0 && sensor.outbox.size === 0, 3_600_000);
    await synced;
    expect(got).toHaveLength(1);
    expect(gw.stats.uplinks).toBe(3);
  });

  it('without a receipt hold, the same wait costs a resend every ack timeout', { timeout: 120_000 }, async () => {
    const { clock, gw, sensor } = await rig({ heldAtMediatorMs: 0 });
    await sensor.report({ seq: 1, temp: 21.5 });
    await clock.advance(3 * 3_600_000);
    expect(gw.stats.uplinks).toBeGreaterThan(5);
    expect(sensor.outbox.size).toBe(1);
  });
});
