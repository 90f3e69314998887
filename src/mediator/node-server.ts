/**
 * Runs a whole mediator on Node from a MediatorConfig: its DID and keys (secrets file created
 * 0600 in the data dir on first run), the stores (`sqlite:` in the data dir by default), and the
 * listeners — HTTP POST, WebSocket, MQTT (with a `$share` group for scale-out) and radio gateways
 * (RYLR modem on a serial port, fragmented). This is the mediator's wiring point with the
 * transports (like `boards/` for devices): transports are imported lazily, here only.
 * Also prints nothing: the CLI (src/cli/commands/mediator.ts) does.
 */
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { err } from '../errors.js';
import { fromUtf8 } from '../util/bytes.js';
import { parseJsonObject } from '../util/json.js';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { defaultCrypto } from '../crypto/default.js';
import { createDid, type SecretsFile } from '../did/create.js';
import { OfflineResolver } from '../did/resolver.js';
import { SecretsStore } from '../did/secrets.js';
import type { DidDocument } from '../did/document.js';
import type { EnvelopeContext } from '../envelope/index.js';
import { newMessageId } from '../message/ids.js';
import { Mediator } from './service.js';
import { openMediatorStores } from './stores.js';
import { mediatorHttpHook } from './listen-http.js';
import { attachWsListener } from './listen-ws.js';
import { MediatorMqttListener } from './listen-mqtt.js';
import { RadioGateway } from './radio-gateway.js';
import { mediatorInvitation, type Invitation } from './invitation.js';
import type { MediatorConfig } from './config.js';

export interface MediatorServer {
  mediator: Mediator;
  did: string;
  httpUrl: string | undefined;
  wsUrl: string | undefined;
  mqtt: MediatorMqttListener | undefined;
  gateways: RadioGateway[];
  invitation: Invitation;
  close(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  onError?: (e: unknown) => void;
  /** Instance name (pairwise state file, MQTT client id). Default: the process id. */
  instance?: string;
  /** Expired-mail purge period (default 60 s). */
  purgeEveryMs?: number;
}

/** Loads the mediator's secrets file, or creates it (mode 0600, never overwriting) with a did:peer:2 naming `endpoints`. */
export async function loadOrCreateSecrets(path: string, endpoints: string[]): Promise<SecretsFile> {
  try {
    const st = await stat(path);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) throw err('ERR_NOT_AUTHORIZED', `secrets file ${path} is accessible by group or others; run "chmod 600 ${path}"`);
    const o = parseJsonObject(fromUtf8(new Uint8Array(await readFile(path))), `secrets file ${path}`);
    if (typeof o.did !== 'string' || !Array.isArray(o.secrets)) throw err('ERR_MALFORMED', `secrets file ${path}: expected {did, didDocument, secrets}`);
    return o as unknown as SecretsFile;
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw e;
  }
  const created = endpoints.length > 0 ? createDid({ method: 'peer', services: endpoints.map((uri) => ({ uri, accept: ['didcomm/v2', 'didcomm/compact/1'] })) }) : createDid();
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(JSON.stringify(created, null, 2) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return created;
}

export function envelopeContextFor(secrets: SecretsFile, extraDocuments: DidDocument[] = []): EnvelopeContext {
  const store = new SecretsStore(defaultCrypto);
  store.addFromJson(secrets);
  const resolver = new OfflineResolver({ crypto: defaultCrypto, documents: [...(secrets.didDocument ? [secrets.didDocument] : []), ...extraDocuments] });
  return { crypto: defaultCrypto, resolver, secrets: store };
}

export async function startMediatorServer(cfg: MediatorConfig, o: StartOptions = {}): Promise<MediatorServer> {
  const clock = o.clock ?? systemClock;
  const onError = o.onError ?? (() => undefined);
  const instance = o.instance ?? String(process.pid);
  await mkdir(cfg.dataDir, { recursive: true, mode: 0o700 });
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch(onError);
  };
  try {
    // Listeners first: their URLs go into a new DID's service endpoints.
    const { HttpListener } = cfg.http ? await import('../../transports/http/index.js') : { HttpListener: undefined };
    const { WsListener } = cfg.ws ? await import('../../transports/ws/index.js') : { WsListener: undefined };
    let hook: ReturnType<typeof mediatorHttpHook> | undefined;
    const http = HttpListener && cfg.http
      ? await HttpListener.listen({ port: cfg.http.port, ...(cfg.http.host ? { host: cfg.http.host } : {}), ...(cfg.http.path ? { path: cfg.http.path } : {}), maxMessageSize: cfg.policy.maxReceiveBytes, clock, onRequest: (f, i) => hook!(f, i) })
      : undefined;
    if (http) closers.push(() => http.close());
    const ws = WsListener && cfg.ws ? await WsListener.listen({ port: cfg.ws.port, ...(cfg.ws.host ? { host: cfg.ws.host } : {}), ...(cfg.ws.path ? { path: cfg.ws.path } : {}), maxMessageSize: cfg.policy.maxReceiveBytes, clock }) : undefined;
    if (ws) closers.push(() => ws.close());
    const httpUrl = http?.address;
    const wsUrl = ws ? `ws://127.0.0.1:${ws.port}${cfg.ws?.path ?? '/'}` : undefined;

    const endpoints = [cfg.publicUrl ?? httpUrl, wsUrl].filter((u): u is string => u !== undefined);
    const secrets = await loadOrCreateSecrets(cfg.secrets ?? join(cfg.dataDir, 'mediator-secrets.json'), endpoints);
    const ctx = envelopeContextFor(secrets);
    const stores = await openMediatorStores(cfg.store ?? `sqlite:${join(cfg.dataDir, 'mailbox.db')}`, { clock, dataDir: cfg.dataDir, instance, limits: cfg.policy.mailbox, maxItemBytes: cfg.policy.maxReceiveBytes });
    closers.push(() => stores.close());
    const mediator = await Mediator.create({ did: secrets.did, ctx, stores, policy: cfg.policy, clock, devices: cfg.devices, onError });
    closers.push(async () => mediator.close());
    hook = mediatorHttpHook(mediator);
    if (ws) {
      const detach = attachWsListener(mediator, ws, { onError });
      closers.push(async () => detach());
    }
    let mqtt: MediatorMqttListener | undefined;
    if (cfg.mqtt) {
      // a stable client id per (mediator, data dir): the broker keeps this instance's session
      // (unacknowledged frames) across restarts
      const stableId = createHash('sha256').update(`${secrets.did}|${cfg.dataDir}|${o.instance ?? ''}`).digest('hex').slice(0, 16);
      mqtt = await MediatorMqttListener.start(mediator, { ...cfg.mqtt, clientId: cfg.mqtt.clientId ?? `dcm-${stableId}`, onError });
      closers.push(() => mqtt!.close());
    }
    const gateways: RadioGateway[] = [];
    for (const r of cfg.radios) {
      const [{ openSerialPort }, { RylrModem }, { FragmentTransport }] = await Promise.all([
        import('../../transports/serial/node-port.js'),
        import('../../transports/lora/rylr.js'),
        import('../../transports/fragment/index.js'),
      ]);
      const port = await openSerialPort({ path: r.path, baudRate: r.baudRate });
      const modem = await RylrModem.open({ port, clock, address: r.address });
      const transport = r.fragment ? new FragmentTransport(modem, { clock }) : modem;
      const gw = new RadioGateway(mediator, { name: r.name, transport, clock, schedules: r.schedules, onError, ...(r.listenAfterUplinkMs !== undefined ? { listenAfterUplinkMs: r.listenAfterUplinkMs } : {}), ...(r.priorityDevices ? { priorityDevices: r.priorityDevices } : {}) });
      gateways.push(gw);
      closers.push(async () => {
        await gw.close();
        await transport.close();
      });
    }
    let purge: Timer | undefined;
    let stopped = false;
    const schedulePurge = (): void => {
      if (stopped) return;
      purge = clock.setTimer(o.purgeEveryMs ?? 60_000, () => {
        stores.mailbox.purgeExpired(clock.now()).catch(onError).finally(schedulePurge);
      });
    };
    schedulePurge();
    closers.push(async () => {
      stopped = true;
      purge?.cancel();
    });
    const invitation = mediatorInvitation(newMessageId(defaultCrypto), secrets.did, cfg.publicUrl ?? httpUrl ?? 'https://mediator.invalid/');
    return { mediator, did: secrets.did, httpUrl, wsUrl, mqtt, gateways, invitation, close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
