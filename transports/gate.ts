/**
 * A Transport wrapper that can take a link down and bring it back (power loss, radio off, out of
 * range): while down, `send` rejects with ERR_TRANSPORT, inbound frames are discarded and the state
 * is 'offline'. For fault injection and the field simulation's offline device.
 */
import { err } from '../src/errors.js';
import { Emitter } from '../src/util/emitter.js';
import type { LinkAddress, Transport, TransportEvents, TransportState } from './types.js';

export class GatedTransport extends Emitter<TransportEvents> implements Transport {
  readonly inner: Transport;
  private down = false;
  private closed = false;

  constructor(inner: Transport) {
    super();
    this.inner = inner;
    inner.on('frame', (f, from) => {
      if (!this.down) this.emit('frame', f, from);
    });
    inner.on('error', (e) => this.emit('error', e));
    inner.on('state', (s) => {
      if (!this.down) this.emit('state', s);
    });
  }

  get kind(): string {
    return this.inner.kind;
  }
  get mtu(): number {
    return this.inner.mtu;
  }
  get address(): LinkAddress | undefined {
    return this.inner.address;
  }
  get state(): TransportState {
    if (this.closed) return 'closed';
    return this.down ? 'offline' : this.inner.state;
  }

  /** Takes the link down (true) or brings it back (false). */
  setDown(down: boolean): void {
    if (this.closed || down === this.down) return;
    this.down = down;
    this.emit('state', down ? 'offline' : this.inner.state);
  }

  get isDown(): boolean {
    return this.down;
  }

  send(frame: Uint8Array, to?: LinkAddress): Promise<void> {
    if (this.closed) return Promise.reject(err('ERR_TRANSPORT', 'link closed'));
    if (this.down) return Promise.reject(err('ERR_TRANSPORT', 'link is down'));
    return this.inner.send(frame, to);
  }

  sendDelay(size: number): number {
    return this.inner.sendDelay(size);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.inner.close();
  }
}
