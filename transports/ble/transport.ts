/**
 * BleNusTransport: a frame Transport (transports/types.ts) over a Nordic UART Service link
 * (`link.ts`). One frame = one GATT write (central -> peripheral RX) or one notification
 * (peripheral -> central TX), so `mtu` = ATT_MTU - 3: 20, 50, 128 or 244 bytes depending on the
 * negotiated MTU (read on each access: it can change across reconnections). Larger messages go
 * through the fragmentation layer (`transports/fragment/`) on top.
 *
 * The link is point-to-point: `to` may be omitted or be the peer's address. State follows the
 * link: disconnect -> 'offline' (sends reject ERR_TRANSPORT), reconnect -> 'online'. No duty cycle:
 * `sendDelay` is 0.
 */
import { err, isDidcommError } from '../../src/errors.js';
import { abytes, astring } from '../../src/util/bytes.js';
import { Emitter } from '../../src/util/emitter.js';
import type { LinkAddress, Transport, TransportEvents, TransportState } from '../types.js';
import { ATT_HEADER, type BleLink } from './link.js';

type LinkEvents = { [K in keyof TransportEvents]: TransportEvents[K] };

export interface BleNusTransportOptions {
  /** Close the BLE link when the transport closes (default true). */
  closeLink?: boolean;
}

export class BleNusTransport extends Emitter<LinkEvents> implements Transport {
  readonly kind = 'ble-nus';
  readonly link: BleLink;
  private readonly closeLink: boolean;
  private readonly unsubscribe: Array<() => void>;
  private closed = false;

  constructor(link: BleLink, options: BleNusTransportOptions = {}) {
    super();
    if (!link || typeof link.write !== 'function') throw err('ERR_ARGUMENT', 'ble: link must be a BleLink');
    this.link = link;
    this.closeLink = options.closeLink ?? true;
    this.unsubscribe = [
      link.on('data', (packet) => {
        if (!this.closed) this.emit('frame', packet, link.peerAddress);
      }),
      link.on('connected', () => {
        if (!this.closed) this.emit('state', 'online');
      }),
      link.on('disconnected', () => {
        if (!this.closed) this.emit('state', 'offline');
      }),
      link.on('error', (e) => {
        if (!this.closed) this.emit('error', e);
      }),
    ];
  }

  /** Payload bytes per write / notification: ATT_MTU - 3. */
  get mtu(): number {
    return this.link.attMtu - ATT_HEADER;
  }

  get address(): LinkAddress | undefined {
    return this.link.localAddress;
  }

  get state(): TransportState {
    if (this.closed) return 'closed';
    return this.link.connected ? 'online' : 'offline';
  }

  sendDelay(size: number): number {
    void size;
    return 0;
  }

  async send(frame: Uint8Array, to?: LinkAddress): Promise<void> {
    abytes(frame, 'frame');
    if (to !== undefined) astring(to, 'to');
    if (this.closed) throw err('ERR_TRANSPORT', 'ble: transport is closed');
    if (frame.length > this.mtu) throw err('ERR_TOO_LARGE', `ble: frame of ${frame.length} B exceeds mtu ${this.mtu} (ATT MTU ${this.link.attMtu})`);
    if (!this.link.connected) throw err('ERR_TRANSPORT', 'ble: not connected');
    const peer = this.link.peerAddress;
    if (to !== undefined && peer !== undefined && to !== peer) throw err('ERR_TRANSPORT', `ble: point-to-point link to ${peer}, not ${to}`);
    try {
      await this.link.write(frame);
    } catch (e) {
      if (isDidcommError(e)) throw e;
      throw err('ERR_TRANSPORT', `ble: write failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unsubscribe) off();
    if (this.closeLink) await this.link.close();
    this.emit('state', 'closed');
    this.removeAllListeners();
  }
}
