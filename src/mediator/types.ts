/**
 * Shared types of the mediator (DESIGN §6): the session an inbound frame arrived on (HTTP request,
 * WebSocket connection, MQTT inbox, radio link), what the core answers, the stores it runs on, and
 * its policies. Listeners and radio gateways adapt their transport to `Session`; the core never
 * sees a transport.
 */
import type { DidcommError } from '../errors.js';
import type { MailboxLimits, MailboxStore } from '../store/mailbox.js';
import type { MediationStore } from '../store/mediation.js';
import type { KvStore } from '../store/kv.js';

export type SessionKind = 'http' | 'ws' | 'mqtt' | 'radio' | 'memory';

/**
 * One channel to a peer. HTTP: one request (at most one reply, in the response). WebSocket, MQTT,
 * radio: a link the mediator can push to later (`push`), which is what live mode needs.
 */
export interface Session {
  /** Unique while the session lives, e.g. `ws:c3`, `mqtt:<inbox>`, `radio:lora:7`. */
  readonly id: string;
  readonly kind: SessionKind;
  /** Peer's link address (IP:port, connection id, inbox id, radio address): rate-limit key before authentication. */
  readonly remote: string;
  /** Can carry live delivery and later pushes (pickup 3.0 §Live Mode: persistent transports only). */
  readonly persistent: boolean;
  /**
   * Replies may flow back on this session without `return_route` (MQTT inboxes and radio links are
   * the peer's own endpoint). HTTP and WebSocket need `return_route` (extensions/return_route).
   */
  readonly duplex: boolean;
  /** Largest frame the session can carry back (HTTP response, ws message, fragmented radio message). */
  readonly maxFrameBytes: number;
  /** `return_route` seen on this session (WebSocket: "set once per established websocket"). */
  returnRoute: 'none' | 'all' | 'thread';
  /** Sends one frame to the peer later (persistent sessions). Rejects with a DidcommError. */
  push?(frame: Uint8Array): Promise<void>;
  /** Told once a frame on this session authenticated `did` (radio gateways map link address ↔ DID). */
  onAuthenticated?(did: string, via: ReplyMode): void;
  /**
   * Sessions that deliver mail themselves (radio gateways: only while the device is awake and the
   * airtime budget allows) take live mode here instead of the core's LiveDelivery.
   */
  setLive?(on: boolean): void;
  isLive?(): boolean;
  /** False once the connection is gone (live deliveries stop). */
  isOpen(): boolean;
}

/** How a reply is packed: mirrors the request (docs/mediator.md §Formats). */
export interface ReplyMode {
  format: 'json' | 'compact';
  mode: 'authcrypt' | 'pairwise';
}

export interface InboundOutcome {
  /** Frames to send back on the session, in order (HTTP: at most one). */
  replies: Uint8Array[];
  /** Media type of `replies` (DIDComm JSON or compact). */
  mediaType: string | undefined;
  /**
   * The refusal when no in-band problem report could be sent (anonymous sender, no return
   * route): listeners turn it into a transport status (HTTP 403/413/429/503, ...).
   */
  error: DidcommError | undefined;
  /** The authenticated sender DID, when the envelope authenticated one. */
  senderDid: string | undefined;
  /** A forward was stored durably (listeners ack only after this: HTTP 202, MQTT PUBACK). */
  stored: boolean;
}

export interface MediatorStores {
  mailbox: MailboxStore;
  mediation: MediationStore;
  /** Persistent state of pairwise contexts (replay windows, sequence reservations). */
  kv: KvStore;
  close(): Promise<void>;
}

export type GrantPolicy = { kind: 'open' } | { kind: 'allowlist'; dids: readonly string[] };

/** What to do with a forward whose `next` nobody registered. */
export type UnknownRecipientPolicy = 'refuse' | 'accept-and-hold';

export interface RateLimit {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size (largest burst). */
  burst: number;
}

export interface MediatorPolicy {
  grant: GrantPolicy;
  unknownRecipient: UnknownRecipientPolicy;
  /** Largest envelope accepted (bytes); disclosed as the `max_receive_bytes` constraint. */
  maxReceiveBytes: number;
  /** Per-mailbox quota. */
  mailbox: Required<MailboxLimits>;
  /** Held mail (accept-and-hold) per unknown `next`: quota and time to live. */
  hold: Required<MailboxLimits> & { ttlMs: number };
  /** Longest a message waits in a mailbox when its forward has no earlier `expires_time`. */
  messageTtlMs: number;
  /** Cap on `delay_milli` (and on the random delay a negative one asks for). */
  maxDelayMs: number;
  /** Per authenticated sender DID. */
  senderRate: RateLimit;
  /** Per link address before authentication (anonymous forwards). */
  remoteRate: RateLimit;
  /** Re-wrap forwarded payloads in a new anoncrypted forward to the recipient (routing 2.0 §Mediator). */
  rewrap: boolean;
  /** Largest delivery batch (bytes of attachments) per delivery message. */
  maxDeliveryBytes: number;
  /** Short key hints in compact replies (bytes, 0 = full DIDs). */
  compactHintLength: number;
  /** How long a registered recipient lookup is reused (ms; 0 = ask the store every time). */
  recipientCacheMs: number;
}

export const DEFAULT_POLICY: MediatorPolicy = {
  grant: { kind: 'open' },
  unknownRecipient: 'refuse',
  maxReceiveBytes: 256 * 1024,
  mailbox: { maxMessages: 10_000, maxBytes: 64 * 1024 * 1024 },
  hold: { maxMessages: 100, maxBytes: 1024 * 1024, ttlMs: 60 * 60 * 1000 },
  messageTtlMs: 7 * 24 * 60 * 60 * 1000,
  maxDelayMs: 5000,
  senderRate: { perSecond: 200, burst: 2000 },
  remoteRate: { perSecond: 2000, burst: 20_000 },
  rewrap: false,
  maxDeliveryBytes: 1024 * 1024,
  compactHintLength: 4,
  recipientCacheMs: 2000,
};
