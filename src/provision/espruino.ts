/**
 * Provisioning an Espruino thin endpoint (DESIGN §1; boards/espruino/README.md): from the
 * device's secrets (its static DID and X25519 key, as `createDid` returns them) and the DIDs of
 * its peers, derives one pairwise context per peer (docs/compact.md §7, `derivePairwiseContext`:
 * static-static X25519 → RFC 8613 key derivation) and returns the JSON the device's bundle
 * reads from Storage (`didcomm.json`) and passes to `start()`. Only symmetric keys go to the
 * device; each peer derives the same context on demand from its own key and the device's DID.
 * The `didcomm-iot provision` command builds on `deviceConfig`.
 */
import { err } from '../errors.js';
import { defaultCrypto } from '../crypto/default.js';
import type { CryptoBackend } from '../crypto/types.js';
import { encodeCbor } from '../cbor/encode.js';
import { fromHex, toHex } from '../util/bytes.js';
import { isDid } from '../did/document.js';
import { OfflineResolver, type KeyResolver } from '../did/resolver.js';
import { SecretsStore } from '../did/secrets.js';
import type { Jwk } from '../did/keys.js';
import { didKeyBytes } from '../envelope/compact/did-ref.js';
import { derivePairwiseContext, type PairwiseContext } from '../envelope/compact/pairwise.js';

/** Boards with a bundle (boards/espruino/boards.json) and the transports each bundle contains. */
export const ESPRUINO_BOARDS: Readonly<Record<string, readonly EspruinoTransportKind[]>> = {
  'puck-js': ['ble-nus', 'lora-rylr'],
  pico: ['lora-rylr'],
  esp32: ['lora-rylr'],
  generic: ['ble-nus', 'lora-rylr'],
};

export type EspruinoTransportKind = 'lora-rylr' | 'ble-nus';
export type EspruinoPeerRole = 'mediator' | 'controller';

export interface EspruinoPeer {
  role: EspruinoPeerRole;
  did: string;
  /** 'mediator': the device reaches this peer through forward messages to its mediator. */
  via?: 'direct' | 'mediator';
}

/** REYAX RYLR998/896 settings; defaults are the Node side's DEFAULT_LORA_SETTINGS (SF7, BW125, CR4/5, preamble 8, 868.1 MHz). */
export interface RylrTransportConfig {
  kind: 'lora-rylr';
  /** The device's AT+ADDRESS, 1..65535. */
  address: number;
  /** Address its frames go to (the gateway's AT+ADDRESS; 0 = broadcast). */
  gateway: number;
  networkId?: number;
  frequencyHz?: number;
  sf?: number;
  bandwidthHz?: number;
  codingRate?: number;
  preamble?: number;
  powerDbm?: number;
  /** Duty cycle of the sub-band (0.01 for EU868 g/M 868.0–868.6 MHz, 1 for US915). */
  dutyCycle?: number;
  /** AT+CPIN link password: 8 hex digits (RYLR998) or 32 (RYLR896). */
  password?: string;
  /** UART pins, when not the board's default. */
  rx?: string;
  tx?: string;
  /** false: no fragmentation layer (every message must fit one 180-byte frame). */
  fragment?: boolean;
  /** How long the device waits for the modem's answer to an AT command (default 3000 ms). */
  commandTimeoutMs?: number;
}

export interface BleTransportConfig {
  kind: 'ble-nus';
  /** Bytes per notification/write the central negotiated (ATT MTU − 3), default 20. */
  mtu?: number;
  /** Pause between notifications, ms (default 20). */
  gapMs?: number;
  fragment?: boolean;
}

export type EspruinoTransportConfig = RylrTransportConfig | BleTransportConfig;

export interface EspruinoTelemetryConfig {
  /** Report period, ms (0 = only on demand). Default 300000. */
  intervalMs?: number;
  /** Wait for the ack before sending a report again, ms. Default 60000. */
  retryMs?: number;
  /** Sends of one report at most. Default 5. */
  maxTries?: number;
  /** Reports held for acks at most (the oldest is dropped). Default 4. */
  outbox?: number;
}

/** One pairwise context as the device stores it (hex), plus the peer's role and route. */
export interface EspruinoContextConfig {
  role: EspruinoPeerRole;
  via: 'direct' | 'mediator';
  selfDid: string;
  peerDid: string;
  /** The peer's DID as an encoded CBOR compact DID reference (binary did:key): forward `next`. */
  peerRef: string;
  idContext: string;
  senderId: string;
  recipientId: string;
  senderKey: string;
  recipientKey: string;
  commonIv: string;
}

export interface EspruinoDeviceConfig {
  v: 1;
  board: string;
  did: string;
  contexts: EspruinoContextConfig[];
  transport: EspruinoTransportConfig;
  telemetry: Required<EspruinoTelemetryConfig>;
}

export interface DeviceConfigOptions {
  /** The device's secrets file (`createDid()` / `didcomm-iot did new`): its DID and private JWKs. */
  deviceSecrets: { did: string; secrets: Jwk[] };
  board: string;
  peers: EspruinoPeer[];
  transport: EspruinoTransportConfig;
  telemetry?: EspruinoTelemetryConfig;
  /** Resolves the peers' DIDs (default: offline did:key / did:peer:2). */
  resolver?: KeyResolver;
  crypto?: CryptoBackend;
}

function bad(message: string): never {
  throw err('ERR_ARGUMENT', `espruino provisioning: ${message}`);
}

function intIn(v: unknown, lo: number, hi: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) bad(`${what} must be an integer in ${lo}..${hi}`);
  return v;
}

function checkTransport(t: EspruinoTransportConfig, board: string): EspruinoTransportConfig {
  if (!t || typeof t !== 'object') bad('transport is required');
  if (!ESPRUINO_BOARDS[board]!.includes(t.kind)) bad(`transport ${String(t.kind)} is not in the ${board} bundle (${ESPRUINO_BOARDS[board]!.join(', ')})`);
  if (t.fragment !== undefined && typeof t.fragment !== 'boolean') bad('transport.fragment must be a boolean');
  if (t.kind === 'ble-nus') {
    const out: BleTransportConfig = { kind: 'ble-nus', mtu: intIn(t.mtu ?? 20, 20, 244, 'transport.mtu'), gapMs: intIn(t.gapMs ?? 20, 1, 1000, 'transport.gapMs') };
    if (t.fragment !== undefined) out.fragment = t.fragment;
    return out;
  }
  const out: RylrTransportConfig = {
    kind: 'lora-rylr',
    address: intIn(t.address, 1, 65535, 'transport.address'),
    gateway: intIn(t.gateway, 0, 65535, 'transport.gateway'),
    networkId: intIn(t.networkId ?? 18, 0, 18, 'transport.networkId'),
    frequencyHz: intIn(t.frequencyHz ?? 868_100_000, 820_000_000, 1_020_000_000, 'transport.frequencyHz'),
    sf: intIn(t.sf ?? 7, 7, 12, 'transport.sf'),
    bandwidthHz: t.bandwidthHz ?? 125_000,
    codingRate: intIn(t.codingRate ?? 1, 1, 4, 'transport.codingRate'),
    preamble: intIn(t.preamble ?? 8, 4, 24, 'transport.preamble'),
    powerDbm: intIn(t.powerDbm ?? 14, 0, 22, 'transport.powerDbm'),
    dutyCycle: t.dutyCycle ?? 0.01,
  };
  if (![125_000, 250_000, 500_000].includes(out.bandwidthHz!)) bad('transport.bandwidthHz must be 125000, 250000 or 500000');
  if (typeof out.dutyCycle !== 'number' || !(out.dutyCycle > 0 && out.dutyCycle <= 1)) bad('transport.dutyCycle must be in (0, 1]');
  if (out.address === out.gateway) bad('transport.address and transport.gateway must differ');
  if (t.commandTimeoutMs !== undefined) out.commandTimeoutMs = intIn(t.commandTimeoutMs, 100, 600_000, 'transport.commandTimeoutMs');
  if (t.password !== undefined) {
    if (typeof t.password !== 'string' || !/^(?:[0-9A-Fa-f]{8}|[0-9A-Fa-f]{32})$/.test(t.password)) bad('transport.password must be 8 or 32 hex digits');
    out.password = t.password.toUpperCase();
  }
  for (const pin of ['rx', 'tx'] as const) {
    const v = t[pin];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !/^[A-Z][A-Z0-9]{0,5}$/.test(v)) bad(`transport.${pin} must be an Espruino pin name such as D29`);
    out[pin] = v;
  }
  if (t.fragment !== undefined) out.fragment = t.fragment;
  return out;
}

function checkTelemetry(t: EspruinoTelemetryConfig = {}): Required<EspruinoTelemetryConfig> {
  return {
    intervalMs: intIn(t.intervalMs ?? 300_000, 0, 86_400_000, 'telemetry.intervalMs'),
    retryMs: intIn(t.retryMs ?? 60_000, 100, 86_400_000, 'telemetry.retryMs'),
    maxTries: intIn(t.maxTries ?? 5, 1, 100, 'telemetry.maxTries'),
    outbox: intIn(t.outbox ?? 4, 1, 16, 'telemetry.outbox'),
  };
}

/** The peer's DID as the device carries it: the CBOR of its compact reference (binary did:key, else text). */
export function didRefHex(did: string): string {
  return toHex(encodeCbor(didKeyBytes(did) ?? did));
}

/** The JSON config for `start()` / Storage `didcomm.json`. Throws DidcommError on bad input. */
export function deviceConfig(o: DeviceConfigOptions): EspruinoDeviceConfig {
  if (!o || typeof o !== 'object') bad('options are required');
  const crypto = o.crypto ?? defaultCrypto;
  if (typeof o.board !== 'string' || !Object.hasOwn(ESPRUINO_BOARDS, o.board)) bad(`board must be one of ${Object.keys(ESPRUINO_BOARDS).join(', ')}`);
  const transport = checkTransport(o.transport, o.board);
  const telemetry = checkTelemetry(o.telemetry);
  const device = o.deviceSecrets;
  if (!device || typeof device.did !== 'string' || !isDid(device.did) || !Array.isArray(device.secrets)) bad('deviceSecrets must be a secrets file {did, secrets}');
  const secrets = new SecretsStore(crypto);
  secrets.addFromJson(device);
  const resolver = o.resolver ?? new OfflineResolver({ crypto });
  const own = resolver
    .document(device.did)
    .keyAgreement.map((kid) => secrets.get(kid))
    .find((s) => s?.curve === 'X25519');
  if (!own) throw err('ERR_SECRET_NOT_FOUND', `espruino provisioning: no X25519 keyAgreement secret for ${device.did}`);
  if (!Array.isArray(o.peers) || o.peers.length === 0 || o.peers.length > 8) bad('peers must list 1..8 peers');
  const mediators = o.peers.filter((p) => p?.role === 'mediator');
  if (mediators.length > 1) bad('at most one mediator');
  const seen = new Set<string>();
  const contexts = o.peers.map((p, i): EspruinoContextConfig => {
    if (!p || (p.role !== 'mediator' && p.role !== 'controller')) bad(`peers[${i}].role must be mediator or controller`);
    if (typeof p.did !== 'string' || !isDid(p.did)) bad(`peers[${i}].did must be a DID`);
    if (p.did === device.did) bad(`peers[${i}] is the device itself`);
    if (seen.has(p.did)) bad(`peers[${i}]: ${p.did} is listed twice`);
    seen.add(p.did);
    const via = p.via ?? 'direct';
    if (via !== 'direct' && via !== 'mediator') bad(`peers[${i}].via must be direct or mediator`);
    if (via === 'mediator' && (p.role === 'mediator' || mediators.length === 0)) bad(`peers[${i}]: via mediator needs a mediator peer`);
    const peerKey = resolver.keyAgreementKeys(p.did).find((k) => k.curve === 'X25519');
    if (!peerKey) throw err('ERR_UNSUPPORTED', `espruino provisioning: ${p.did} has no X25519 keyAgreement key`);
    const c = derivePairwiseContext(crypto, { did: device.did, privateKey: own.privateKey, publicKey: own.publicKey }, { did: p.did, publicKey: peerKey.bytes });
    return {
      role: p.role,
      via,
      selfDid: c.selfDid,
      peerDid: c.peerDid,
      peerRef: didRefHex(p.did),
      idContext: toHex(c.idContext),
      senderId: toHex(c.senderId),
      recipientId: toHex(c.recipientId),
      senderKey: toHex(c.senderKey),
      recipientKey: toHex(c.recipientKey),
      commonIv: toHex(c.commonIv),
    };
  });
  return { v: 1, board: o.board, did: device.did, contexts, transport, telemetry };
}

/** The device-side PairwiseContext of one provisioned context (for gateways, tests and tools). */
export function contextFromConfig(c: EspruinoContextConfig): PairwiseContext {
  return {
    selfDid: c.selfDid,
    peerDid: c.peerDid,
    idContext: fromHex(c.idContext),
    senderId: fromHex(c.senderId),
    recipientId: fromHex(c.recipientId),
    senderKey: fromHex(c.senderKey),
    recipientKey: fromHex(c.recipientKey),
    commonIv: fromHex(c.commonIv),
  };
}
