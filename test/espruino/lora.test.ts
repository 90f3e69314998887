/**
 * The Puck.js / Pico bundles on a simulated LoRa network: the bundle's Serial1 drives a
 * RylrEmulator (RYLR998 AT command set) on a RadioChannel (airtime, EU868 1 % duty cycle), and
 * the gateway is the Node stack — RylrModem driver + FragmentTransport (ack-on-error) — with
 * the controller's and mediator's DIDComm agents behind it. Proves: telemetry reaches the Node
 * side and verifies, acks stop the retries (also across a lost frame), `led` toggles LED1 and
 * yields a result, a replayed command frame does nothing, a non-controller is refused,
 * multi-fragment messages work both ways, and after a reboot the sequence numbers continue
 * above the old ones while old frames are rejected. The device never breaks the duty cycle.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { createPrng } from '../../src/util/prng.js';
import { parsePairwise } from '../../src/envelope/compact/pairwise.js';
import { RadioChannel } from '../../transports/lora/channel.js';
import { createSimulatedLoraRadio, type SimulatedLoraRadio } from '../../transports/lora/simulated.js';
import { RylrEmulator } from '../../transports/lora/emulators/rylr.js';
import { createSerialPair, type MemorySerialEnd } from '../../transports/serial/memory-pair.js';
import { FragmentTransport } from '../../transports/fragment/transport.js';
import type { EspruinoDeviceConfig } from '../../src/provision/espruino.js';
import { ensureEspruinoBuilt } from './build.js';
import { boot, config, controller, device, mediator, NodeAgent, TYPES, type BootedDevice } from './fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await ensureEspruinoBuilt();
});

interface Net {
  clock: ManualClock;
  channel: RadioChannel;
  gateway: SimulatedLoraRadio;
  link: FragmentTransport;
  inbox: Uint8Array[];
  cleanup: Array<() => void | Promise<void>>;
}

let nets: Net[] = [];
afterEach(async () => {
  for (const n of nets) for (const c of n.cleanup.reverse()) await c();
  nets = [];
});

async function network(): Promise<Net> {
  const clock = new ManualClock();
  const channel = new RadioChannel({ clock, seed: 3 });
  const gateway = await createSimulatedLoraRadio({ channel, modem: 'rylr', address: 1, id: 'gateway' });
  // Duty-cycled link: the device's ACK may wait out its own off-time (README: scale timeouts up).
  const link = new FragmentTransport(gateway.transport, { clock, ackTimeoutMs: 40_000, maxRounds: 4 });
  const inbox: Uint8Array[] = [];
  link.on('frame', (m) => inbox.push(m));
  const net: Net = { clock, channel, gateway, link, inbox, cleanup: [() => link.close()] };
  nets.push(net);
  return net;
}

/** A device on the channel: its own RYLR998 emulator behind the bundle's Serial1 (UART reads split at random). */
interface DeviceOptions {
  commands?: Record<string, unknown>;
  noFlatStrings?: boolean;
  aes?: boolean;
}

function deviceOn(net: Net, board: string, cfg: EspruinoDeviceConfig, storage: Map<string, string>, o: DeviceOptions = {}): BootedDevice & { uart: MemorySerialEnd } {
  const prng = createPrng(storage.size + 11);
  const chunker = (c: Uint8Array): Uint8Array[] => {
    const out: Uint8Array[] = [];
    for (let i = 0; i < c.length; ) {
      const n = 1 + prng.int(12);
      out.push(c.subarray(i, i + n));
      i += n;
    }
    return out;
  };
  const [host, modem] = createSerialPair({ chunker });
  const emulator = new RylrEmulator({ port: modem, channel: net.channel, id: 'device', variant: 'rylr998' });
  const d = boot(dir, board, cfg, { clock: net.clock, storage, uart: host, capture: false, noFlatStrings: !!o.noFlatStrings, aes: o.aes !== false, ...(o.commands ? { commands: o.commands } : {}) });
  net.cleanup.push(() => {
    d.endpoint.stop();
    emulator.close();
    host.close();
  });
  return { ...d, uart: host };
}

const loraConfig = (): EspruinoDeviceConfig => ({
  ...config({ kind: 'lora-rylr', address: 2, gateway: 1 }),
  telemetry: { intervalMs: 0, retryMs: 60_000, maxTries: 5, outbox: 4 },
});

async function until(net: Net, done: () => boolean, ms = 600_000): Promise<void> {
  expect(await net.clock.runUntilDone(done, ms)).toBe(true);
}

/** Sends a message to the device through the gateway and runs the clock until the device ACKed it. */
async function deliver(net: Net, frame: Uint8Array): Promise<void> {
  let outcome: string | undefined;
  net.link.send(frame, '2').then(
    () => (outcome = 'acked'),
    (e: { code?: string }) => (outcome = e.code ?? 'failed'),
  );
  await until(net, () => outcome !== undefined);
  expect(outcome).toBe('acked');
}

describe('Espruino bundle over simulated LoRa (RYLR998 emulators, EU868 1 %)', () => {
  it('telemetry reaches the gateway, verifies, and the ack stops the retries — also when the first frame is lost', async () => {
    const net = await network();
    const d = deviceOn(net, 'puck-js', loraConfig(), new Map());
    const ctl = new NodeAgent(controller);
    // The channel loses the device's first transmission.
    let dropped = 0;
    net.channel.setFaultHook(({ from }) => (from === 'device' && dropped++ === 0 ? [] : undefined));
    const id = d.endpoint.report({ temp: 21.5, hum: 48 });
    await until(net, () => net.inbox.length === 1);
    expect(dropped).toBeGreaterThan(0);
    const report = await ctl.open(net.inbox[0]!);
    expect(report.message).toMatchObject({ id, type: TYPES.report, from: device.did, to: [controller.did], please_ack: [''], body: { temp: 21.5, hum: 48 } });
    expect(report.meta.layers).toEqual(['pairwise']);
    // The ack goes back with ack-on-error: the device ACKs the fragment, the send resolves.
    await deliver(net, await ctl.ack(id));
    expect(d.endpoint.outbox).toEqual([]);
    await net.clock.advance(600_000);
    expect(net.inbox).toHaveLength(1);
    expect(d.endpoint.stats).toMatchObject({ acked: 1, sent: 2 });
    expect(net.channel.stats().dutyCycleViolations).toBe(0);
    expect(d.env.uncaught).toEqual([]);
    expect(d.env.serialSetup[0]).toEqual([115200, { rx: 'D29', tx: 'D28' }]);
  });

  it('led over the air toggles LED1 and answers; a replayed frame does nothing; a non-controller is refused', async () => {
    const net = await network();
    const d = deviceOn(net, 'pico', { ...loraConfig(), board: 'pico' }, new Map());
    const ctl = new NodeAgent(controller);
    const med = new NodeAgent(mediator);
    const cmd = await ctl.command('led', 'toggle', '1ed0');
    await deliver(net, cmd);
    await until(net, () => net.inbox.length === 1);
    expect(d.env.led).toBe(true);
    const result = await ctl.open(net.inbox[0]!);
    expect(result.message).toMatchObject({ type: TYPES.result, thid: '1ed0', body: { status: 'ok', result: true } });
    // The same frame again (recorded and replayed by an attacker): reassembled, ACKed, rejected.
    await deliver(net, cmd);
    await net.clock.advance(120_000);
    expect(net.inbox).toHaveLength(1);
    expect(d.endpoint.stats.replayed).toBe(1);
    expect(d.env.pinWrites).toEqual([['LED1', true]]);
    // The mediator is no controller.
    await deliver(net, await med.command('led', 'toggle', '1ed1'));
    await until(net, () => net.inbox.length === 2);
    expect((await med.open(net.inbox[1]!)).message.body).toEqual({ status: 'error', result: 'not authorized' });
    expect(d.env.pinWrites).toEqual([['LED1', true]]);
    expect(net.channel.stats().dutyCycleViolations).toBe(0);
  });

  it('carries multi-fragment messages both ways, repairing a lost fragment when the gateway probes', async () => {
    const net = await network();
    // Also: E.toString finds no room for a flat string, so base64 takes the slow path.
    deviceOn(net, 'puck-js', loraConfig(), new Map(), { commands: { echo: (a: unknown) => a }, noFlatStrings: true });
    const ctl = new NodeAgent(controller);
    const long = 'x'.repeat(300);
    const cmd = await ctl.command('echo', long, 'ec01');
    expect(cmd.length).toBeGreaterThan(180);
    // The gateway's first fragment never arrives: its PROBE gets a REQUEST, the repair completes it.
    let lost = 0;
    net.channel.setFaultHook(({ from }) => (from === 'gateway' && lost++ === 0 ? [] : undefined));
    await deliver(net, cmd);
    expect(lost).toBeGreaterThan(1);
    expect(net.link.stats.sender).toMatchObject({ probes: 1, retransmissions: 1, acked: 1 });
    await until(net, () => net.inbox.length === 1);
    const result = await ctl.open(net.inbox[0]!);
    expect(result.message.body).toEqual({ status: 'ok', result: long });
    expect(net.inbox[0]!.length).toBeGreaterThan(180); // so the device fragmented it
    expect(net.gateway.radio.stats.rxFrames).toBeGreaterThanOrEqual(2);
    expect(net.channel.stats().dutyCycleViolations).toBe(0);
  });

  it('after a reboot continues above the old sequence numbers and rejects old frames (generic bundle, pure-JS AES)', async () => {
    const net = await network();
    const storage = new Map<string, string>();
    const ctl = new NodeAgent(controller);
    const d1 = deviceOn(net, 'generic', loraConfig(), storage, { aes: false });
    const cmd = await ctl.command('led', true, 'b001');
    await deliver(net, cmd);
    await until(net, () => net.inbox.length === 1);
    d1.endpoint.report({ temp: 1 });
    await until(net, () => net.inbox.length === 2);
    const oldSeq = Math.max(...net.inbox.map((f) => parsePairwise(f).seq));
    // Power cycle: the device (and its modem) restart; Storage survives.
    for (const c of net.cleanup.splice(1)) await c();
    await net.clock.advance(1000);
    const d2 = deviceOn(net, 'generic', loraConfig(), storage, { aes: false });
    d2.endpoint.report({ temp: 2 });
    await until(net, () => net.inbox.length === 3);
    expect(parsePairwise(net.inbox[2]!).seq).toBeGreaterThan(oldSeq);
    expect((await ctl.open(net.inbox[2]!)).message.body).toMatchObject({ temp: 2 });
    await deliver(net, cmd);
    await net.clock.advance(120_000);
    expect(d2.endpoint.stats.replayed).toBe(1);
    expect(d2.env.pinWrites).toEqual([]);
    // Nothing answered the replay: what arrived since are the unacked report's retries.
    const since = await Promise.all(net.inbox.slice(3).map((f) => ctl.open(f)));
    expect(since.map((m) => m.message.type)).toEqual(since.map(() => TYPES.report));
    expect(net.channel.stats().dutyCycleViolations).toBe(0);
  });
});
