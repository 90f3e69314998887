/**
 * Emulator of a REYAX RYLR998 / RYLR896 LoRa module (AT firmware, embedded.md §3.1; RYLR998 AT
 * command guide). Commands: AT, AT+RESET, AT+MODE, AT+IPR, AT+ADDRESS, AT+NETWORKID, AT+BAND,
 * AT+PARAMETER, AT+CPIN, AT+CRFOP, AT+VER?, AT+UID?, AT+SEND=addr,len,data -> +OK | +ERR=n.
 * Receptions: +RCV=addr,len,data,RSSI,SNR.
 *
 * Error numbers as the guide lists them: 2 (line does not start with "AT"), 4 (unknown command;
 * also used here for out-of-range values, for which the guide has no number), 5 (data length
 * differs from the length field), 13 (more than 240 bytes), 17 (last TX not completed),
 * 18 (preamble not allowed). RYLR998 allows a preamble other than 12 only on NETWORKID 18.
 *
 * On the air the module adds an 8-byte header (embedded.md §3.1). Its layout is internal to the
 * modem; here: network id, destination (2), source (2), length, password check (2). Receivers
 * drop frames for other networks, passwords or addresses (0 = broadcast).
 */
import { crc16 } from '../../serial/crc16.js';
import { bytesToLatin1, latin1ToBytes } from '../../serial/latin1.js';
import type { LoraBandwidthHz, SpreadingFactor, CodingRate } from '../airtime.js';
import type { AirFrame } from '../channel.js';
import { AtModemEmulator, type ModemEmulatorOptions } from './emulator-base.js';

export const RYLR_MAX_DATA = 240;
export const RYLR_AIR_HEADER = 8;

export interface RylrEmulatorOptions extends ModemEmulatorOptions {
  variant?: 'rylr998' | 'rylr896';
  /** Power-on AT+ADDRESS (default 0). */
  address?: number;
  /** Power-on AT+NETWORKID (default 18 on RYLR998, 0 on RYLR896). */
  networkId?: number;
}

const BW_CODES: Record<string, LoraBandwidthHz> = { '7': 125_000, '8': 250_000, '9': 500_000 };
const BW_TO_CODE: Record<number, number> = { 125000: 7, 250000: 8, 500000: 9 };

function parseUint(s: string | undefined, max: number): number | undefined {
  if (s === undefined || !/^\d{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= max ? n : undefined;
}

export class RylrEmulator extends AtModemEmulator {
  readonly variant: 'rylr998' | 'rylr896';
  private address: number;
  private networkId: number;
  private passwordCheck = 0;
  private password = '';
  private power = 14;

  constructor(options: RylrEmulatorOptions) {
    super(options);
    this.variant = options.variant ?? 'rylr998';
    this.address = options.address ?? 0;
    this.networkId = options.networkId ?? (this.variant === 'rylr998' ? 18 : 0);
    this.radio.setListening(true);
  }

  protected onCommand(line: string): void {
    if (!line.startsWith('AT')) return this.writeError('+ERR=2');
    if (line === 'AT') return this.writeLine('+OK');
    const m = /^AT\+([A-Z]+)(?:(\?)|=([\s\S]*))?$/.exec(line);
    if (!m) return this.writeError('+ERR=4');
    const [, name, query, arg] = m as unknown as [string, string, string | undefined, string | undefined];
    if (name === 'RESET' && !query && arg === undefined) {
      this.writeLine('+RESET');
      this.writeLine('+READY');
      return;
    }
    if (query) return this.query(name);
    if (arg === undefined) return this.writeError('+ERR=4');
    this.set(name, arg);
  }

  private query(name: string): void {
    const s = this.radio.settings;
    switch (name) {
      case 'ADDRESS':
        return this.writeLine(`+ADDRESS=${this.address}`);
      case 'NETWORKID':
        return this.writeLine(`+NETWORKID=${this.networkId}`);
      case 'BAND':
        return this.writeLine(`+BAND=${s.frequencyHz}`);
      case 'PARAMETER':
        return this.writeLine(`+PARAMETER=${s.sf},${BW_TO_CODE[s.bandwidthHz]},${s.codingRate},${s.preambleSymbols}`);
      case 'CRFOP':
        return this.writeLine(`+CRFOP=${this.power}`);
      case 'MODE':
        return this.writeLine('+MODE=0');
      case 'IPR':
        return this.writeLine('+IPR=115200');
      case 'CPIN':
        return this.writeLine(this.password ? `+CPIN=${this.password}` : '+CPIN=No Password!');
      case 'VER':
        return this.writeLine(this.variant === 'rylr998' ? '+VER=RYLR998_REYAX_V1.2.2' : '+VER=RYLR89C_V1.2.7');
      case 'UID':
        return this.writeLine(`+UID=0000000000000000${crc16(latin1ToBytes(this.radio.id)).toString(16).padStart(8, '0')}`);
      default:
        return this.writeError('+ERR=4');
    }
  }

  private set(name: string, arg: string): void {
    switch (name) {
      case 'ADDRESS': {
        const n = parseUint(arg, 65535);
        if (n === undefined) return this.writeError('+ERR=4');
        this.address = n;
        return this.writeLine('+OK');
      }
      case 'NETWORKID': {
        const n = parseUint(arg, 18);
        const ok = n !== undefined && (this.variant === 'rylr998' ? (n >= 3 && n <= 15) || n === 18 : n <= 16);
        if (!ok) return this.writeError('+ERR=4');
        this.networkId = n;
        return this.writeLine('+OK');
      }
      case 'BAND': {
        const n = parseUint(arg, 1_020_000_000);
        const [lo, hi] = this.variant === 'rylr998' ? [820_000_000, 960_000_000] : [862_000_000, 1_020_000_000];
        if (n === undefined || n < lo || n > hi) return this.writeError('+ERR=4');
        if (this.radio.transmitting) return this.writeError('+ERR=17');
        this.radio.configure({ frequencyHz: n });
        return this.writeLine('+OK');
      }
      case 'PARAMETER':
        return this.setParameter(arg);
      case 'CPIN': {
        const len = this.variant === 'rylr998' ? 8 : 32;
        if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(arg)) return this.writeError('+ERR=4');
        this.password = arg.toUpperCase();
        this.passwordCheck = crc16(latin1ToBytes(this.password));
        return this.writeLine('+OK');
      }
      case 'CRFOP': {
        const n = parseUint(arg, this.variant === 'rylr998' ? 22 : 15);
        if (n === undefined) return this.writeError('+ERR=4');
        this.power = n;
        this.radio.configure({ txPowerDbm: n });
        return this.writeLine('+OK');
      }
      case 'MODE':
        return arg === '0' ? this.writeLine('+OK') : this.writeError('+ERR=4');
      case 'IPR': {
        const n = parseUint(arg, 115200);
        if (n === undefined || ![300, 1200, 4800, 9600, 19200, 28800, 38400, 57600, 115200].includes(n)) {
          return this.writeError('+ERR=4');
        }
        return this.writeLine(`+IPR=${n}`);
      }
      case 'SEND':
        return this.send(arg);
      default:
        return this.writeError('+ERR=4');
    }
  }

  private setParameter(arg: string): void {
    const parts = arg.split(',');
    if (parts.length !== 4) return this.writeError('+ERR=4');
    const sf = parseUint(parts[0], 12);
    const bw = BW_CODES[parts[1]!];
    const cr = parseUint(parts[2], 4);
    const preamble = parseUint(parts[3], 65535);
    const maxSf = this.variant === 'rylr998' ? 11 : 12;
    if (sf === undefined || sf < 7 || sf > maxSf || !bw || cr === undefined || cr < 1 || preamble === undefined) {
      return this.writeError('+ERR=4');
    }
    const preambleOk =
      this.variant === 'rylr998' && this.networkId !== 18 ? preamble === 12 : preamble >= 4 && preamble <= 24;
    if (!preambleOk) return this.writeError('+ERR=18');
    if (this.radio.transmitting) return this.writeError('+ERR=17');
    this.radio.configure({
      sf: sf as SpreadingFactor,
      bandwidthHz: bw,
      codingRate: cr as CodingRate,
      preambleSymbols: preamble,
    });
    this.writeLine('+OK');
  }

  private send(arg: string): void {
    const c1 = arg.indexOf(',');
    const c2 = c1 < 0 ? -1 : arg.indexOf(',', c1 + 1);
    if (c2 < 0) return this.writeError('+ERR=4');
    const to = parseUint(arg.slice(0, c1), 65535);
    const len = parseUint(arg.slice(c1 + 1, c2), 99999);
    if (to === undefined || len === undefined) return this.writeError('+ERR=4');
    const data = arg.slice(c2 + 1);
    if (len > RYLR_MAX_DATA || data.length > RYLR_MAX_DATA) return this.writeError('+ERR=13');
    if (data.length !== len || len === 0) return this.writeError('+ERR=5');
    if (this.radio.transmitting) return this.writeError('+ERR=17');
    const air = new Uint8Array(RYLR_AIR_HEADER + len);
    air[0] = this.networkId;
    air[1] = to >> 8;
    air[2] = to & 0xff;
    air[3] = this.address >> 8;
    air[4] = this.address & 0xff;
    air[5] = len;
    air[6] = this.passwordCheck >> 8;
    air[7] = this.passwordCheck & 0xff;
    air.set(latin1ToBytes(data), RYLR_AIR_HEADER);
    this.radio.transmit(air);
    this.writeLine('+OK');
  }

  protected onAir(frame: AirFrame): void {
    const p = frame.payload;
    if (p.length < RYLR_AIR_HEADER) return;
    const to = (p[1]! << 8) | p[2]!;
    const from = (p[3]! << 8) | p[4]!;
    const check = (p[6]! << 8) | p[7]!;
    if (p[0] !== this.networkId || check !== this.passwordCheck) return;
    if (to !== 0 && to !== this.address) return;
    const data = bytesToLatin1(p.subarray(RYLR_AIR_HEADER));
    this.writeLine(`+RCV=${from},${data.length},${data},${Math.round(frame.rssiDbm)},${Math.round(frame.snrDb)}`);
  }
}
