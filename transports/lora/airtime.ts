/**
 * LoRa modulation settings and time on air, per Semtech AN1200.13 "LoRa Modem Designer's Guide"
 * and the SX1272/76 datasheets §4.1.1.7 (formula and check values in embedded.md §3.2):
 *
 *   Tsym          = 2^SF / BW
 *   Tpreamble     = (Npreamble + 4.25) · Tsym
 *   payloadSymbNb = 8 + max(ceil((8·PL − 4·SF + 28 + 16·CRC − 20·IH) / (4·(SF − 2·DE))) · (CR + 4), 0)
 *   T             = Tpreamble + payloadSymbNb · Tsym
 *
 * DE (low-data-rate optimisation) is switched on automatically when Tsym > 16 ms (SF11/SF12 at
 * 125 kHz, SF12 at 250 kHz), as LoRa modems do, unless forced. CR is 1..4 for 4/5..4/8.
 */
import { err } from '../../src/errors.js';

export type SpreadingFactor = 7 | 8 | 9 | 10 | 11 | 12;
export type LoraBandwidthHz = 125_000 | 250_000 | 500_000;
/** Coding rate 4/(4+cr): 1 = 4/5 ... 4 = 4/8. */
export type CodingRate = 1 | 2 | 3 | 4;

export interface LoraModulation {
  readonly sf: SpreadingFactor;
  readonly bandwidthHz: LoraBandwidthHz;
  readonly codingRate: CodingRate;
  /** Programmed preamble length in symbols (the radio adds 4.25). */
  readonly preambleSymbols: number;
  /** Explicit header (the usual mode); false = implicit header. */
  readonly explicitHeader: boolean;
  /** Payload CRC on. */
  readonly crc: boolean;
  /** 'auto' (default) = on when Tsym > 16 ms. */
  readonly lowDataRateOptimize: 'auto' | boolean;
}

/** Modulation plus carrier: what two radios must share to hear each other. */
export interface LoraRadioSettings extends LoraModulation {
  readonly frequencyHz: number;
  /** Transmit power, informational (the channel simulator's link model may use it). */
  readonly txPowerDbm: number;
}

/** Largest LoRa PHY payload (the length field is one byte). */
export const LORA_MAX_PAYLOAD = 255;

export const DEFAULT_LORA_SETTINGS: LoraRadioSettings = Object.freeze({
  frequencyHz: 868_100_000,
  sf: 7,
  bandwidthHz: 125_000,
  codingRate: 1,
  preambleSymbols: 8,
  explicitHeader: true,
  crc: true,
  lowDataRateOptimize: 'auto',
  txPowerDbm: 14,
});

const BANDWIDTHS: readonly number[] = [125_000, 250_000, 500_000];

/** Fills defaults and validates; bad values are ERR_ARGUMENT. */
export function loraSettings(partial: Partial<LoraRadioSettings> = {}): LoraRadioSettings {
  const s: LoraRadioSettings = { ...DEFAULT_LORA_SETTINGS, ...partial };
  if (!Number.isInteger(s.sf) || s.sf < 7 || s.sf > 12) throw err('ERR_ARGUMENT', `sf: expected 7..12, got ${s.sf}`);
  if (!BANDWIDTHS.includes(s.bandwidthHz)) {
    throw err('ERR_ARGUMENT', `bandwidthHz: expected 125000, 250000 or 500000, got ${s.bandwidthHz}`);
  }
  if (!Number.isInteger(s.codingRate) || s.codingRate < 1 || s.codingRate > 4) {
    throw err('ERR_ARGUMENT', `codingRate: expected 1..4 (4/5..4/8), got ${s.codingRate}`);
  }
  if (!Number.isInteger(s.preambleSymbols) || s.preambleSymbols < 2 || s.preambleSymbols > 65535) {
    throw err('ERR_ARGUMENT', `preambleSymbols: expected 2..65535, got ${s.preambleSymbols}`);
  }
  if (!Number.isFinite(s.frequencyHz) || s.frequencyHz <= 0) {
    throw err('ERR_ARGUMENT', `frequencyHz: expected a positive number, got ${s.frequencyHz}`);
  }
  if (typeof s.explicitHeader !== 'boolean' || typeof s.crc !== 'boolean') {
    throw err('ERR_ARGUMENT', 'explicitHeader and crc must be booleans');
  }
  if (s.lowDataRateOptimize !== 'auto' && typeof s.lowDataRateOptimize !== 'boolean') {
    throw err('ERR_ARGUMENT', "lowDataRateOptimize: expected 'auto' or a boolean");
  }
  return Object.freeze(s);
}

/** Symbol time in milliseconds. */
export function symbolTimeMs(sf: SpreadingFactor, bandwidthHz: LoraBandwidthHz): number {
  return (2 ** sf / bandwidthHz) * 1000;
}

/** Whether the radio uses low-data-rate optimisation for these settings. */
export function usesLowDataRateOptimize(m: LoraModulation): boolean {
  if (m.lowDataRateOptimize !== 'auto') return m.lowDataRateOptimize;
  return symbolTimeMs(m.sf, m.bandwidthHz) > 16;
}

/** Number of payload symbols (header included), AN1200.13 eq. "payloadSymbNb". */
export function payloadSymbols(payloadBytes: number, m: LoraModulation): number {
  const de = usesLowDataRateOptimize(m) ? 1 : 0;
  const ih = m.explicitHeader ? 0 : 1;
  const crc = m.crc ? 1 : 0;
  const num = 8 * payloadBytes - 4 * m.sf + 28 + 16 * crc - 20 * ih;
  const den = 4 * (m.sf - 2 * de);
  return 8 + Math.max(Math.ceil(num / den) * (m.codingRate + 4), 0);
}

/** Time on air of one LoRa packet with `payloadBytes` of PHY payload, in milliseconds. */
export function airtimeMs(payloadBytes: number, m: LoraModulation): number {
  if (!Number.isInteger(payloadBytes) || payloadBytes < 0 || payloadBytes > LORA_MAX_PAYLOAD) {
    throw err('ERR_ARGUMENT', `payloadBytes: expected 0..${LORA_MAX_PAYLOAD}, got ${payloadBytes}`);
  }
  const tsym = symbolTimeMs(m.sf, m.bandwidthHz);
  const preamble = (m.preambleSymbols + 4.25) * tsym;
  return preamble + payloadSymbols(payloadBytes, m) * tsym;
}

/** Same carrier, spreading factor and bandwidth: the radios can hear (and collide with) each other. */
export function sameLoraChannel(a: LoraRadioSettings, b: LoraRadioSettings): boolean {
  return a.frequencyHz === b.frequencyHz && a.sf === b.sf && a.bandwidthHz === b.bandwidthHz;
}
