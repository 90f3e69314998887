/**
 * The Raspberry Pi application: a full Node agent whose sensors report signed telemetry and whose
 * actuators execute authenticated commands, configured by a board profile (JSON). Links: a LoRa
 * modem on the Pi's UART (serialport 13, fragmentation on top), MQTT, or any Transport the caller
 * passes (tests, the field simulation). Commands are named after actuators; a controller needs
 * that name (or '*') in its rights.
 */
import { err } from '../../src/errors.js';
import { Agent } from '../../src/agent/index.js';
import type { LinkConfig } from '../../src/agent/types.js';
import type { TelemetrySigning } from '../../src/agent/types.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import type { DidDocument } from '../../src/did/document.js';
import type { SecretsFile } from '../../src/did/create.js';
import { openKvStore } from '../../src/store/open.js';
import type { KvStore } from '../../src/store/kv.js';
import { systemClock, type Clock, type Timer } from '../../src/util/clock.js';
import type { Transport } from '../../transports/types.js';
import { openHardware, type BoardSource, type Hardware, type HardwareConfig } from './hardware.js';

export interface PiLinkProfile {
  kind: 'lora' | 'mqtt';
  /** lora: modem type and serial device. */
  modem?: 'rylr' | 'rn2483' | 'rak3172' | 'e22' | 'e32';
  path?: string;
  baudRate?: number;
  /** lora: our modem address; mqtt: broker URL. */
  address?: number;
  url?: string;
  /** DID → link address of peers reachable on this link. */
  peers?: Record<string, string | null>;
}

export interface PiProfile {
  board: 'raspberry-pi';
  /** Our secrets file (contents). */
  secrets: SecretsFile;
  /** DID documents of peers that do not resolve by themselves. */
  dids?: DidDocument[];
  /** KvStore URL: sqlite:PATH (default memory: for tests). */
  store?: string;
  /** Where telemetry goes. */
  controller: string;
  mediator?: string;
  /** Controller DID → command rights ('*' or actuator names). */
  controllers: Record<string, string[]>;
  telemetry?: { intervalMs?: number; signing?: TelemetrySigning };
  links?: PiLinkProfile[];
  hardware: HardwareConfig;
}

export interface PiAppDeps {
  /** johnny-five io (mock-firmata in tests) or a serialport-13 port to a Firmata board. */
  board: BoardSource;
  /** Links built by the caller (used instead of `profile.links`). */
  links?: LinkConfig[];
  clock?: Clock;
  store?: KvStore;
}

export interface PiApp {
  agent: Agent;
  hardware: Hardware;
  /** Sends one report now (also what the interval timer does). */
  reportNow(): Promise<void>;
  stop(): Promise<void>;
}

async function openLinks(profile: PiProfile, clock: Clock): Promise<LinkConfig[]> {
  const links: LinkConfig[] = [];
  for (const l of profile.links ?? []) {
    if (l.kind === 'mqtt') {
      const { MqttTransport } = await import('../../transports/mqtt/index.js');
      const t = await MqttTransport.connect({ url: l.url!, did: profile.secrets.did }, 10_000);
      links.push({ transport: t, peers: l.peers ?? {} });
      continue;
    }
    const { openSerialPort } = await import('../../transports/serial/node-port.js');
    const { FragmentTransport } = await import('../../transports/fragment/index.js');
    const lora = await import('../../transports/lora/index.js');
    const port = await openSerialPort({ path: l.path ?? '/dev/serial0', baudRate: l.baudRate ?? 115200 });
    let modem: Transport;
    if (l.modem === 'rn2483') modem = await lora.Rn2483Modem.open({ port, clock });
    else if (l.modem === 'rak3172') modem = await lora.Rak3172Modem.open({ port, clock });
    else if (l.modem === 'e22' || l.modem === 'e32') modem = await lora.TransparentModem.open({ port, clock, model: l.modem } as never);
    else modem = await lora.RylrModem.open({ port, clock, address: l.address ?? 1 });
    links.push({ transport: new FragmentTransport(modem, { clock }), peers: l.peers ?? {}, constrained: true });
  }
  if (links.length === 0) throw err('ERR_ARGUMENT', 'raspberry-pi: the profile names no links');
  return links;
}

export async function startPiApp(profile: PiProfile, deps: PiAppDeps): Promise<PiApp> {
  const clock = deps.clock ?? systemClock;
  const hardware = await openHardware(profile.hardware, deps.board);
  const store = deps.store ?? (await openKvStore(profile.store ?? 'memory:'));
  const links = deps.links ?? (await openLinks(profile, clock));
  const agent = new Agent({
    secrets: profile.secrets,
    resolver: new OfflineResolver({ documents: [profile.secrets.didDocument, ...(profile.dids ?? [])] }),
    store,
    links,
    clock,
    controllers: profile.controllers,
    telemetry: { to: profile.controller, signing: profile.telemetry?.signing ?? 'signed' },
    ...(profile.mediator ? { mediator: profile.mediator } : {}),
  });
  for (const a of hardware.actuators.values()) {
    agent.onCommand(a.name, (req) => ({ state: a.execute(req.args) }), { rights: [a.name] });
  }
  await agent.start();
  const reportNow = async (): Promise<void> => {
    const r = hardware.read();
    if (Object.keys(r).length === 0) return;
    r.ts = Math.floor(clock.now() / 1000);
    await agent.report(r);
  };
  let timer: Timer | undefined;
  let stopped = false;
  const interval = profile.telemetry?.intervalMs ?? 60_000;
  const schedule = (): void => {
    timer = clock.setTimer(interval, () => {
      if (stopped) return;
      reportNow().catch(() => undefined).finally(schedule);
    });
  };
  schedule();
  return {
    agent,
    hardware,
    reportNow,
    async stop() {
      stopped = true;
      timer?.cancel();
      await agent.stop();
      await store.close();
    },
  };
}
