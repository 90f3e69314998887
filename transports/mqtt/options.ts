/**
 * Options, events and small helpers of MqttTransport (mqtt-transport.ts): the option set, the
 * mqtt.js client options built from it (MQTT v5 §3.1.2.11 CONNECT properties: session expiry,
 * maximum packet size), and the mapping of v5 PUBACK reason codes (§3.4.2.1) to our error codes.
 */
import type { IClientOptions } from 'mqtt';
import { type DidcommError, type ErrorCode, err } from '../../src/errors.js';
import type { Clock } from '../../src/util/clock.js';
import type { LinkAddress, TransportEvents } from '../types.js';
import type { BackoffPolicy } from './backoff.js';
import type { QueueLimits } from './send-queue.js';
import type { HashFunction } from './topics.js';

export const DEFAULT_MQTT_MTU = 256 * 1024;
/** Room for the fixed header, topic and v5 properties on top of the payload. */
export const PACKET_OVERHEAD = 8 * 1024;

export interface MqttTransportOptions {
  /** Broker URL: mqtt://, mqtts://, ws://, wss://. */
  url: string;
  /** This end's DID; its inbox id is derived with `inboxIdForDid` (hashed unless `clearDid`). */
  did?: string;
  /** This end's inbox id, when already known (takes precedence over `did`). */
  inboxId?: string;
  clearDid?: boolean;
  hash?: HashFunction;
  /** Topic prefix, default `didcomm/v1`. Tests use a unique prefix per run. */
  topicPrefix?: string;
  /** Subscribe through `$share/<group>/...` (MQTT v5 only): instances of one mediator split the work. */
  shareGroup?: string;
  /** Inbox id used when `send` is called without `to` (e.g. a device's mediator). */
  defaultTo?: LinkAddress;
  /** 5 (default) or 4 (= MQTT 3.1.1). */
  protocolVersion?: 4 | 5;
  /** With v5: if the broker refuses v5 ("unacceptable/unsupported protocol version"), use 3.1.1. */
  fallbackToV311?: boolean;
  /** Default v5 content type of sent frames; `'auto'` sniffs the DIDComm media type per frame. */
  contentType?: string;
  /** Default v5 message expiry, seconds. */
  messageExpiryInterval?: number;
  /** Clean session / clean start. Default true; false keeps the broker session (offline queueing). */
  clean?: boolean;
  /** v5 session expiry, seconds (default 0 when clean, 1 day otherwise). */
  sessionExpiryInterval?: number;
  clientId?: string;
  username?: string;
  password?: Uint8Array | string;
  keepaliveSeconds?: number;
  /** CONNACK wait per attempt (mqtt.js timer), default 10 s. */
  connectTimeoutMs?: number;
  /** Largest payload (the link mtu), default 256 KiB. */
  maxMessageSize?: number;
  /** Bound of frames held until PUBACK (offline + in flight). Default 100 frames / 1 MiB. */
  offlineBuffer?: Partial<QueueLimits>;
  /** Most PUBLISHes awaiting PUBACK at once, default 16 (lowered to the broker's receiveMaximum). */
  maxInflight?: number;
  reconnect?: Partial<BackoffPolicy>;
  clock?: Clock;
  random?: () => number;
}

export interface MqttSendOptions {
  /** v5 content type for this frame (overrides the default; `'auto'` sniffs). */
  contentType?: string;
  /** v5 message expiry for this frame, seconds. */
  messageExpiryInterval?: number;
}

/** What arrived with an inbound frame. */
export interface MqttMessageInfo {
  topic: string;
  /** Sender's inbox id, from the v5 response topic (untrusted: trust comes from DIDComm). */
  from: LinkAddress | undefined;
  contentType: string | undefined;
  messageExpiryInterval: number | undefined;
}

export type MqttTransportEvents = { [K in keyof TransportEvents]: TransportEvents[K] } & {
  /** Every inbound frame with its MQTT metadata (emitted before 'frame'). */
  message: (frame: Uint8Array, info: MqttMessageInfo) => void;
};

export interface PendingSend {
  readonly size: number;
  readonly frame: Uint8Array;
  readonly topic: string;
  readonly contentType: string | undefined;
  readonly expiresAt: number | undefined;
  resolve: () => void;
  reject: (e: DidcommError) => void;
  generation: number;
}

/** v5 reason codes (§3.4.2.1 PUBACK) to our error codes; anything else is ERR_TRANSPORT. */
export const REASON_CODES: Readonly<Record<number, ErrorCode>> = {
  0x87: 'ERR_NOT_AUTHORIZED', 0x90: 'ERR_ARGUMENT', 0x95: 'ERR_TOO_LARGE', 0x97: 'ERR_RATE_LIMITED',
};
export const UNSUPPORTED_PROTOCOL = new Set([1, 0x84]);

export function reasonCodeOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function positiveInt(value: number | undefined, fallback: number, label: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v <= 0) throw err('ERR_ARGUMENT', `${label}: expected a positive integer`);
  return v;
}

/** mqtt.js options for one connection attempt (auto-reconnect and resubscribe off: we do both). */
export function mqttClientOptions(options: MqttTransportOptions, version: 4 | 5, clientId: string, mtu: number): IClientOptions {
  const clean = options.clean ?? true;
  const v5 = version === 5;
  const opts: IClientOptions = {
    protocolVersion: version,
    clientId,
    clean,
    keepalive: options.keepaliveSeconds ?? 30,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    reconnectPeriod: 0,
    resubscribe: false,
    username: options.username,
    password: typeof options.password === 'string' || options.password === undefined
      ? options.password : Buffer.from(options.password),
  };
  if (v5) {
    opts.properties = {
      sessionExpiryInterval: options.sessionExpiryInterval ?? (clean ? 0 : 86_400),
      maximumPacketSize: mtu + PACKET_OVERHEAD,
    };
  }
  return opts;
}
