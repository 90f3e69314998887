/**
 * REYAX RYLR998 / RYLR896 LoRa modem on an Espruino UART (embedded.md §3.1; Node driver
 * transports/lora/rylr.ts). Configures AT+ADDRESS / NETWORKID / BAND / PARAMETER / CRFOP / CPIN,
 * sends frames as `AT+SEND=addr,len,<base64url>` (ASCII only: 180 bytes = 240 characters) and
 * parses `+RCV=addr,len,data,rssi,snr` by its length field (data may hold commas). One command
 * at a time with a timeout; `+ERR=17` (previous frame still on the air) is retried. The duty
 * cycle is kept on the device too: after a frame of airtime T (Semtech AN1200.13, counting the
 * module's 8 header bytes) the next one waits until T / dutyCycle after it started. Control
 * frames (fragment ACKs) jump the queue; the queue is bounded (the oldest data frame fails).
 */
import { fail } from './bytes.js';
import type { Link } from './fragment.js';

export interface RylrConfig {
  address: number;
  /** Link address frames go to by default (the gateway's AT+ADDRESS; 0 = broadcast). */
  gateway: number;
  networkId: number;
  frequencyHz: number;
  sf: number;
  bandwidthHz: number;
  codingRate: number;
  preamble: number;
  powerDbm: number;
  dutyCycle: number;
  /** Wait for the modem's answer to an AT command (ms). */
  commandTimeoutMs: number;
  password?: string;
}

export interface Uart {
  setup(baud: number, options?: { rx?: unknown; tx?: unknown }): void;
  write(data: string): void;
  on(event: 'data', listener: (data: string) => void): void;
}

/** [AT command, done, bytes on air (0 = not AT+SEND), tries]. */
type Pending = [string, (ok: boolean) => void, number, number];

/** Time on air in ms (explicit header, CRC on, low-data-rate optimisation when Tsym > 16 ms). */
export function airtimeMs(bytes: number, c: RylrConfig): number {
  const tsym = (Math.pow(2, c.sf) / c.bandwidthHz) * 1000;
  const de = tsym > 16 ? 2 : 0;
  return (c.preamble + 12.25 + Math.max(Math.ceil((8 * bytes - 4 * c.sf + 44) / (4 * (c.sf - de))) * (c.codingRate + 4), 0)) * tsym;
}

/** Unpadded base64url of bytes (btoa takes an 8-bit string; E.toString is undefined when no flat string fits). */
export function toBase64url(b: Uint8Array): string {
  let out = '';
  const s = btoa(E.toString(b) || String.fromCharCode.apply(null, b as unknown as number[]));
  for (let i = 0; i < s.length; i++) {
    const ch = s.charAt(i);
    if (ch !== '=') out += ch === '+' ? '-' : ch === '/' ? '_' : ch;
  }
  return out;
}

/** base64url → bytes (garbage from the air is caught later by the fragment CRC and the AEAD). */
export function fromBase64url(s: string): Uint8Array {
  let std = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s.charAt(i);
    if ('+/='.indexOf(ch) >= 0) fail('b64');
    std += ch === '-' ? '+' : ch === '_' ? '/' : ch;
  }
  while (std.length % 4) std += '=';
  return E.toUint8Array(atob(std));
}

export class RylrLink implements Link {
  mtu = 180;
  onFrame: ((frame: Uint8Array, from: string | undefined) => void) | null = null;
  /** Lines or frames that did not parse (counted, never thrown). */
  bad = 0;
  _uart: Uart;
  _cfg: RylrConfig;
  _now: () => number;
  _queue: Pending[] = [];
  _busy: Pending | null = null;
  _timer: number | null = null;
  _buf = '';
  _nextTx = 0;

  constructor(uart: Uart, cfg: RylrConfig, now: () => number, pins?: { rx?: unknown; tx?: unknown }) {
    this._uart = uart;
    this._cfg = cfg;
    this._now = now;
    uart.setup(115200, pins);
    uart.on('data', (d) => this._data(d));
    const setup = ['', '+ADDRESS=' + cfg.address, '+NETWORKID=' + cfg.networkId, '+BAND=' + cfg.frequencyHz, '+PARAMETER=' + cfg.sf + ',' + (cfg.bandwidthHz > 250000 ? 9 : cfg.bandwidthHz > 125000 ? 8 : 7) + ',' + cfg.codingRate + ',' + cfg.preamble, '+CRFOP=' + cfg.powerDbm];
    if (cfg.password) setup.push('+CPIN=' + cfg.password.toUpperCase());
    for (let i = 0; i < setup.length; i++) this._queue.push(['AT' + setup[i], () => {}, 0, 0]);
    this._pump();
  }

  send(frame: Uint8Array, to: string | undefined, done: (ok: boolean) => void, urgent?: boolean): void {
    if (frame.length > 180 || !frame.length) return done(false);
    const data = toBase64url(frame);
    const p: Pending = ['AT+SEND=' + (to === undefined ? this._cfg.gateway : to) + ',' + data.length + ',' + data, done, 8 + data.length, 0];
    const q = this._queue;
    let at = q.length;
    // Urgent frames go after the setup commands, ahead of every data frame.
    if (urgent) for (at = 0; at < q.length && !q[at][2]; ) at++;
    q.splice(at, 0, p);
    let sends = 0;
    for (let i = 0; i < q.length; i++) if (q[i][2]) sends++;
    for (let i = 0; i < q.length && sends > 8; i++) if (q[i][2] && q[i] !== p) q.splice(i, 1)[0][1](false), sends--;
    this._pump();
  }

  _pump(): void {
    if (this._busy || this._timer !== null || !this._queue.length) return;
    const p = this._queue[0];
    const wait = p[2] ? this._nextTx - this._now() : 0;
    if (wait > 0) {
      this._timer = setTimeout(() => {
        this._timer = null;
        this._pump();
      }, wait);
      return;
    }
    this._busy = this._queue.shift() as Pending;
    this._uart.write(p[0] + '\r\n');
    this._timer = setTimeout(() => this._finish(false), this._cfg.commandTimeoutMs);
  }

  _finish(ok: boolean, retry?: boolean): void {
    const p = this._busy;
    if (!p) return;
    this._busy = null;
    if (this._timer !== null) clearTimeout(this._timer);
    this._timer = null;
    if (retry) {
      // +ERR=17: the module is still transmitting; the same command again a little later.
      this._queue.unshift(p);
      this._timer = setTimeout(() => {
        this._timer = null;
        this._pump();
      }, 100);
      return;
    }
    if (ok && p[2]) this._nextTx = this._now() + airtimeMs(p[2], this._cfg) / this._cfg.dutyCycle;
    p[1](ok);
    this._pump();
  }

  _data(d: string): void {
    this._buf += d;
    for (let nl = this._buf.indexOf('\r\n'); nl >= 0; nl = this._buf.indexOf('\r\n')) {
      const line = this._buf.substr(0, nl);
      this._buf = this._buf.substr(nl + 2);
      if (line.substr(0, 5) === '+RCV=') this._rcv(line.substr(5));
      else if (line === '+OK') this._finish(true);
      else if (line.substr(0, 5) === '+ERR=') {
        const p = this._busy;
        this._finish(false, line === '+ERR=17' && !!p && p[2] > 0 && ++p[3] < 5);
      }
    }
    if (this._buf.length > 300) {
      this._buf = '';
      this.bad++;
    }
  }

  /** `addr,len,data,rssi,snr`, data taken by its length. */
  _rcv(body: string): void {
    const c1 = body.indexOf(',');
    const c2 = body.indexOf(',', c1 + 1);
    const len = parseInt(body.substring(c1 + 1, c2), 10);
    try {
      if (c1 < 1 || c2 < 0 || !(len > 0 && len <= 240) || body.charAt(c2 + 1 + len) !== ',') fail('rcv');
      const frame = fromBase64url(body.substr(c2 + 1, len));
      if (this.onFrame && frame.length) this.onFrame(frame, body.substr(0, c1));
    } catch (e) {
      this.bad++;
    }
  }
}
