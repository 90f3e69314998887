/**
 * Emulator of a RAKwireless RAK3172 with RUI3 AT firmware in LoRa P2P mode (RUI3 AT command
 * manual; embedded.md §3.1):
 *
 *   AT                                   -> OK
 *   AT+NWM=?  | AT+NWM=<0|1>             -> AT+NWM=<n> OK | OK   (0 = P2P; power-on default 1 = LoRaWAN)
 *   AT+P2P=freq:sf:bw:cr:prlen:pwr       -> OK | AT_PARAM_ERROR   (bw in kHz 125/250/500, cr 0..3 = 4/5..4/8)
 *   AT+PSEND=<hex>                       -> OK, then +EVT:TXP2P DONE after the airtime
 *   AT+PRECV=<0|1..65532|65533|65534|65535>
 *       0 stop; 1..65532 one packet within n ms (+EVT:RXP2P RECEIVE TIMEOUT otherwise);
 *       65533 continuous RX, TX still allowed (RUI3 >= 3.4.0); 65534 continuous RX until
 *       AT+PRECV=0 (PSEND answers AT_BUSY_ERROR); 65535 one packet, no timeout.
 *   receptions: +EVT:RXP2P:<rssi>:<snr>:<hex>
 *
 * Errors: AT_PARAM_ERROR, AT_BUSY_ERROR, AT_MODE_NO_SUPPORT (P2P command in LoRaWAN mode),
 * AT_COMMAND_NOT_FOUND. Command names are case-insensitive, as in RUI3. PSEND takes 2..500 hex
 * digits (the manual says "2~500 digit length", i.e. at most 250 bytes). SF5/6 (SX1262 only) are
 * refused with AT_PARAM_ERROR because the airtime model covers SF7..12.
 */
import type { Timer } from '../../../src/util/clock.js';
import { fromHex, toHex } from '../../../src/util/bytes.js';
import type { CodingRate, LoraBandwidthHz, SpreadingFactor } from '../airtime.js';
import type { AirFrame } from '../channel.js';
import { AtModemEmulator, type ModemEmulatorOptions } from './emulator-base.js';

export const RAK3172_MAX_PAYLOAD = 250;

/** RX modes of AT+PRECV. */
const RX_OFF = 0;
const RX_CONTINUOUS_TX_ALLOWED = 65533;
const RX_CONTINUOUS = 65534;
const RX_SINGLE = 65535;

export interface Rak3172EmulatorOptions extends ModemEmulatorOptions {
  /** Power-on network work mode (default 1 = LoRaWAN, as shipped). */
  workMode?: 0 | 1;
}

function parseIntIn(s: string | undefined, min: number, max: number): number | undefined {
  if (s === undefined || !/^\d{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= min && n <= max ? n : undefined;
}

export class Rak3172Emulator extends AtModemEmulator {
  private workMode: 0 | 1;
  private rxMode = RX_OFF;
  private transmitting = false;
  private rxTimer: Timer | undefined;
  private txTimer: Timer | undefined;

  constructor(options: Rak3172EmulatorOptions) {
    super(options, 600);
    this.workMode = options.workMode ?? 1;
  }

  protected onCommand(line: string): void {
    const eq = line.indexOf('=');
    const name = (eq < 0 ? line : line.slice(0, eq)).toUpperCase();
    const arg = eq < 0 ? undefined : line.slice(eq + 1);
    if (name === 'AT' && arg === undefined) return this.writeLine('OK');
    if (name === 'AT+VER' && arg === '?') return this.answer('AT+VER=RUI_4.0.6_RAK3172-E');
    if (name === 'AT+NWM') return this.nwm(arg);
    if (name === 'AT+P2P') return this.p2p(arg);
    if (name === 'AT+PSEND') return this.psend(arg);
    if (name === 'AT+PRECV') return this.precv(arg);
    return this.writeError('AT_COMMAND_NOT_FOUND');
  }

  private answer(...lines: string[]): void {
    for (const l of lines) this.writeLine(l);
    this.writeLine('OK');
  }

  private nwm(arg: string | undefined): void {
    if (arg === '?') return this.answer(`AT+NWM=${this.workMode}`);
    if (arg !== '0' && arg !== '1') return this.writeError('AT_PARAM_ERROR');
    if (this.transmitting || this.rxMode !== RX_OFF) return this.writeError('AT_BUSY_ERROR');
    this.workMode = arg === '0' ? 0 : 1;
    this.writeLine('OK');
  }

  private p2p(arg: string | undefined): void {
    if (this.workMode !== 0) return this.writeError('AT_MODE_NO_SUPPORT');
    const s = this.radio.settings;
    if (arg === '?') {
      return this.answer(
        `AT+P2P=${s.frequencyHz}:${s.sf}:${s.bandwidthHz / 1000}:${s.codingRate - 1}:${s.preambleSymbols}:${s.txPowerDbm}`,
      );
    }
    const parts = (arg ?? '').split(':');
    if (parts.length !== 6) return this.writeError('AT_PARAM_ERROR');
    const freq = parseIntIn(parts[0], 150_000_000, 960_000_000);
    const sf = parseIntIn(parts[1], 7, 12);
    const bw = ({ '125': 125_000, '250': 250_000, '500': 500_000 } as Record<string, LoraBandwidthHz>)[parts[2]!];
    const cr = parseIntIn(parts[3], 0, 3);
    const preamble = parseIntIn(parts[4], 2, 65535);
    const power = parseIntIn(parts[5], 5, 22);
    if (freq === undefined || sf === undefined || !bw || cr === undefined || preamble === undefined || power === undefined) {
      return this.writeError('AT_PARAM_ERROR');
    }
    if (this.transmitting || this.rxMode === RX_CONTINUOUS) return this.writeError('AT_BUSY_ERROR');
    this.radio.configure({
      frequencyHz: freq,
      sf: sf as SpreadingFactor,
      bandwidthHz: bw,
      codingRate: (cr + 1) as CodingRate,
      preambleSymbols: preamble,
      txPowerDbm: power,
    });
    this.writeLine('OK');
  }

  private psend(arg: string | undefined): void {
    if (this.workMode !== 0) return this.writeError('AT_MODE_NO_SUPPORT');
    const hex = (arg ?? '').trim();
    if (hex.length < 2 || hex.length > 2 * RAK3172_MAX_PAYLOAD || hex.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(hex)) {
      return this.writeError('AT_PARAM_ERROR');
    }
    if (this.transmitting) return this.writeError('AT_BUSY_ERROR');
    if (this.rxMode !== RX_OFF && this.rxMode !== RX_CONTINUOUS_TX_ALLOWED) return this.writeError('AT_BUSY_ERROR');
    this.radio.setListening(false);
    const { airtimeMs } = this.radio.transmit(fromHex(hex));
    this.transmitting = true;
    this.writeLine('OK');
    this.txTimer = this.clock.setTimer(airtimeMs, () => {
      this.txTimer = undefined;
      this.transmitting = false;
      if (this.rxMode === RX_CONTINUOUS_TX_ALLOWED) this.radio.setListening(true);
      this.writeLine('+EVT:TXP2P DONE');
    });
  }

  private precv(arg: string | undefined): void {
    if (this.workMode !== 0) return this.writeError('AT_MODE_NO_SUPPORT');
    if (arg === '?') return this.answer(`AT+PRECV=${this.rxMode}`);
    const n = parseIntIn(arg, 0, 65535);
    if (n === undefined) return this.writeError('AT_PARAM_ERROR');
    if (this.rxMode === RX_CONTINUOUS && n !== RX_OFF) return this.writeError('AT_BUSY_ERROR');
    if (this.transmitting && n !== RX_OFF) return this.writeError('AT_BUSY_ERROR');
    this.stopRx();
    if (n === RX_OFF) return this.writeLine('OK');
    this.rxMode = n;
    if (!this.transmitting) this.radio.setListening(true);
    this.writeLine('OK');
    if (n < RX_CONTINUOUS_TX_ALLOWED) {
      this.rxTimer = this.clock.setTimer(n, () => {
        this.rxTimer = undefined;
        this.stopRx();
        this.writeLine('+EVT:RXP2P RECEIVE TIMEOUT');
      });
    }
  }

  private stopRx(): void {
    this.rxTimer?.cancel();
    this.rxTimer = undefined;
    this.rxMode = RX_OFF;
    this.radio.setListening(false);
  }

  protected onAir(frame: AirFrame): void {
    if (this.rxMode === RX_OFF) return;
    const single = this.rxMode === RX_SINGLE || this.rxMode < RX_CONTINUOUS_TX_ALLOWED;
    if (single) this.stopRx();
    this.writeLine(`+EVT:RXP2P:${Math.round(frame.rssiDbm)}:${Math.round(frame.snrDb)}:${toHex(frame.payload).toUpperCase()}`);
  }

  protected override onClose(): void {
    this.rxTimer?.cancel();
    this.txTimer?.cancel();
  }
}
