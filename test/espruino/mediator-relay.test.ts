/**
 * A thin device behind the real mediator: the Puck.js bundle (RYLR998 emulator on a simulated
 * EU868 channel) is one of the mediator's provisioned `devices`, the controller is a full Agent
 * on another link. Proves: the device's telemetry goes through the mediator to the controller;
 * the controller's ack and command come back as pairwise frames that the radio gateway relays as
 * they are and removes from the store only once the device confirmed them (also across a lost
 * relay); the command runs once and its result reaches the controller; mail a thin device could
 * never open is refused at the forward.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { Mediator } from '../../src/mediator/service.js';
import { RadioGateway } from '../../src/mediator/radio-gateway.js';
import { ALWAYS_LISTENING } from '../../src/mediator/wake.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { defaultCrypto } from '../../src/crypto/default.js';
import { MemoryMailboxStore } from '../../src/store/mailbox-memory.js';
import { MemoryMediationStore } from '../../src/store/mediation-memory.js';
import { MemoryKvStore } from '../../src/store/kv-memory.js';
import { pack, unpack } from '../../src/envelope/index.js';
import { wrapInForwards } from '../../src/routing/forward.js';
import { MemoryHub } from '../../transports/memory.js';
import { RadioChannel } from '../../transports/lora/channel.js';
import { createSimulatedLoraRadio } from '../../transports/lora/simulated.js';
import { RylrEmulator } from '../../transports/lora/emulators/rylr.js';
import { createSerialPair } from '../../transports/serial/memory-pair.js';
import { FragmentTransport } from '../../transports/fragment/transport.js';
import type { Session } from '../../src/mediator/types.js';
import type { Agent } from '../../src/agent/index.js';
import { drive, makeAgent, resolverFor, until } from '../agent/helpers.js';
import { boot, config, controller, device, mediator } from './fixtures.js';
import { ensureEspruinoBuilt } from './build.js';

let dir: string;
beforeAll(async () => {
  dir = await ensureEspruinoBuilt();
});

const known = [device, controller, mediator];

async function field() {
  const clock = new ManualClock();
  const channel = new RadioChannel({ clock, seed: 5 });
  const secrets = new SecretsStore();
  secrets.addFromJson(mediator);
  const mailbox = new MemoryMailboxStore({ clock });
  const stores = { mailbox, mediation: new MemoryMediationStore({ clock }), kv: new MemoryKvStore(), close: async () => undefined };
  const errors: unknown[] = [];
  const ctx = { crypto: defaultCrypto, resolver: resolverFor(known), secrets };
  const med = await Mediator.create({ did: mediator.did, ctx, stores, clock, devices: [device.did], onError: (e) => errors.push(e) });
  const gwRadio = await createSimulatedLoraRadio({ channel, modem: 'rylr', address: 1, id: 'gateway' });
  const gwLink = new FragmentTransport(gwRadio.transport, { clock, ackTimeoutMs: 40_000, maxRounds: 4 });
  const lora = new RadioGateway(med, { name: 'lora', transport: gwLink, clock, schedules: { [device.did]: ALWAYS_LISTENING }, resendAfterMs: 120_000, onError: (e) => errors.push(e) });
  const hub = new MemoryHub({ clock, mtu: 65536 });
  new RadioGateway(med, { name: 'mem', transport: hub.attach('m'), clock, onError: (e) => errors.push(e) });
  const ctl: Agent = makeAgent({
    id: controller,
    clock,
    known,
    transport: hub.attach('c'),
    peers: { [mediator.did]: 'm' },
    peerConfigs: [{ did: device.did, mediator: mediator.did, mode: 'pairwise', knowsUs: true }],
    link: { ackTimeoutMs: 600_000 },
  });
  await ctl.start();
  await drive(clock, ctl.requestMediation(mediator.did));
  const [host, modem] = createSerialPair();
  const emulator = new RylrEmulator({ port: modem, channel, id: 'device', variant: 'rylr998' });
  const cfg = {
    ...config({ kind: 'lora-rylr', address: 2, gateway: 1 }, [
      { role: 'mediator', did: mediator.did },
      { role: 'controller', did: controller.did, via: 'mediator' },
    ]),
    telemetry: { intervalMs: 0, retryMs: 300_000, maxTries: 5, outbox: 4 },
  };
  const d = boot(dir, 'puck-js', cfg, { clock, storage: new Map(), uart: host, capture: false });
  const close = async (): Promise<void> => {
    d.endpoint.stop();
    emulator.close();
    host.close();
    await ctl.stop();
    await lora.close();
    await gwLink.close();
  };
  let forController = 0;
  mailbox.subscribe(controller.did, () => void forController++);
  const queuedFor = async (did: string): Promise<number> => (await mailbox.status(did)).messageCount;
  return { clock, channel, med, mailbox, lora, ctl, d, errors, close, queuedFor, mailForController: () => forController };
}

describe('an Espruino endpoint behind the real mediator', () => {
  it('reports through the mediator; the ack and a command are relayed raw and leave the store once confirmed', async () => {
    const f = await field();
    const readings: unknown[] = [];
    f.ctl.on('telemetry', (e) => readings.push(...e.readings));
    // The mediator's first relay to the device is lost on the air: the frame stays queued.
    let lost = 0;
    f.channel.setFaultHook(({ from }) => (from === 'gateway' && f.lora.stats.relaysUnconfirmed === 0 && lost++ < 20 ? [] : undefined));
    f.d.endpoint.report({ temp: 21.5 });
    await until(f.clock, () => f.mailForController() > 0);
    await drive(f.clock, f.ctl.sync());
    expect(readings).toMatchObject([{ temp: 21.5 }]);
    // The controller's ack: a pairwise frame in the device's mailbox, relayed until confirmed.
    await until(f.clock, () => f.d.endpoint.outbox.length === 0, 3_600_000);
    expect(f.lora.stats.relaysUnconfirmed).toBeGreaterThanOrEqual(1);
    expect(f.d.endpoint.stats.acked).toBe(1);
    await f.clock.advance(60_000);
    expect(await f.queuedFor(device.did)).toBe(0);

    // A command through the mediator: runs once on the device, the result reaches the controller.
    const result = f.ctl.command(device.did, { command: 'led', args: 'toggle' }, { timeoutMs: 3_600_000 });
    let settled = false;
    void result.finally(() => (settled = true));
    const before = f.mailForController();
    await until(f.clock, () => f.mailForController() > before);
    await drive(f.clock, f.ctl.sync());
    await until(f.clock, () => settled);
    expect(await result).toMatchObject({ status: 'ok', result: true });
    expect(f.d.env.pinWrites).toEqual([['LED1', true]]);
    await f.clock.advance(60_000);
    expect(await f.queuedFor(device.did)).toBe(0);
    expect(f.d.endpoint.stats).toMatchObject({ replayed: 0, undecryptable: 0, malformed: 0 });
    expect(f.channel.stats().dutyCycleViolations).toBe(0);
    expect(f.d.env.uncaught).toEqual([]);
    expect(f.errors).toEqual([]);
    await f.close();
  });

  it('refuses a forward whose payload the thin device could never open, without telling an anonymous sender why', async () => {
    const f = await field();
    const secrets = new SecretsStore();
    secrets.addFromJson(controller);
    const ctx = { crypto: defaultCrypto, resolver: resolverFor(known), secrets };
    const inner = (await pack(ctx, { id: 'n1', type: 'https://example.org/note/1.0/note', to: [device.did], body: {} }, { mode: 'anoncrypt', format: 'compact', to: [device.did] })).bytes;
    const fwd = await wrapInForwards(ctx, inner, { recipient: device.did, routingKeys: [mediator.didDocument.keyAgreement![0] as string] });
    const session: Session = { id: 't', kind: 'http', remote: 't', persistent: false, duplex: false, maxFrameBytes: 65536, returnRoute: 'none', onAuthenticated: () => undefined, setLive: () => undefined, isLive: () => false, isOpen: () => true };
    // anonymous: the one refusal, which does not tell that a thin device is behind `next`
    expect((await f.med.receive(fwd, session)).error?.code).toBe('ERR_REFUSED');
    // an authenticated sender (return_route) learns why, in a problem report encrypted to it
    const authed = await wrapInForwards(ctx, inner, { recipient: device.did, routingKeys: [mediator.didDocument.keyAgreement![0] as string], authenticateOuter: { from: controller.did } });
    const out = await f.med.receive(authed, session);
    expect(out.stored).toBe(false);
    expect(out.replies).toHaveLength(1);
    const report = (await unpack(ctx, out.replies[0]!)).message;
    expect(report.type).toBe('https://didcomm.org/report-problem/2.0/problem-report');
    expect(report.body).toMatchObject({ code: 'e.p.msg.unsupported' });
    expect(await f.queuedFor(device.did)).toBe(0);
    await f.close();
  });
});
