/**
 * Public types of the agent runtime (DESIGN.md §2 agent/): what an Agent is built from (secrets,
 * offline resolver, KvStore, transports with the peers reachable on them, Clock, crypto backend),
 * per-peer routing configuration, send options, inbound messages and events.
 */
import type { CryptoBackend } from '../crypto/types.js';
import type { KeyResolver } from '../did/resolver.js';
import type { SecretsResolver } from '../did/secrets.js';
import type { SecretsFile } from '../did/create.js';
import type { DidcommError } from '../errors.js';
import type { Message } from '../message/message.js';
import type { UnpackMeta, WireFormat } from '../envelope/index.js';
import type { KvStore } from '../store/kv.js';
import type { Clock } from '../util/clock.js';
import type { JsonValue } from '../util/json.js';
import type { LinkAddress, Transport, TransportState } from '../../transports/types.js';
import type { Reading } from '../protocols/telemetry.js';

/** How a sensor protects telemetry: a signature alone (default), a signature inside encryption, or encryption only. */
export type TelemetrySigning = 'signed' | 'signed-encrypted' | 'encrypted';

/** Envelope mode for ordinary messages to a peer. */
export type PeerMode = 'authcrypt' | 'anoncrypt' | 'pairwise';

export interface LinkConfig {
  transport: Transport;
  /** Name used in events and stats (default `<kind>-<index>`). */
  name?: string;
  /** DIDs (or endpoint URIs) reachable on this link → their link address (null: no address, broadcast). */
  peers?: Record<string, LinkAddress | null>;
  /** A constrained link (small MTU / airtime budget): compact format by default. Default mtu < 1024. */
  constrained?: boolean;
  /**
   * A shared medium where frames for others are heard (broadcast radios): frames we cannot open
   * are not answered, messages addressed to others are ignored. Default: the transport has no
   * address of its own (RN2483, RAK3172, Ebyte modems).
   */
  shared?: boolean;
  /** A persistent connection (WebSocket, BLE connection): pickup live mode is possible. */
  persistent?: boolean;
  /** How long to wait for an ack after a transmission on this link (default 30 s). */
  ackTimeoutMs?: number;
}

export interface PeerConfig {
  did: string;
  /** Force a wire format (otherwise learnt from discover-features, the DID document, or the link). */
  format?: WireFormat;
  /** Envelope mode (default authcrypt; pairwise for provisioned symmetric peers, implies compact). */
  mode?: PeerMode;
  /** Telemetry protection towards this peer (default: the agent's `telemetry.signing`). */
  telemetry?: TelemetrySigning;
  /** Reach this peer through this mediator (forward wrapping) when it has no direct link. */
  mediator?: string;
  /** The peer was provisioned with our DID: short compact hints from the first message on. */
  knowsUs?: boolean;
}

export type OverflowPolicy = 'reject-new' | 'drop-oldest' | 'priority';

export interface BackoffOptions {
  /** First retry delay (default 2000 ms). */
  baseMs?: number;
  /** Growth factor per attempt (default 2). */
  factor?: number;
  /** Largest delay (default 10 min). */
  maxMs?: number;
  /** Relative jitter in [0, 1]: the delay is scaled by a uniform factor in [1 - j, 1 + j] (default 0.2). */
  jitter?: number;
}

export interface OutboxOptions {
  /** Entries kept at most (default 1000). */
  maxEntries?: number;
  /** Bytes of stored records at most (default 1 MiB). */
  maxBytes?: number;
  /** What happens when full (default 'drop-oldest'). */
  overflow?: OverflowPolicy;
  /** Lifetime of an entry without `expires_time` (default 7 days). */
  ttlMs?: number;
  backoff?: BackoffOptions;
  /** Entries being transmitted at once (default 4). */
  concurrency?: number;
  /** Give up after this many transmissions (default: until expiry). */
  maxAttempts?: number;
}

export interface DedupeOptions {
  /** How long received message ids are remembered; older messages are refused (default 7 days). */
  windowMs?: number;
  /** Ids remembered at most; the oldest are evicted and raise the "too old" floor (default 10,000). */
  maxEntries?: number;
}

export interface TelemetryOptions {
  /** Default collector for `report()`. */
  to?: string;
  /** Default protection (default 'signed'). */
  signing?: TelemetrySigning;
  /** Batch readings into one `batch` message: flush at `maxReadings` or when the oldest is `maxDelayMs` old. */
  batch?: { maxReadings: number; maxDelayMs: number };
}

export interface AgentOptions {
  /** Our keys: a secrets file (`did new` shape) or a SecretsResolver with `did`. */
  secrets: SecretsFile | SecretsResolver;
  /** Our DID (default: the secrets file's `did`). */
  did?: string;
  resolver: KeyResolver;
  store: KvStore;
  links: LinkConfig[];
  clock?: Clock;
  crypto?: CryptoBackend;
  peers?: PeerConfig[];
  /** Our mediator: everything without a direct link goes through it, and `sync()` picks up from it. */
  mediator?: string;
  outbox?: OutboxOptions;
  /**
   * After our own mediator's receipt says a forwarded message is stored, wait this long for the
   * peer's ack before sending it again (default 1 h): the mediator holds and delivers it, so
   * resending on the air only spends airtime. Only the peer's ack completes the message.
   */
  heldAtMediatorMs?: number;
  dedupe?: DedupeOptions;
  telemetry?: TelemetryOptions;
  /** Command authorization: controller DID → rights ('*' = all). */
  controllers?: Record<string, string[]>;
  /** Formats we accept, disclosed through discover-features (default both). */
  accept?: WireFormat[];
  /** Largest message we accept (default 65536), disclosed as `max_receive_bytes`. */
  maxReceiveBytes?: number;
  /** Compact hint length for known DIDs (default 2). */
  hintLength?: number;
  /** Accepted clock skew for `created_time` in the future (default 300 s). */
  clockSkewSeconds?: number;
  /** Lifetime of command requests we send (default 5 min). */
  commandTtlMs?: number;
  /** Minimum interval between problem reports answering unauthenticated frames, per claimed sender (default 10 s). */
  unauthenticatedReportIntervalMs?: number;
  /** Uniform random numbers in [0, 1) for backoff jitter (default Math.random; tests pass a seeded PRNG). */
  random?: () => number;
}

/** When an outgoing message counts as done: an `ack` / threaded reply, or the link accepting it. */
export type DeliveryPolicy = 'ack' | 'transport';

export interface SendOptions {
  /** Default 'ack' (adds `please_ack`) for messages without `thid`, 'transport' for replies. */
  delivery?: DeliveryPolicy;
  /** Ask for an explicit ack with `please_ack` (default: delivery === 'ack' and no reply is expected). */
  pleaseAck?: boolean;
  /** Eviction priority under the 'priority' overflow policy (higher is kept longer; default 0). */
  priority?: number;
  /** Lifetime; sets `expires_time` (default: the outbox ttl, not written into the message). */
  ttlMs?: number;
  /** Telemetry protection for this message. */
  telemetry?: TelemetrySigning;
}

/** A message handed to the application or a protocol handler. */
export interface InboundMessage {
  message: Message;
  meta: UnpackMeta;
  /** The authenticated sender DID (undefined for anonymous or unauthenticated messages). */
  sender: string | undefined;
  /** Link name it arrived on ('pickup' when fetched from the mediator). */
  via: string;
  /** True when a previous run crashed while handling this very message. */
  redelivered: boolean;
}

/** What a handler may answer: a reply threaded to the request (id, from, to, thid are filled in). */
export type ReplyDraft = Pick<Message, 'type'> & Partial<Omit<Message, 'type'>>;

export type MessageHandler = (inbound: InboundMessage) => Promise<ReplyDraft | void> | ReplyDraft | void;

export type CommandHandler = (request: { command: string; target?: string; args?: JsonValue; from: string; message: Message }) => Promise<JsonValue | void> | JsonValue | void;

export interface TelemetryEvent {
  from: string | undefined;
  readings: Reading[];
  message: Message;
  signed: boolean;
}

export type DropReason = 'overflow' | 'expired' | 'rejected' | 'failed' | 'max-attempts';

export interface ProblemEvent {
  /** Problem code (e.g. e.p.trust). */
  code: string;
  /** 'received': a peer reported it; 'sent': we refused a message; 'local': we could not even answer. */
  direction: 'received' | 'sent' | 'local';
  peer: string | undefined;
  /** The thread that had the problem. */
  pthid: string | undefined;
  comment?: string;
  error?: DidcommError;
}

export type AgentStatus = 'stopped' | 'running' | 'syncing';

export type AgentEvents = {
  /** An application message (after dedupe, expiry and authorization checks). */
  message: (inbound: InboundMessage) => void;
  /** Telemetry readings received (each reading exactly once). */
  telemetry: (e: TelemetryEvent) => void;
  /** An outbox entry is durably stored (before any transmission). */
  queued: (e: { id: string; peer: string }) => void;
  /** An outgoing message was acknowledged (or accepted by the link for delivery 'transport'). */
  delivered: (e: { id: string; peer: string; attempts: number }) => void;
  problem: (e: ProblemEvent) => void;
  /** An outgoing message left the outbox without being delivered. Never silent. */
  dropped: (e: { id: string; peer: string; reason: DropReason; error?: DidcommError }) => void;
  state: (status: AgentStatus, link?: { name: string; state: TransportState }) => void;
  /** Non-fatal internal error (store failure in a background task...). */
  error: (error: DidcommError) => void;
};
