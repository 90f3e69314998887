/**
 * The mediator's configuration file (`didcomm-iot mediator --config FILE`, docs/mediator.md
 * §Configuration): JSON, every member optional, validated here so a typo fails at start with
 * ERR_ARGUMENT instead of running with a default nobody asked for. Command-line flags override it.
 */
import { err } from '../errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../util/json.js';
import { isDid } from '../did/document.js';
import { checkWakeSchedule, type WakeSchedule } from './wake.js';
import { DEFAULT_POLICY, type MediatorPolicy } from './types.js';

export interface RadioConfig {
  name: string;
  /** RYLR AT modem on a serial port (other modems are wired in code with RadioGateway). */
  modem: 'rylr';
  path: string;
  baudRate: number;
  address: number;
  /** Fragment messages over the link (default true). */
  fragment: boolean;
  listenAfterUplinkMs?: number;
  schedules: Record<string, WakeSchedule>;
  /** Devices whose mail goes first when the airtime budget is short (actuators). */
  priorityDevices?: string[];
}

export interface MediatorConfig {
  dataDir: string;
  secrets?: string;
  store?: string;
  http?: { port: number; host?: string; path?: string };
  ws?: { port: number; host?: string; path?: string };
  mqtt?: { url: string; shareGroup?: string; topicPrefix?: string; protocolVersion?: 4 | 5; connections?: number; clearDid?: boolean; clientId?: string };
  /** Public base URL of the HTTP endpoint (invitation, DID service). Default: the local listener URL. */
  publicUrl?: string;
  devices: string[];
  radios: RadioConfig[];
  policy: MediatorPolicy;
}

function fail(path: string, what: string): never {
  throw err('ERR_ARGUMENT', `mediator config: ${path} ${what}`);
}

function str(o: JsonObject, k: string, path: string): string | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) fail(`${path}.${k}`, 'must be a non-empty string');
  return v;
}

function int(o: JsonObject, k: string, path: string, min: number, max: number): number | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) fail(`${path}.${k}`, `must be an integer from ${min} to ${max}`);
  return v;
}

function obj(v: JsonValue | undefined, path: string): JsonObject | undefined {
  if (v === undefined) return undefined;
  if (!isJsonObject(v)) fail(path, 'must be an object');
  return v;
}

function listener(v: JsonValue | undefined, path: string): { port: number; host?: string; path?: string } | undefined {
  const o = obj(v, path);
  if (!o) return undefined;
  const r: { port: number; host?: string; path?: string } = { port: int(o, 'port', path, 0, 65535) ?? 0 };
  const host = str(o, 'host', path);
  if (host !== undefined) r.host = host;
  const p = str(o, 'path', path);
  if (p !== undefined) r.path = p;
  return r;
}

function policyOf(v: JsonValue | undefined): MediatorPolicy {
  const o = obj(v, 'policy') ?? {};
  const p: MediatorPolicy = { ...DEFAULT_POLICY, mailbox: { ...DEFAULT_POLICY.mailbox }, hold: { ...DEFAULT_POLICY.hold } };
  if (o.grant !== undefined) {
    if (o.grant === 'open') p.grant = { kind: 'open' };
    else if (Array.isArray(o.grant) && o.grant.every((d) => isDid(d))) p.grant = { kind: 'allowlist', dids: o.grant as string[] };
    else fail('policy.grant', 'must be "open" or an array of DIDs');
  }
  if (o.unknownRecipient !== undefined) {
    if (o.unknownRecipient !== 'refuse' && o.unknownRecipient !== 'accept-and-hold') fail('policy.unknownRecipient', 'must be "refuse" or "accept-and-hold"');
    p.unknownRecipient = o.unknownRecipient;
  }
  p.maxReceiveBytes = int(o, 'maxReceiveBytes', 'policy', 256, 16 * 1024 * 1024) ?? p.maxReceiveBytes;
  p.mailbox.maxMessages = int(o, 'mailboxMaxMessages', 'policy', 1, 10_000_000) ?? p.mailbox.maxMessages;
  p.mailbox.maxBytes = int(o, 'mailboxMaxBytes', 'policy', 1, Number.MAX_SAFE_INTEGER) ?? p.mailbox.maxBytes;
  p.messageTtlMs = int(o, 'messageTtlMs', 'policy', 1000, Number.MAX_SAFE_INTEGER) ?? p.messageTtlMs;
  p.maxDelayMs = int(o, 'maxDelayMs', 'policy', 0, 60_000) ?? p.maxDelayMs;
  p.hold.ttlMs = int(o, 'holdTtlMs', 'policy', 1000, Number.MAX_SAFE_INTEGER) ?? p.hold.ttlMs;
  const rate = (k: 'senderRate' | 'remoteRate'): void => {
    const r = obj(o[k], `policy.${k}`);
    if (!r) return;
    p[k] = { perSecond: int(r, 'perSecond', `policy.${k}`, 1, 1_000_000) ?? p[k].perSecond, burst: int(r, 'burst', `policy.${k}`, 1, 10_000_000) ?? p[k].burst };
  };
  rate('senderRate');
  rate('remoteRate');
  if (o.rewrap !== undefined) {
    if (typeof o.rewrap !== 'boolean') fail('policy.rewrap', 'must be a boolean');
    p.rewrap = o.rewrap;
  }
  return p;
}

function radioOf(v: JsonValue, i: number): RadioConfig {
  const path = `radios[${i}]`;
  const o = obj(v, path)!;
  if (o.modem !== 'rylr') fail(`${path}.modem`, 'must be "rylr"');
  const schedules: Record<string, WakeSchedule> = {};
  for (const [did, s] of Object.entries(obj(o.schedules, `${path}.schedules`) ?? {})) {
    if (!isDid(did)) fail(`${path}.schedules`, 'keys must be DIDs');
    const so = obj(s, `${path}.schedules["${did}"]`)!;
    try {
      schedules[did] = checkWakeSchedule({ periodMs: so.periodMs as number, windowMs: so.windowMs as number, ...(so.phaseMs !== undefined ? { phaseMs: so.phaseMs as number } : {}) });
    } catch {
      fail(`${path}.schedules["${did}"]`, 'must be {periodMs, windowMs, phaseMs?} with periodMs >= windowMs >= 1');
    }
  }
  const r: RadioConfig = {
    name: str(o, 'name', path) ?? `radio${i}`,
    modem: 'rylr',
    path: str(o, 'path', path) ?? fail(`${path}.path`, 'is required'),
    baudRate: int(o, 'baudRate', path, 1200, 4_000_000) ?? 115_200,
    address: int(o, 'address', path, 1, 65535) ?? 1,
    fragment: o.fragment === undefined ? true : o.fragment === true,
    schedules,
  };
  const l = int(o, 'listenAfterUplinkMs', path, 0, 3_600_000);
  if (l !== undefined) r.listenAfterUplinkMs = l;
  if (o.priorityDevices !== undefined) {
    if (!Array.isArray(o.priorityDevices) || !o.priorityDevices.every((d) => typeof d === 'string' && isDid(d))) fail(`${path}.priorityDevices`, 'must be a list of DIDs');
    r.priorityDevices = o.priorityDevices as string[];
  }
  return r;
}

/** Validates a parsed config file; `dataDir` defaults to `defaultDataDir`. */
export function parseMediatorConfig(value: JsonValue | undefined, defaultDataDir: string): MediatorConfig {
  const o = value === undefined ? {} : obj(value, 'file')!;
  const cfg: MediatorConfig = { dataDir: str(o, 'dataDir', 'config') ?? defaultDataDir, devices: [], radios: [], policy: policyOf(o.policy) };
  const secrets = str(o, 'secrets', 'config');
  if (secrets !== undefined) cfg.secrets = secrets;
  const store = str(o, 'store', 'config');
  if (store !== undefined) cfg.store = store;
  const publicUrl = str(o, 'publicUrl', 'config');
  if (publicUrl !== undefined) cfg.publicUrl = publicUrl;
  const http = listener(o.http, 'http');
  if (http) cfg.http = http;
  const ws = listener(o.ws, 'ws');
  if (ws) cfg.ws = ws;
  const m = obj(o.mqtt, 'mqtt');
  if (m) {
    const url = str(m, 'url', 'mqtt') ?? fail('mqtt.url', 'is required');
    const version = int(m, 'protocolVersion', 'mqtt', 4, 5);
    cfg.mqtt = { url, ...(version !== undefined ? { protocolVersion: version as 4 | 5 } : {}) };
    for (const k of ['shareGroup', 'topicPrefix', 'clientId'] as const) {
      const s = str(m, k, 'mqtt');
      if (s !== undefined) cfg.mqtt[k] = s;
    }
    const n = int(m, 'connections', 'mqtt', 1, 16);
    if (n !== undefined) cfg.mqtt.connections = n;
    if (m.clearDid === true) cfg.mqtt.clearDid = true;
  }
  if (o.devices !== undefined) {
    if (!Array.isArray(o.devices) || !o.devices.every((d) => isDid(d))) fail('devices', 'must be an array of DIDs');
    cfg.devices = o.devices as string[];
  }
  if (o.radios !== undefined) {
    if (!Array.isArray(o.radios)) fail('radios', 'must be an array');
    cfg.radios = o.radios.map(radioOf);
  }
  return cfg;
}
