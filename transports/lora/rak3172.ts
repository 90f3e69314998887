/**
 * Driver for RAKwireless RAK3172 (and other RUI3 modules) in LoRa P2P mode (RUI3 AT command
 * manual; embedded.md §3.1): a broadcast `Transport` (P2P has no link addresses).
 *
 * Set-up: `AT`, `AT+NWM=0` (P2P), `AT+P2P=freq:sf:bw:cr:prlen:pwr` (bw in kHz, cr 0..3 = 4/5..4/8),
 * `AT+PRECV=65533`: continuous receive in which RUI3 (>= 3.4.0) still accepts `AT+PSEND`, so the
 * driver never has to stop and restart the receiver (with 65534, PSEND is AT_BUSY_ERROR until
 * `AT+PRECV=0`). Frames go as `AT+PSEND=<hex>` → `OK` (accepted; the send resolves) then
 * `+EVT:TXP2P DONE`; receptions arrive as `+EVT:RXP2P:<rssi>:<snr>:<hex>`.
 * MTU 250: the manual allows 2..500 hex digits per PSEND.
 */
import { err } from '../../src/errors.js';
import { fromHex, toHex } from '../../src/util/bytes.js';
import { AtModem, modemError, type AtModemOptions, type ReplyVerdict } from './at-modem.js';
import { loraSettings } from './airtime.js';
import type { DutyCycleReservation } from './duty-cycle.js';

export const RAK3172_MTU = 250;
const RUI3_ERRORS = /^AT_[A-Z_]+$/;

export type Rak3172Options = AtModemOptions;

/** Validates before the base class attaches to the port. */
function checkOptions(options: Rak3172Options): Rak3172Options {
  const { txPowerDbm } = loraSettings(options?.radio);
  if (txPowerDbm < 5 || txPowerDbm > 22) throw err('ERR_ARGUMENT', 'radio.txPowerDbm: RUI3 accepts 5..22');
  return options;
}

export class Rak3172Modem extends AtModem {
  readonly kind = 'lora-rak3172';
  readonly mtu = RAK3172_MTU;
  readonly address = undefined;

  static async open(options: Rak3172Options): Promise<Rak3172Modem> {
    const modem = new Rak3172Modem(options);
    try {
      await modem.configure();
    } catch (e) {
      await modem.close();
      throw e;
    }
    return modem;
  }

  constructor(options: Rak3172Options) {
    super(checkOptions(options));
    this.onUnsolicited(
      (line) => line.startsWith('+EVT:RXP2P:'),
      (line) => this.onReceive(line),
    );
    // Receive timeouts/errors of single-shot modes; in 65533 mode they do not occur.
    this.onUnsolicited(
      (line) => line.startsWith('+EVT:RXP2P '),
      () => undefined,
    );
  }

  airBytes(size: number): number {
    return size;
  }

  private okMatch(text: string): (line: string) => ReplyVerdict {
    return (line) => {
      if (line === 'OK') return 'done';
      if (RUI3_ERRORS.test(line)) return modemError('ERR_TRANSPORT', this.kind, text, line);
      return 'ignore';
    };
  }

  private async set(text: string): Promise<void> {
    await this.command({ text, match: this.okMatch(text) });
  }

  private async configure(): Promise<void> {
    const s = this.settings;
    await this.set('AT');
    await this.set('AT+NWM=0');
    await this.set(`AT+P2P=${s.frequencyHz}:${s.sf}:${s.bandwidthHz / 1000}:${s.codingRate - 1}:${s.preambleSymbols}:${s.txPowerDbm}`);
    await this.set('AT+PRECV=65533');
    this.setState('online');
  }

  protected resolveDestination(): undefined {
    return undefined;
  }

  protected async transmitFrame(
    frame: Uint8Array,
    _destination: number | undefined,
    reservation: DutyCycleReservation,
    airtimeMs: number,
  ): Promise<void> {
    const text = `AT+PSEND=${toHex(frame).toUpperCase()}`;
    let accepted = false;
    await new Promise<void>((resolve, reject) => {
      this.command({
        text,
        timeoutMs: airtimeMs + this.commandTimeoutMs,
        match: (line) => {
          if (!accepted) {
            if (line === 'OK') {
              accepted = true;
              reservation.commit();
              resolve();
              return 'progress';
            }
            if (RUI3_ERRORS.test(line)) return modemError('ERR_TRANSPORT', this.kind, text, line);
            return 'ignore';
          }
          return line === '+EVT:TXP2P DONE' ? 'done' : 'ignore';
        },
      }).catch((e) => {
        if (accepted) this.reportError(e);
        else reject(e);
      });
    });
  }

  /** +EVT:RXP2P:<rssi>:<snr>:<hex> */
  private onReceive(line: string): void {
    const m = /^\+EVT:RXP2P:(-?\d{1,4}):(-?\d{1,4}):([0-9A-Fa-f]*)$/.exec(line);
    if (!m) throw err('ERR_MALFORMED', `${this.kind}: bad +EVT:RXP2P line`);
    const hex = m[3]!;
    if (hex.length === 0 || hex.length > 2 * 255) throw err('ERR_MALFORMED', `${this.kind}: bad +EVT:RXP2P payload length`);
    this.deliverFrame(fromHex(hex), undefined, { rssiDbm: Number(m[1]), snrDb: Number(m[2]) });
  }
}
