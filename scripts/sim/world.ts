/**
 * Builds the simulated field on embedded defaults (no broker, database or hardware needed): a
 * LoRa channel simulator (airtime, EU868 duty cycle, loss) with modem emulators, a mediator on
 * SQLite in a temp dir with its LoRa gateway and an MQTT listener on an embedded broker, a
 * controller agent on MQTT, Node sensors, Espruino endpoints (the real bundles under the host
 * shims), an actuator, an intruder, and a field device that goes offline for a while.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createDid, type SecretsFile } from '../../src/did/create.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { defaultCrypto } from '../../src/crypto/default.js';
import { Agent } from '../../src/agent/index.js';
import type { LinkConfig, PeerConfig } from '../../src/agent/types.js';
import { Mediator } from '../../src/mediator/service.js';
import { RadioGateway } from '../../src/mediator/radio-gateway.js';
import { ALWAYS_LISTENING, type WakeSchedule } from '../../src/mediator/wake.js';
import { MediatorMqttListener } from '../../src/mediator/listen-mqtt.js';
import { openMediatorStores } from '../../src/mediator/stores.js';
import { openKvStore } from '../../src/store/open.js';
import { deviceConfig } from '../../src/provision/espruino.js';
import { createPrng, type Prng } from '../../src/util/prng.js';
import type { Clock } from '../../src/util/clock.js';
import { RadioChannel } from '../../transports/lora/channel.js';
import { airtimeMs, loraSettings, type SpreadingFactor } from '../../transports/lora/airtime.js';
import { createSimulatedLoraRadio, type SimulatedLoraRadio } from '../../transports/lora/simulated.js';
import { RylrEmulator } from '../../transports/lora/emulators/rylr.js';
import { createSerialPair } from '../../transports/serial/memory-pair.js';
import { FragmentTransport } from '../../transports/fragment/index.js';
import { GatedTransport } from '../../transports/gate.js';
import { MqttTransport } from '../../transports/mqtt/index.js';
import { inboxIdForDid } from '../../transports/mqtt/topics.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../transports/mqtt/embedded-broker.js';
import { EspruinoEnv, loadBundle, type DeviceEndpoint } from '../../boards/espruino/host/shim.js';
import type { SimOptions } from './options.js';

export const GATEWAY_ADDRESS = 1;

export interface RadioNode {
  name: string;
  kind: 'node' | 'espruino' | 'field' | 'actuator' | 'intruder';
  did: string;
  radio: SimulatedLoraRadio | { radio: SimulatedLoraRadio['radio']; transport?: undefined };
  agent?: Agent;
  /** The agent's link, which can be taken down (the offline field device). */
  gate?: GatedTransport;
  espruino?: { env: EspruinoEnv; endpoint: DeviceEndpoint };
  online: boolean;
}

export interface Field {
  clock: Clock;
  prng: Prng;
  channel: RadioChannel;
  broker: EmbeddedBroker;
  mediator: Mediator;
  mediatorDid: string;
  gateway: RadioGateway;
  controller: Agent;
  controllerDid: string;
  nodes: RadioNode[];
  /** Radio devices whose coordinate-mediation request failed (name: reason). */
  enrolmentFailures: string[];
  close(): Promise<void>;
}

/**
 * Fragmentation timers scaled to the duty cycle: after a full frame a radio stays silent for 99×
 * its airtime (EU868 1 %), so the next fragment cannot come sooner. Asking for "missing" fragments
 * before that, or probing, only burns the budget the data needs.
 */
function fragmentTimers(sf: number): { maxMessageSize: number; ackTimeoutMs: number; maxRounds: number; requestDelayMs: number; reassemblyTimeoutMs: number } {
  const offTime = Math.ceil(airtimeMs(248, loraSettings({ sf: sf as SpreadingFactor })) * 99);
  return { maxMessageSize: 8192, ackTimeoutMs: Math.ceil(offTime * 1.5), maxRounds: 8, requestDelayMs: Math.ceil(offTime * 1.2), reassemblyTimeoutMs: offTime * 12 };
}

/** The Espruino bundle for a board, from dist/espruino (built by `npm run build`, which `npm ci` runs). */
function bundleCode(dir: string, board: string): string {
  const path = join(dir, `${board}.js`);
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new Error(`${path} is missing: run npm run build`);
  }
}

export async function buildField(o: SimOptions, clock: Clock, dataDir: string, root: string): Promise<Field> {
  const prng = createPrng(o.seed);
  const FRAGMENT = fragmentTimers(o.sf);
  const channel = new RadioChannel({ clock, seed: o.seed, lossProbability: o.loss });
  if (process.env.SIM_TRACE) {
    const t0 = clock.now();
    channel.on('transmit', (e) => console.error(`${((e.at - t0) / 1000).toFixed(1)} tx ${e.radio} ${e.bytes}B ${Math.round(e.airtimeMs)}ms`));
    channel.on('drop', (e) => console.error(`${((e.at - t0) / 1000).toFixed(1)}   drop ${e.from}->${e.to} ${e.reason}`));
  }
  const radio = { sf: o.sf as 7 | 8 | 9 | 10 | 11 | 12 };
  const mediatorId = createDid();
  const controllerId = createDid();
  const sensorIds = Array.from({ length: o.devices }, () => createDid());
  const espruinoIds = Array.from({ length: o.espruino }, () => createDid());
  const fieldId = createDid();
  const actuatorId = createDid();
  const intruderId = createDid();
  const everyone: SecretsFile[] = [mediatorId, controllerId, ...sensorIds, ...espruinoIds, fieldId, actuatorId, intruderId];
  const resolver = () => new OfflineResolver({ documents: everyone.map((e) => e.didDocument) });

  // The mediator: SQLite in the data dir, a LoRa gateway, an MQTT listener on the embedded broker.
  const stores = await openMediatorStores(`sqlite:${join(dataDir, 'mailbox.db')}`, { clock, dataDir });
  const msecrets = new SecretsStore(defaultCrypto);
  msecrets.addFromJson(mediatorId);
  const mediator = await Mediator.create({
    did: mediatorId.did,
    ctx: { crypto: defaultCrypto, resolver: resolver(), secrets: msecrets },
    stores,
    clock,
    devices: espruinoIds.map((e) => e.did),
  });
  // Modem command timeouts are virtual time too: at 120× a real 2 s timeout would be 17 ms of wall
  // time, which a busy machine can miss. The emulators answer at once; give them room.
  const modemTimeouts = { commandTimeoutMs: 30_000 };
  const gwRadio = await createSimulatedLoraRadio({ channel, modem: 'rylr', address: GATEWAY_ADDRESS, radio, id: 'gateway', ...modemTimeouts });
  const gwLink = new FragmentTransport(gwRadio.transport, { clock, ...FRAGMENT });
  // Every radio device's RYLR modem receives continuously: the gateway may push to it at any time.
  const schedules: Record<string, WakeSchedule> = {};
  for (const id of [...sensorIds, ...espruinoIds, fieldId, actuatorId, intruderId]) schedules[id.did] = ALWAYS_LISTENING;
  // The actuator's commands go before the sensors' acks when the gateway's duty cycle is the bottleneck.
  const gateway = new RadioGateway(mediator, { name: 'lora', transport: gwLink, clock, listenAfterUplinkMs: 180_000, schedules, resendAfterMs: 600_000, priorityDevices: [actuatorId.did] });
  const broker = await startEmbeddedBroker();
  const listener = await MediatorMqttListener.start(mediator, { url: broker.url, protocolVersion: 4 });

  const agentFor = async (id: SecretsFile, links: LinkConfig[], peers: PeerConfig[], extra: Partial<ConstructorParameters<typeof Agent>[0]> = {}): Promise<Agent> => {
    const store = await openKvStore('memory:');
    const a = new Agent({ secrets: id, resolver: resolver(), store, links, clock, peers, mediator: mediatorId.did, random: () => prng.next(), ...extra });
    await a.start();
    return a;
  };

  // The controller: on MQTT, mediated, live delivery on.
  const ctlMqtt = await MqttTransport.connect({ url: broker.url, did: controllerId.did, protocolVersion: 4, clock } as never, 10_000);
  const controller = await agentFor(
    controllerId,
    [{ transport: ctlMqtt, peers: { [mediatorId.did]: inboxIdForDid(mediatorId.did) }, persistent: true, ackTimeoutMs: 120_000 }],
    [
      // Radio devices read DIDComm Compact (their last hop is LoRa); Espruino endpoints pairwise only.
      ...[...sensorIds, fieldId, actuatorId].map((s) => ({ did: s.did, mediator: mediatorId.did, format: 'compact' as const, knowsUs: true })),
      ...espruinoIds.map((s) => ({ did: s.did, mediator: mediatorId.did, mode: 'pairwise' as const, knowsUs: true })),
    ],
    { outbox: { backoff: { baseMs: 30_000, maxMs: 900_000 } } },
  );

  const nodes: RadioNode[] = [];
  let address = GATEWAY_ADDRESS + 1;
  const radioAgent = async (id: SecretsFile, name: string, kind: RadioNode['kind'], extra: Partial<ConstructorParameters<typeof Agent>[0]> = {}): Promise<RadioNode> => {
    const r = await createSimulatedLoraRadio({ channel, modem: 'rylr', address: address++, radio, id: name, ...modemTimeouts });
    const gate = new GatedTransport(new FragmentTransport(r.transport, { clock, ...FRAGMENT }));
    const agent = await agentFor(
      id,
      [{ transport: gate, peers: { [mediatorId.did]: String(GATEWAY_ADDRESS) }, constrained: true, ackTimeoutMs: 300_000 }],
      [{ did: controllerId.did, mediator: mediatorId.did, knowsUs: true }],
      { telemetry: { to: controllerId.did, signing: 'signed' }, outbox: { backoff: { baseMs: 60_000, maxMs: 1_800_000 } }, ...extra },
    );
    const node: RadioNode = { name, kind, did: id.did, radio: r, agent, gate, online: true };
    nodes.push(node);
    return node;
  };

  for (const [i, id] of sensorIds.entries()) await radioAgent(id, `sensor-${i + 1}`, 'node');
  await radioAgent(fieldId, 'field-1', 'field');
  await radioAgent(actuatorId, 'actuator-1', 'actuator', { controllers: { [controllerId.did]: ['relay'] } });
  await radioAgent(intruderId, 'intruder', 'intruder');

  // Espruino endpoints: the puck-js bundle under the host shims, Serial1 → RYLR998 emulator.
  const emulators: RylrEmulator[] = [];
  const code = o.espruino > 0 ? bundleCode(o.bundles ?? join(root, 'dist', 'espruino'), 'puck-js') : '';
  for (const [i, id] of espruinoIds.entries()) {
    const name = `puck-${i + 1}`;
    const [host, modemPort] = createSerialPair();
    const emulator = new RylrEmulator({ port: modemPort, channel, id: name, variant: 'rylr998' });
    emulators.push(emulator);
    const cfg = deviceConfig({
      deviceSecrets: id,
      board: 'puck-js',
      peers: [
        { role: 'mediator', did: mediatorId.did },
        { role: 'controller', did: controllerId.did, via: 'mediator' },
      ],
      transport: { kind: 'lora-rylr', address: address++, gateway: GATEWAY_ADDRESS, sf: o.sf, ...modemTimeouts },
      telemetry: { intervalMs: 0, retryMs: 300_000, maxTries: 12, outbox: 8 },
    });
    const env = new EspruinoEnv({ clock, storage: new Map(), uart: host, temperature: () => 20 + prng.next() * 5, seed: o.seed + i });
    const endpoint = loadBundle(code, env).start(cfg);
    nodes.push({ name, kind: 'espruino', did: id.did, radio: { radio: emulator.radio }, espruino: { env, endpoint }, online: true });
  }

  const enrolmentFailures: string[] = [];
  // Everyone on the radio asks the mediator for mediation, so replies and acks can reach them.
  const step = async <T>(what: string, p: Promise<T>): Promise<T> => {
    const t = Date.now();
    try {
      return await p;
    } finally {
      if (process.env.DEBUG) console.error(`${what}: ${Date.now() - t} ms`);
    }
  };
  await step('controller mediation', controller.requestMediation(mediatorId.did));
  await step('controller live', controller.setLiveDelivery(true));
  // Radio devices enrol one after the other: the gateway's own duty cycle limits its replies.
  for (const n of nodes) {
    if (!n.agent) continue;
    // A device that could not enrol still reports (forwards need no mediation of its own), but the
    // mediator refuses mail for it; the summary says so instead of hiding it.
    // Like a device in the field, it tries again (up to three rounds) before giving up.
    for (let round = 1; ; round++) {
      try {
        await step(`${n.name} mediation`, n.agent.requestMediation(mediatorId.did, { timeoutMs: 600_000 }));
        break;
      } catch (e) {
        if (round < 3) continue;
        enrolmentFailures.push(`${n.name}: ${e instanceof Error ? e.message : String(e)}`);
        break;
      }
    }
  }

  return {
    clock,
    prng,
    channel,
    broker,
    mediator,
    mediatorDid: mediatorId.did,
    gateway,
    controller,
    controllerDid: controllerId.did,
    nodes,
    enrolmentFailures,
    async close() {
      for (const n of nodes) {
        n.espruino?.endpoint.stop();
        await n.agent?.stop().catch(() => undefined);
        await n.gate?.close().catch(() => undefined); // the fragment layer, then the modem driver
        if (n.radio.transport) await (n.radio as SimulatedLoraRadio).close().catch(() => undefined);
      }
      for (const e of emulators) e.close();
      await controller.stop().catch(() => undefined);
      await ctlMqtt.close().catch(() => undefined);
      await listener.close().catch(() => undefined);
      await gateway.close().catch(() => undefined);
      await gwLink.close().catch(() => undefined);
      await gwRadio.close().catch(() => undefined);
      await broker.close().catch(() => undefined);
      await stores.close().catch(() => undefined);
    },
  };
}
