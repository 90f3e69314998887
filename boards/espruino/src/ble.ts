/**
 * Nordic UART Service on an nRF52 Espruino (Puck.js, Pixl.js, MDBT42Q; embedded.md §2.1),
 * implemented as our own GATT service with the NUS UUIDs (`NRF.setServices(..., {uart:false})`)
 * instead of Espruino's built-in UART: that takes the JS console off NUS, and gives exact
 * framing — one write to RX (6e400002) is one inbound frame, one notification on TX (6e400003)
 * one outbound frame — which is what the Node side's BleNusTransport expects
 * (transports/ble/transport.ts); the built-in NUS is a byte stream that may merge writes.
 * Notifications are paced (`gapMs`) and retried while the stack is busy.
 */
import type { Link } from './fragment.js';

export const NUS = '6e400001-b5a3-f393-e0a9-e50e24dcca9e';
const RX = '6e400002-b5a3-f393-e0a9-e50e24dcca9e';
const TX = '6e400003-b5a3-f393-e0a9-e50e24dcca9e';

export interface Nrf {
  setServices(services: unknown, options?: { uart?: boolean; advertise?: string[] }): void;
  updateServices(services: unknown): void;
  on(event: 'connect' | 'disconnect', listener: (arg?: unknown) => void): void;
}

/** [frame, done, tries] */
type Out = [Uint8Array, (ok: boolean) => void, number];

function service(char: string, value: unknown): Record<string, unknown> {
  const c: Record<string, unknown> = {};
  c[char] = value;
  const s: Record<string, unknown> = {};
  s[NUS] = c;
  return s;
}

export class BleNusLink implements Link {
  mtu: number;
  onFrame: ((frame: Uint8Array, from: string | undefined) => void) | null = null;
  _nrf: Nrf;
  _gap: number;
  _queue: Out[] = [];
  _busy = false;
  _peer: string | undefined;

  constructor(nrf: Nrf, mtu: number, gapMs: number) {
    this._nrf = nrf;
    this.mtu = mtu;
    this._gap = gapMs;
    const s = service(RX, {
      writable: true,
      maxLen: mtu,
      value: new Uint8Array(0),
      onWrite: (evt: { data: ArrayBuffer }) => {
        if (this.onFrame) this.onFrame(new Uint8Array(evt.data), this._peer);
      },
    });
    (s[NUS] as Record<string, unknown>)[TX] = { notify: true, readable: true, maxLen: mtu, value: new Uint8Array(0) };
    nrf.setServices(s, { uart: false, advertise: [NUS] });
    nrf.on('connect', (addr) => {
      this._peer = typeof addr === 'string' ? addr : 'central';
    });
    nrf.on('disconnect', () => {
      this._peer = undefined;
      const q = this._queue;
      this._queue = [];
      for (let i = 0; i < q.length; i++) q[i][1](false);
    });
  }

  send(frame: Uint8Array, _to: string | undefined, done: (ok: boolean) => void, urgent?: boolean): void {
    if (!this._peer || frame.length > this.mtu || this._queue.length > 31) return done(false);
    this._queue.splice(urgent ? 0 : this._queue.length, 0, [frame, done, 0]);
    this._pump();
  }

  _pump(): void {
    const o = this._queue[0];
    if (this._busy || !o) return;
    let ok = true;
    try {
      this._nrf.updateServices(service(TX, { value: o[0], notify: true }));
    } catch (e) {
      ok = false;
    }
    if (ok || ++o[2] > 5) {
      this._queue.shift();
      o[1](ok);
    }
    this._busy = true;
    setTimeout(() => {
      this._busy = false;
      this._pump();
    }, ok ? this._gap : 5 * this._gap);
  }
}
