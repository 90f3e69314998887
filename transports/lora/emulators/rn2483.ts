/**
 * Emulator of a Microchip RN2483 (EU 433/868) / RN2903 (US 915) in raw-radio mode (RN2483
 * command reference, embedded.md §3.1; firmware 1.0.5 behaviour):
 *
 *   sys get ver | sys reset        -> "RN2483 1.0.5 Oct 31 2018 15:06:52"
 *   mac pause                      -> "4294967245" (radio commands are `busy` until paused)
 *   mac resume                     -> ok
 *   radio set mod|freq|sf|bw|cr|prlen|crc|pwr|wdt|sync|iqi <v> -> ok | invalid_param | busy
 *   radio get <param>              -> value
 *   radio tx <hex>                 -> ok, then radio_tx_ok (after the airtime) | invalid_param | busy
 *   radio rx <window>              -> ok, then "radio_rx  <hex>" (two spaces) or radio_err when the
 *                                     watchdog (`wdt`, ms; 0 = off) or the window (symbols) expires
 *   radio rxstop                   -> ok
 *
 * One reception per `radio rx`: the radio is idle afterwards and must be re-armed. While
 * receiving or transmitting, `radio tx`/`radio rx`/`radio set` answer `busy`. Payloads are 1..255
 * bytes as hex. Unknown commands answer `invalid_param`.
 */
import type { Timer } from '../../../src/util/clock.js';
import { fromHex, toHex } from '../../../src/util/bytes.js';
import { symbolTimeMs, type CodingRate, type LoraBandwidthHz, type SpreadingFactor } from '../airtime.js';
import type { AirFrame } from '../channel.js';
import { AtModemEmulator, type ModemEmulatorOptions } from './emulator-base.js';

export const RN2483_MAX_PAYLOAD = 255;

export interface Rn2483EmulatorOptions extends ModemEmulatorOptions {
  variant?: 'rn2483' | 'rn2903';
}

type RadioMode = 'idle' | 'tx' | 'rx';

function parseInt10(s: string | undefined, min: number, max: number): number | undefined {
  if (s === undefined || !/^-?\d{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= min && n <= max ? n : undefined;
}

export class Rn2483Emulator extends AtModemEmulator {
  readonly variant: 'rn2483' | 'rn2903';
  private macPaused = false;
  private mode: RadioMode = 'idle';
  private timer: Timer | undefined;
  private wdtMs = 15_000;
  private sync = '34';
  private iqi = 'off';

  constructor(options: Rn2483EmulatorOptions) {
    super(options, 560);
    this.variant = options.variant ?? 'rn2483';
  }

  private get version(): string {
    return `${this.variant === 'rn2483' ? 'RN2483' : 'RN2903'} 1.0.5 Oct 31 2018 15:06:52`;
  }

  protected onCommand(line: string): void {
    const words = line.split(' ');
    const [w0, w1, w2, w3] = words;
    if (line === 'sys get ver') return this.writeLine(this.version);
    if (line === 'sys get hweui') return this.writeLine('0004A30B001A2B3C');
    if (line === 'sys reset') {
      this.macPaused = false;
      if (this.mode === 'rx') this.stopRx();
      return this.writeLine(this.version);
    }
    if (line === 'mac pause') {
      this.macPaused = true;
      return this.writeLine('4294967245');
    }
    if (line === 'mac resume') {
      this.macPaused = false;
      return this.writeLine('ok');
    }
    if (w0 !== 'radio') return this.writeError('invalid_param');
    if (w1 === 'get' && words.length === 3) return this.get(w2!);
    if (w1 === 'set' && words.length === 4) return this.set(w2!, w3!);
    if (w1 === 'tx' && words.length === 3) return this.tx(w2!);
    if (w1 === 'rx' && words.length === 3) return this.rx(w2!);
    if (line === 'radio rxstop') {
      if (this.mode === 'tx') return this.writeError('busy');
      if (this.mode === 'rx') this.stopRx();
      return this.writeLine('ok');
    }
    return this.writeError('invalid_param');
  }

  private get(param: string): void {
    const s = this.radio.settings;
    const values: Record<string, string> = {
      mod: 'lora',
      freq: String(s.frequencyHz),
      sf: `sf${s.sf}`,
      bw: String(s.bandwidthHz / 1000),
      cr: `4/${s.codingRate + 4}`,
      prlen: String(s.preambleSymbols),
      crc: s.crc ? 'on' : 'off',
      pwr: String(s.txPowerDbm),
      wdt: String(this.wdtMs),
      sync: this.sync,
      iqi: this.iqi,
    };
    const v = values[param];
    if (v === undefined) return this.writeError('invalid_param');
    this.writeLine(v);
  }

  private set(param: string, value: string): void {
    if (this.mode !== 'idle') return this.writeError('busy');
    const ok = (): void => this.writeLine('ok');
    const bad = (): void => this.writeError('invalid_param');
    switch (param) {
      case 'mod':
        return value === 'lora' ? ok() : bad();
      case 'freq': {
        const f = parseInt10(value, 0, 4_294_967_295);
        const valid =
          f !== undefined &&
          (this.variant === 'rn2483'
            ? (f >= 433_050_000 && f <= 434_790_000) || (f >= 863_000_000 && f <= 870_000_000)
            : f >= 902_000_000 && f <= 928_000_000);
        if (!valid) return bad();
        this.radio.configure({ frequencyHz: f });
        return ok();
      }
      case 'sf': {
        const m = /^sf(\d{1,2})$/.exec(value);
        const sf = m ? Number(m[1]) : 0;
        if (sf < 7 || sf > 12) return bad();
        this.radio.configure({ sf: sf as SpreadingFactor });
        return ok();
      }
      case 'bw': {
        const bw = ({ '125': 125_000, '250': 250_000, '500': 500_000 } as Record<string, LoraBandwidthHz>)[value];
        if (!bw) return bad();
        this.radio.configure({ bandwidthHz: bw });
        return ok();
      }
      case 'cr': {
        const m = /^4\/([5-8])$/.exec(value);
        if (!m) return bad();
        this.radio.configure({ codingRate: (Number(m[1]) - 4) as CodingRate });
        return ok();
      }
      case 'prlen': {
        // The modem accepts 0..65535; the airtime model needs at least 2 symbols.
        const n = parseInt10(value, 2, 65535);
        if (n === undefined) return bad();
        this.radio.configure({ preambleSymbols: n });
        return ok();
      }
      case 'crc':
        if (value !== 'on' && value !== 'off') return bad();
        this.radio.configure({ crc: value === 'on' });
        return ok();
      case 'pwr': {
        const n = this.variant === 'rn2483' ? parseInt10(value, -3, 15) : parseInt10(value, 2, 20);
        if (n === undefined) return bad();
        this.radio.configure({ txPowerDbm: n });
        return ok();
      }
      case 'wdt': {
        const n = parseInt10(value, 0, 4_294_967_295);
        if (n === undefined) return bad();
        this.wdtMs = n;
        return ok();
      }
      case 'sync':
        if (!/^[0-9A-Fa-f]{1,2}$/.test(value)) return bad();
        this.sync = value;
        return ok();
      case 'iqi':
        if (value !== 'on' && value !== 'off') return bad();
        this.iqi = value;
        return ok();
      default:
        return bad();
    }
  }

  private tx(hex: string): void {
    if (!this.macPaused) return this.writeError('busy');
    if (hex.length === 0 || hex.length % 2 !== 0 || hex.length > 2 * RN2483_MAX_PAYLOAD || !/^[0-9A-Fa-f]+$/.test(hex)) {
      return this.writeError('invalid_param');
    }
    if (this.mode !== 'idle') return this.writeError('busy');
    const payload = fromHex(hex);
    const { airtimeMs } = this.radio.transmit(payload);
    this.mode = 'tx';
    this.writeLine('ok');
    this.timer = this.clock.setTimer(airtimeMs, () => {
      this.timer = undefined;
      this.mode = 'idle';
      this.writeLine('radio_tx_ok');
    });
  }

  private rx(windowArg: string): void {
    if (!this.macPaused) return this.writeError('busy');
    const window = parseInt10(windowArg, 0, 65535);
    if (window === undefined) return this.writeError('invalid_param');
    if (this.mode !== 'idle') return this.writeError('busy');
    this.mode = 'rx';
    this.radio.setListening(true);
    this.writeLine('ok');
    const s = this.radio.settings;
    const limitMs = window === 0 ? this.wdtMs : window * symbolTimeMs(s.sf, s.bandwidthHz);
    if (limitMs > 0) {
      this.timer = this.clock.setTimer(limitMs, () => {
        this.timer = undefined;
        this.stopRx();
        this.writeLine('radio_err');
      });
    }
  }

  private stopRx(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.mode = 'idle';
    this.radio.setListening(false);
  }

  protected onAir(frame: AirFrame): void {
    if (this.mode !== 'rx') return;
    this.stopRx();
    this.writeLine(`radio_rx  ${toHex(frame.payload).toUpperCase()}`);
  }

  protected override onClose(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
