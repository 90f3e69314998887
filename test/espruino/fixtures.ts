/**
 * Shared fixtures for the Espruino tests: a device, its controller and its mediator (did:key),
 * the device config from src/provision/espruino.ts, the Node-side agents' envelope contexts and
 * pairwise sessions (they derive their contexts themselves, from their own keys), and helpers
 * to build and open the frames a controller or mediator exchanges with the device.
 */
import { createDid, type SecretsFile } from '../../src/did/create.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { nodeBackend } from '../../src/crypto/node.js';
import { pack, unpack, type EnvelopeContext, type UnpackResult } from '../../src/envelope/index.js';
import { PairwiseSessions, memoryStateStore, type PairwiseStateStore } from '../../src/envelope/compact/pairwise-sessions.js';
import type { Message } from '../../src/message/message.js';
import { parseForward } from '../../src/routing/forward.js';
import { deviceConfig, type DeviceConfigOptions, type EspruinoDeviceConfig, type EspruinoPeer, type EspruinoTransportConfig } from '../../src/provision/espruino.js';
import { ManualClock } from '../../src/util/clock.js';
import { EspruinoEnv, loadBundle, type DeviceEndpoint, type EspruinoEnvOptions } from '../../boards/espruino/host/shim.js';
import { bundleCode } from './build.js';

export const device = createDid();
export const controller = createDid();
export const mediator = createDid();
export const stranger = createDid();

export const TYPES = {
  empty: 'https://didcomm.org/empty/1.0/empty',
  report: 'https://didcomm.org/telemetry/1.0/report',
  request: 'https://didcomm.org/command/1.0/request',
  result: 'https://didcomm.org/command/1.0/result',
  forward: 'https://didcomm.org/routing/2.0/forward',
  ping: 'https://didcomm.org/trust-ping/2.0/ping',
  pingResponse: 'https://didcomm.org/trust-ping/2.0/ping-response',
} as const;

/** A Node-side agent holding one DID: envelope context + pairwise sessions. */
export class NodeAgent {
  readonly ctx: EnvelopeContext;
  readonly sessions: PairwiseSessions;
  readonly me: SecretsFile;
  readonly store: PairwiseStateStore;
  private n = 0;
  constructor(me: SecretsFile, store: PairwiseStateStore = memoryStateStore()) {
    this.me = me;
    this.store = store;
    const secrets = new SecretsStore(nodeBackend);
    secrets.addFromJson(me);
    this.ctx = { crypto: nodeBackend, resolver: new OfflineResolver({ crypto: nodeBackend, documents: [device.didDocument, controller.didDocument, mediator.didDocument, stranger.didDocument] }), secrets };
    this.sessions = new PairwiseSessions(this.ctx, { store });
  }

  /** A pairwise frame from this agent to the device. */
  async frame(message: Omit<Message, 'id'> & { id?: string }, to = device.did): Promise<Uint8Array> {
    const m = { id: message.id ?? `c0ffee${(this.n++).toString(16).padStart(2, '0')}`, from: this.me.did, to: [to], ...message } as Message;
    return (await pack(this.ctx, m, { mode: 'pairwise', format: 'compact', from: this.me.did, to: [to], pairwise: this.sessions })).bytes;
  }

  command(command: string, args?: unknown, id?: string): Promise<Uint8Array> {
    return this.frame({ ...(id ? { id } : {}), type: TYPES.request, body: { command, ...(args === undefined ? {} : { args: args as never }) } });
  }

  ack(reportId: string): Promise<Uint8Array> {
    return this.frame({ type: TYPES.empty, ack: [reportId] });
  }

  open(frame: Uint8Array): Promise<UnpackResult> {
    return unpack(this.ctx, frame, { pairwise: this.sessions });
  }

  /** Mediator: opens a forward from the device, returns `next` and the inner frame. */
  async unwrapForward(frame: Uint8Array): Promise<{ next: string; inner: Uint8Array; outer: UnpackResult }> {
    const outer = await this.open(frame);
    const f = parseForward(outer.message);
    return { next: f.next, inner: f.inner, outer };
  }
}

export function config(transport: EspruinoTransportConfig, peers?: EspruinoPeer[], extra: Partial<DeviceConfigOptions> = {}): EspruinoDeviceConfig {
  return deviceConfig({
    deviceSecrets: device,
    board: 'puck-js',
    peers: peers ?? [
      { role: 'mediator', did: mediator.did },
      { role: 'controller', did: controller.did },
    ],
    transport,
    telemetry: { intervalMs: 0, retryMs: 10_000, maxTries: 3, outbox: 4 },
    ...extra,
  });
}

/** A frame link the test holds (no driver): frames the device sends, and a way to feed it. */
export class CaptureLink {
  mtu = 4096;
  sent: Uint8Array[] = [];
  onFrame: ((frame: Uint8Array, from: string | undefined) => void) | null = null;
  send(frame: Uint8Array, _to: string | undefined, done: (ok: boolean) => void): void {
    this.sent.push(frame.slice());
    queueMicrotask(() => done(true));
  }
  take(): Uint8Array[] {
    const s = this.sent;
    this.sent = [];
    return s;
  }
}

export interface BootedDevice {
  env: EspruinoEnv;
  endpoint: DeviceEndpoint;
  link: CaptureLink | undefined;
}

/** Loads `board`'s bundle in a fresh environment and starts it (a boot; same storage = reboot). */
export function boot(dir: string, board: string, cfg: EspruinoDeviceConfig, o: Partial<EspruinoEnvOptions> & { clock: ManualClock; capture?: boolean; commands?: Record<string, unknown> }): BootedDevice {
  const env = new EspruinoEnv(o);
  const mod = loadBundle(bundleCode(dir, board), env);
  const link = o.capture === false ? undefined : new CaptureLink();
  const endpoint = mod.start(cfg, { ...(link ? { link } : {}), ...(o.commands ? { commands: o.commands } : {}) });
  return { env, endpoint, link };
}
