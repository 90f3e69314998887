/**
 * Driver for REYAX RYLR998 / RYLR896 LoRa modules (AT firmware; embedded.md §3.1, RYLR998 AT
 * command guide): a `Transport` with link addresses 0..65535 (0 = broadcast).
 *
 * The module only carries ASCII ("AT+SEND=addr,len,data", at most 240 characters, never CR/LF),
 * so frames travel as base64url: 240 characters = 180 binary bytes = the MTU. Receptions arrive as
 * "+RCV=addr,len,data,RSSI,SNR" and are parsed by the length field, since data may hold commas.
 * "+OK" only means the module accepted the frame; it stays busy for the airtime (a second
 * AT+SEND would get +ERR=17), so the next AT+SEND waits until the previous one is off the air.
 * On the air the module adds 8 bytes of header, counted in the airtime.
 */
import { err } from '../../src/errors.js';
import { fromBase64url, toBase64url } from '../../src/util/base64url.js';
import type { LinkAddress } from '../types.js';
import { AtModem, modemError, type AtModemOptions, type ReplyVerdict } from './at-modem.js';
import { loraSettings } from './airtime.js';
import type { DutyCycleReservation } from './duty-cycle.js';

/** ASCII characters per AT+SEND. */
export const RYLR_MAX_ASCII = 240;
/** Bytes the module adds on the air. */
export const RYLR_AIR_OVERHEAD = 8;
/** Binary bytes per frame after base64url: floor(240 / 4) * 3. */
export const RYLR_MTU = 180;

const BW_CODE: Record<number, number> = { 125000: 7, 250000: 8, 500000: 9 };

export interface RylrOptions extends AtModemOptions {
  /** AT+ADDRESS, 1..65535 (0 is the broadcast address). */
  address: number;
  /** AT+NETWORKID (default 18, the RYLR998 default; RYLR998 accepts 3..15 and 18). */
  networkId?: number;
  /** AT+CPIN link password (8 hex digits on RYLR998, 32 on RYLR896); both ends must match. */
  password?: string;
}

function base64urlLength(n: number): number {
  return Math.ceil((n * 4) / 3);
}

function parseAddress(s: string, what: string): number {
  if (!/^\d{1,5}$/.test(s) || Number(s) > 65535) throw err('ERR_MALFORMED', `${what}: bad address ${JSON.stringify(s)}`);
  return Number(s);
}

/** Validates before the base class attaches to the port (no listener leak on bad options). */
function checkOptions(options: RylrOptions): RylrOptions {
  if (!Number.isInteger(options?.address) || options.address < 1 || options.address > 65535) {
    throw err('ERR_ARGUMENT', 'address: expected 1..65535');
  }
  const networkId = options.networkId ?? 18;
  if (!Number.isInteger(networkId) || networkId < 0 || networkId > 18) throw err('ERR_ARGUMENT', 'networkId: expected 0..18');
  if (options.password !== undefined && !/^[0-9A-Fa-f]{8}([0-9A-Fa-f]{24})?$/.test(options.password)) {
    throw err('ERR_ARGUMENT', 'password: expected 8 or 32 hex digits');
  }
  const { preambleSymbols } = loraSettings(options.radio);
  if (preambleSymbols < 4 || preambleSymbols > 24) throw err('ERR_ARGUMENT', 'radio.preambleSymbols: RYLR accepts 4..24');
  return options;
}

export class RylrModem extends AtModem {
  readonly kind = 'lora-rylr';
  readonly mtu = RYLR_MTU;
  readonly address: LinkAddress;
  readonly networkId: number;
  private readonly options: RylrOptions;
  private txEndsAt = -Infinity;

  /** Configures the module (AT, ADDRESS, NETWORKID, BAND, PARAMETER, CRFOP, CPIN) and goes online. */
  static async open(options: RylrOptions): Promise<RylrModem> {
    const modem = new RylrModem(options);
    try {
      await modem.configure();
    } catch (e) {
      await modem.close();
      throw e;
    }
    return modem;
  }

  constructor(options: RylrOptions) {
    super(checkOptions(options));
    this.options = options;
    this.address = String(options.address);
    this.networkId = options.networkId ?? 18;
    this.onUnsolicited(
      (line) => line.startsWith('+RCV='),
      (line) => this.onReceive(line),
    );
  }

  airBytes(size: number): number {
    return RYLR_AIR_OVERHEAD + base64urlLength(size);
  }

  private okOrErr(text: string): (line: string) => ReplyVerdict {
    return (line) => {
      if (line === '+OK') return 'done';
      if (line.startsWith('+ERR=')) return modemError(line === '+ERR=13' ? 'ERR_TOO_LARGE' : 'ERR_TRANSPORT', this.kind, text, line);
      return 'ignore';
    };
  }

  private async set(text: string): Promise<void> {
    await this.command({ text, match: this.okOrErr(text) });
  }

  private async configure(): Promise<void> {
    const s = this.settings;
    await this.set('AT');
    await this.set(`AT+ADDRESS=${this.address}`);
    await this.set(`AT+NETWORKID=${this.networkId}`);
    await this.set(`AT+BAND=${s.frequencyHz}`);
    await this.set(`AT+PARAMETER=${s.sf},${BW_CODE[s.bandwidthHz]},${s.codingRate},${s.preambleSymbols}`);
    await this.set(`AT+CRFOP=${s.txPowerDbm}`);
    if (this.options.password !== undefined) await this.set(`AT+CPIN=${this.options.password.toUpperCase()}`);
    this.setState('online');
  }

  protected resolveDestination(to: LinkAddress | undefined): number {
    if (to === undefined) return 0;
    if (typeof to !== 'string' || !/^\d{1,5}$/.test(to) || Number(to) > 65535) {
      throw err('ERR_ARGUMENT', `${this.kind}: destination must be an address 0..65535, got ${JSON.stringify(to)}`);
    }
    return Number(to);
  }

  protected async transmitFrame(
    frame: Uint8Array,
    destination: number | undefined,
    reservation: DutyCycleReservation,
    airtimeMs: number,
  ): Promise<void> {
    const data = toBase64url(frame);
    const text = `AT+SEND=${destination ?? 0},${data.length},${data}`;
    const accepted = this.okOrErr(text);
    await this.command({
      text,
      notBefore: () => this.txEndsAt,
      timeoutMs: this.commandTimeoutMs,
      match: (line) => {
        const v = accepted(line);
        if (v === 'done') {
          reservation.commit();
          this.txEndsAt = this.clock.now() + airtimeMs;
        }
        return v;
      },
    });
  }

  /** +RCV=<addr>,<len>,<data>,<rssi>,<snr>; data taken by its length (it may contain commas). */
  private onReceive(line: string): void {
    const body = line.slice(5);
    const c1 = body.indexOf(',');
    const c2 = c1 < 0 ? -1 : body.indexOf(',', c1 + 1);
    if (c2 < 0) throw err('ERR_MALFORMED', `${this.kind}: truncated +RCV line`);
    const from = parseAddress(body.slice(0, c1), '+RCV');
    const lenText = body.slice(c1 + 1, c2);
    if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > RYLR_MAX_ASCII) throw err('ERR_MALFORMED', `${this.kind}: bad +RCV length`);
    const len = Number(lenText);
    const data = body.slice(c2 + 1, c2 + 1 + len);
    const tail = /^,(-?\d{1,4}),(-?\d{1,4})$/.exec(body.slice(c2 + 1 + len));
    if (data.length !== len || !tail) throw err('ERR_MALFORMED', `${this.kind}: +RCV line does not match its length field`);
    const frame = fromBase64url(data, `${this.kind} +RCV data`);
    if (frame.length === 0) throw err('ERR_MALFORMED', `${this.kind}: empty frame`);
    this.deliverFrame(frame, String(from), { rssiDbm: Number(tail[1]), snrDb: Number(tail[2]) });
  }
}
