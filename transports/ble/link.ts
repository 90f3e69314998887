/**
 * The BLE link abstraction under `BleNusTransport`: a connected pair of GATT ends speaking the
 * Nordic UART Service (NUS). The central writes to the RX characteristic (6e400002-...), the
 * peripheral notifies on the TX characteristic (6e400003-...), both in the NUS service
 * 6e400001-b5a3-f393-e0a9-e50e24dcca9e. A write or notification carries at most ATT_MTU - 3
 * bytes (Bluetooth Core 5.x Vol 3 Part F §3.4.5.3 / §3.4.7.1): 20 B at the default ATT MTU of 23,
 * 50 B on Puck.js (53), 128 B on Bangle.js 2 (131), 244 B with Data Length Extension (247).
 *
 * Implementations: `NobleBleLink` (Node central, @stoprocent/noble, loaded lazily) and
 * `InMemoryBleLink` (tests and simulation). Keeping this interface small keeps the noble
 * adapter thin and lets everything above it be tested without a radio.
 */
import type { DidcommError } from '../../src/errors.js';

export const NUS_SERVICE_UUID = '6e400001-b5a3-f393-e0a9-e50e24dcca9e';
export const NUS_RX_UUID = '6e400002-b5a3-f393-e0a9-e50e24dcca9e';
export const NUS_TX_UUID = '6e400003-b5a3-f393-e0a9-e50e24dcca9e';
/** ATT MTU before any exchange (Bluetooth Core Vol 3 Part G §5.2.1). */
export const DEFAULT_ATT_MTU = 23;
/** Bytes of ATT header in a Write Command / Handle Value Notification. */
export const ATT_HEADER = 3;

/** Lower-case hex without dashes, the form noble uses for UUIDs. */
export function compactUuid(uuid: string): string {
  return uuid.replace(/-/g, '').toLowerCase();
}

/** Splits `bytes` into packets of at most `size` bytes (copies; an empty write is one empty packet). */
export function splitPackets(bytes: Uint8Array, size: number): Uint8Array[] {
  if (bytes.length === 0) return [new Uint8Array(0)];
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.slice(at, at + size));
  return out;
}

export type BleLinkEvents = {
  /** One GATT write (peripheral side) or notification (central side). */
  data: (packet: Uint8Array) => void;
  connected: () => void;
  disconnected: (reason: string) => void;
  /** A non-fatal problem (e.g. a reconnection attempt failed). */
  error: (error: DidcommError) => void;
};

export interface BleLink {
  readonly role: 'central' | 'peripheral';
  /** The negotiated ATT MTU; payload per packet is attMtu - 3. */
  readonly attMtu: number;
  readonly connected: boolean;
  /** This end's address, when known. */
  readonly localAddress: string | undefined;
  /** The other end's address or id, when connected. */
  readonly peerAddress: string | undefined;
  /**
   * Sends `bytes` in packets of at most attMtu - 3 bytes, in order; each packet arrives as one
   * 'data' event on the other end. Rejects ERR_TRANSPORT when not connected or on a GATT error.
   */
  write(bytes: Uint8Array): Promise<void>;
  on<K extends keyof BleLinkEvents>(event: K, listener: BleLinkEvents[K]): () => void;
  /** Disconnects and releases the link. Idempotent. */
  close(): Promise<void>;
}
