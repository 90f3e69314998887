/**
 * Driver for Microchip RN2483 / RN2903 modules in raw-radio (point-to-point) mode (RN2483 command
 * reference; embedded.md §3.1): a broadcast `Transport` (no link addresses: `address` is
 * undefined, `to` is ignored, `from` is unknown).
 *
 * Set-up: `sys get ver`, `mac pause` (the LoRaWAN stack must be paused for radio commands),
 * `radio set mod/freq/sf/bw/cr/prlen/crc/pwr`, `radio set wdt 0` (no receive watchdog), then
 * `radio rx 0`. Payloads are hex, up to 255 bytes (MTU 255; the UART carries twice that).
 * The radio is half duplex and `radio rx 0` ends after one packet, so the driver stops the
 * receiver (`radio rxstop`) before `radio tx`, and re-arms it after every `radio_tx_ok` /
 * `radio_err` / `radio_rx`. A send resolves at the module's `ok`; a later `radio_err` is an
 * 'error' event.
 */
import { err } from '../../src/errors.js';
import { fromHex, toHex } from '../../src/util/bytes.js';
import { AtModem, modemError, type AtModemOptions, type ReplyVerdict } from './at-modem.js';
import type { DutyCycleReservation } from './duty-cycle.js';

export const RN2483_MTU = 255;

export interface Rn2483Options extends AtModemOptions {
  /** Expected module (checked against `sys get ver`); default rn2483. */
  variant?: 'rn2483' | 'rn2903';
}

export class Rn2483Modem extends AtModem {
  readonly kind = 'lora-rn2483';
  readonly mtu = RN2483_MTU;
  readonly address = undefined;
  readonly variant: 'rn2483' | 'rn2903';
  /** Firmware version line from `sys get ver`. */
  version = '';
  private listening = false;
  private arming = false;

  static async open(options: Rn2483Options): Promise<Rn2483Modem> {
    const modem = new Rn2483Modem(options);
    try {
      await modem.configure();
    } catch (e) {
      await modem.close();
      throw e;
    }
    return modem;
  }

  constructor(options: Rn2483Options) {
    super(options);
    this.variant = options.variant ?? 'rn2483';
    this.onUnsolicited(
      (line) => line.startsWith('radio_rx '),
      (line) => this.onReceive(line),
    );
    // With `radio set wdt 0` this should not happen; if it does, the receiver stopped: re-arm.
    this.onUnsolicited(
      (line) => line === 'radio_err' && this.listening,
      () => {
        this.listening = false;
        this.armReceiver();
      },
    );
  }

  airBytes(size: number): number {
    return size;
  }

  private okMatch(text: string): (line: string) => ReplyVerdict {
    return (line) => {
      if (line === 'ok') return 'done';
      if (line === 'invalid_param' || line === 'busy' || line === 'radio_err') {
        return modemError('ERR_TRANSPORT', this.kind, text, line);
      }
      return 'ignore';
    };
  }

  private async set(text: string): Promise<void> {
    await this.command({ text, match: this.okMatch(text) });
  }

  private async configure(): Promise<void> {
    const s = this.settings;
    const expected = this.variant === 'rn2483' ? 'RN2483' : 'RN2903';
    const [ver] = await this.command({
      text: 'sys get ver',
      match: (line) => {
        if (line.startsWith(`${expected} `)) return 'done';
        if (/^RN\d{4} /.test(line)) return err('ERR_UNSUPPORTED', `${this.kind}: expected ${expected}, found ${line}`);
        return 'ignore';
      },
    });
    this.version = ver ?? '';
    await this.command({
      text: 'mac pause',
      match: (line) => (/^\d+$/.test(line) && Number(line) > 0 ? 'done' : line === 'invalid_param' ? modemError('ERR_TRANSPORT', this.kind, 'mac pause', line) : 'ignore'),
    });
    await this.set('radio set mod lora');
    await this.set(`radio set freq ${s.frequencyHz}`);
    await this.set(`radio set sf sf${s.sf}`);
    await this.set(`radio set bw ${s.bandwidthHz / 1000}`);
    await this.set(`radio set cr 4/${s.codingRate + 4}`);
    await this.set(`radio set prlen ${s.preambleSymbols}`);
    await this.set(`radio set crc ${s.crc ? 'on' : 'off'}`);
    await this.set(`radio set pwr ${s.txPowerDbm}`);
    await this.set('radio set wdt 0');
    await this.set('radio rx 0');
    this.listening = true;
    this.setState('online');
  }

  protected resolveDestination(): undefined {
    return undefined;
  }

  /** Re-enters continuous receive unless already listening or about to. */
  private armReceiver(): void {
    if (this.listening || this.arming || this.state !== 'online') return;
    this.arming = true;
    this.command({
      text: 'radio rx 0',
      match: (line) => {
        if (line === 'ok' || line === 'busy') return 'done';
        if (line === 'invalid_param') return modemError('ERR_TRANSPORT', this.kind, 'radio rx 0', line);
        return 'ignore';
      },
    }).then(
      () => {
        this.arming = false;
        this.listening = true;
      },
      (e) => {
        this.arming = false;
        this.reportError(e);
      },
    );
  }

  protected async transmitFrame(
    frame: Uint8Array,
    _destination: number | undefined,
    reservation: DutyCycleReservation,
    airtimeMs: number,
  ): Promise<void> {
    const stop = this.command({ text: 'radio rxstop', match: this.okMatch('radio rxstop') }).then(() => {
      this.listening = false;
    });
    const text = `radio tx ${toHex(frame)}`;
    let accepted = false;
    const tx = new Promise<void>((resolve, reject) => {
      this.command({
        text,
        timeoutMs: airtimeMs + this.commandTimeoutMs,
        match: (line) => {
          if (!accepted) {
            if (line === 'ok') {
              accepted = true;
              reservation.commit();
              resolve();
              return 'progress';
            }
            if (line === 'invalid_param' || line === 'busy') return modemError('ERR_TRANSPORT', this.kind, text, line);
            return 'ignore';
          }
          if (line === 'radio_tx_ok') return 'done';
          if (line === 'radio_err') return modemError('ERR_TRANSPORT', this.kind, text, line);
          return 'ignore';
        },
      }).then(
        () => this.armReceiver(),
        (e) => {
          if (accepted) this.reportError(e);
          else reject(e);
          this.armReceiver();
        },
      );
    });
    // If rxstop fails, the tx command will report the modem's state (busy); surface that one.
    await stop.catch(() => undefined);
    await tx;
  }

  /** radio_rx  <hex> (two spaces in firmware 1.0.x; any whitespace accepted). */
  private onReceive(line: string): void {
    this.listening = false;
    this.armReceiver();
    const hex = line.slice('radio_rx'.length).trim();
    if (hex.length === 0 || hex.length > 2 * RN2483_MTU) throw err('ERR_MALFORMED', `${this.kind}: bad radio_rx length`);
    this.deliverFrame(fromHex(hex), undefined);
  }
}
