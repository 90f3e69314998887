/**
 * In-memory BLE link: a central and a peripheral end of a simulated Nordic UART Service
 * connection (`link.ts`), for tests and the field simulation. Writes from the central (ATT Write
 * to RX) are reliable; notifications from the peripheral (TX) may be lost with a configurable
 * probability, decided by a seeded PRNG (`src/util/prng.ts`). Packets keep their order, arrive
 * after `delayMs` on the Clock (a microtask when 0), never inside `write`, and are capped at
 * ATT_MTU - 3 bytes, as on a real link. `disconnect()` / `reconnect()` simulate going out of and
 * back into range (packets in flight across a disconnect are dropped).
 */
import { err } from '../../src/errors.js';
import { abytes } from '../../src/util/bytes.js';
import { systemClock, type Clock } from '../../src/util/clock.js';
import { Emitter } from '../../src/util/emitter.js';
import { createPrng, type Prng } from '../../src/util/prng.js';
import { ATT_HEADER, DEFAULT_ATT_MTU, splitPackets, type BleLink, type BleLinkEvents } from './link.js';

export interface InMemoryBlePairOptions {
  /** ATT MTU: 23 (20 B payload), 53 (50 B), 131 (128 B), 247 (244 B)... Default 23. */
  attMtu?: number;
  clock?: Clock;
  /** Delay of every packet, ms (default 0). */
  delayMs?: number;
  /** Probability that a notification (peripheral -> central) is lost (default 0). */
  notificationLoss?: number;
  seed?: number;
  centralAddress?: string;
  peripheralAddress?: string;
}

function checkAttMtu(attMtu: number): number {
  if (!Number.isInteger(attMtu) || attMtu < DEFAULT_ATT_MTU || attMtu > 517) {
    throw err('ERR_ARGUMENT', 'ble: attMtu must be an integer in 23..517');
  }
  return attMtu;
}

/** Shared state of one simulated connection. */
class BleAir {
  attMtu: number;
  connected = true;
  /** Bumped on each disconnect so packets in flight are dropped. */
  epoch = 0;
  readonly clock: Clock;
  readonly delayMs: number;
  readonly notificationLoss: number;
  readonly prng: Prng;
  readonly ends: InMemoryBleLink[] = [];

  constructor(options: InMemoryBlePairOptions) {
    this.attMtu = checkAttMtu(options.attMtu ?? DEFAULT_ATT_MTU);
    this.clock = options.clock ?? systemClock;
    this.delayMs = options.delayMs ?? 0;
    if (!Number.isFinite(this.delayMs) || this.delayMs < 0) throw err('ERR_ARGUMENT', 'ble: delayMs must be >= 0');
    this.notificationLoss = options.notificationLoss ?? 0;
    if (!(this.notificationLoss >= 0 && this.notificationLoss <= 1)) throw err('ERR_ARGUMENT', 'ble: notificationLoss must be in [0, 1]');
    this.prng = createPrng(options.seed ?? 1);
  }

  setConnected(connected: boolean, reason: string): void {
    if (this.connected === connected) return;
    this.connected = connected;
    if (!connected) this.epoch++;
    for (const end of this.ends) end.linkStateChanged(connected, reason);
  }
}

export class InMemoryBleLink extends Emitter<BleLinkEvents> implements BleLink {
  readonly role: 'central' | 'peripheral';
  readonly localAddress: string;
  private readonly air: BleAir;
  private readonly peerAddressValue: string;
  private closed = false;
  /** Packets sent from this end (notifications lost included). */
  packetsSent = 0;

  constructor(air: BleAir, role: 'central' | 'peripheral', localAddress: string, peerAddress: string) {
    super();
    this.air = air;
    this.role = role;
    this.localAddress = localAddress;
    this.peerAddressValue = peerAddress;
  }

  get attMtu(): number {
    return this.air.attMtu;
  }

  get connected(): boolean {
    return !this.closed && this.air.connected;
  }

  get peerAddress(): string | undefined {
    return this.connected ? this.peerAddressValue : undefined;
  }

  async write(bytes: Uint8Array): Promise<void> {
    abytes(bytes, 'bytes');
    if (!this.connected) throw err('ERR_TRANSPORT', 'ble: not connected');
    const other = this.air.ends.find((e) => e !== this)!;
    const size = this.air.attMtu - ATT_HEADER;
    const epoch = this.air.epoch;
    for (const packet of splitPackets(bytes, size)) {
      this.packetsSent++;
      const lost = this.role === 'peripheral' && this.air.notificationLoss > 0 && this.air.prng.next() < this.air.notificationLoss;
      if (lost) continue;
      const deliver = (): void => {
        if (this.air.epoch === epoch && this.air.connected) other.receive(packet);
      };
      if (this.air.delayMs === 0) queueMicrotask(deliver);
      else this.air.clock.setTimer(this.air.delayMs, deliver);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.air.setConnected(false, 'closed');
    this.closed = true;
    this.removeAllListeners();
  }

  /** @internal */
  receive(packet: Uint8Array): void {
    if (!this.closed) this.emit('data', packet);
  }

  /** @internal */
  linkStateChanged(connected: boolean, reason: string): void {
    if (this.closed) return;
    if (connected) this.emit('connected');
    else this.emit('disconnected', reason);
  }
}

export interface InMemoryBlePair {
  central: InMemoryBleLink;
  peripheral: InMemoryBleLink;
  /** Simulates a link loss (both ends see 'disconnected'). */
  disconnect(reason?: string): void;
  /** Simulates a new connection, optionally negotiating another ATT MTU. */
  reconnect(attMtu?: number): void;
}

/** A connected central/peripheral pair. */
export function createInMemoryBlePair(options: InMemoryBlePairOptions = {}): InMemoryBlePair {
  const air = new BleAir(options);
  const centralAddress = options.centralAddress ?? 'central';
  const peripheralAddress = options.peripheralAddress ?? 'peripheral';
  const central = new InMemoryBleLink(air, 'central', centralAddress, peripheralAddress);
  const peripheral = new InMemoryBleLink(air, 'peripheral', peripheralAddress, centralAddress);
  air.ends.push(central, peripheral);
  return {
    central,
    peripheral,
    disconnect: (reason = 'link loss') => air.setConnected(false, reason),
    reconnect: (attMtu) => {
      if (attMtu !== undefined) air.attMtu = checkAttMtu(attMtu);
      air.setConnected(true, 'connected');
    },
  };
}
