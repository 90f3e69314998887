/**
 * The one link-layer interface. A `Transport` moves opaque frames of at most `mtu` bytes between
 * link addresses; it knows nothing about DIDComm (transports never import envelope code).
 *
 * Frame-level drivers (LoRa modems, BLE) have small MTUs; the fragmentation layer
 * (`transports/fragment/`) wraps one of them into a Transport with a large MTU. Message-level
 * links (MQTT, HTTP, WebSocket) have large MTUs directly. The agent and the mediator only see
 * this interface. Every implementation passes `test/transports/contract.ts`.
 */
import type { DidcommError } from '../src/errors.js';

/** A link address: modem address, BLE peripheral id, MQTT inbox id, URL... Opaque to callers. */
export type LinkAddress = string;

export type TransportState = 'online' | 'offline' | 'closed';

export type TransportEvents = {
  /** One inbound frame, with the sender's link address when the link knows it. */
  frame: (frame: Uint8Array, from: LinkAddress | undefined) => void;
  /** A non-fatal problem (bad frame from the air, modem error line...). Always a DidcommError. */
  error: (error: DidcommError) => void;
  /** Link came up or went down. Offline is a normal state, not an error. */
  state: (state: TransportState) => void;
};

export interface Transport {
  /** Short name of the implementation, e.g. `lora-rylr`, `ble-nus`, `mqtt`, `fragment`. */
  readonly kind: string;
  /** Largest frame `send` accepts, in bytes. */
  readonly mtu: number;
  /** This end's own link address, when the link has one. */
  readonly address: LinkAddress | undefined;
  readonly state: TransportState;
  /**
   * Sends one frame. Resolves when the link has accepted it (modem `+OK`, broker PUBACK, HTTP 202).
   * Rejects with a DidcommError: ERR_TOO_LARGE (frame > mtu), ERR_DUTY_CYCLE (with
   * `retryAfterMs`), ERR_TRANSPORT (offline, modem/broker failure), ERR_TIMEOUT.
   */
  send(frame: Uint8Array, to?: LinkAddress): Promise<void>;
  on<K extends keyof TransportEvents>(event: K, listener: TransportEvents[K]): () => void;
  /**
   * For duty-cycled links: milliseconds until a frame of `size` bytes may be sent (0 = now).
   * Links without a budget return 0.
   */
  sendDelay(size: number): number;
  /** Releases the link. Idempotent. Pending sends reject with ERR_TRANSPORT. */
  close(): Promise<void>;
}
