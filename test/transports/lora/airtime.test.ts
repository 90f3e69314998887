import { describe, expect, it } from 'vitest';
import { DidcommError } from '../../../src/errors.js';
import {
  airtimeMs,
  loraSettings,
  payloadSymbols,
  symbolTimeMs,
  usesLowDataRateOptimize,
  type SpreadingFactor,
} from '../../../transports/lora/airtime.js';

// embedded.md §3.2: BW125, CR 4/5, 8-symbol preamble, explicit header, CRC on.
const TABLE: Record<number, number[]> = {
  20: [56.6, 102.9, 185.3, 370.7, 741.4, 1318.9],
  50: [97.5, 174.6, 328.7, 616.4, 1314.8, 2302.0],
  100: [174.3, 307.7, 554.0, 1026.0, 2215.9, 3940.4],
  200: [317.7, 563.7, 1004.5, 1845.2, 4018.2, 7217.2],
  240: [379.1, 666.1, 1188.9, 2172.9, 4755.5, 8527.9],
  255: [399.6, 707.1, 1250.3, 2295.8, 5001.2, 9019.4],
};

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return (e as DidcommError).code;
  }
  throw new Error('expected a DidcommError');
};

describe('LoRa airtime (AN1200.13)', () => {
  it('matches the embedded.md §3.2 table to 0.1 ms', () => {
    for (const [pl, row] of Object.entries(TABLE)) {
      row.forEach((expected, i) => {
        const sf = (7 + i) as SpreadingFactor;
        const t = airtimeMs(Number(pl), loraSettings({ sf }));
        expect(Math.abs(t - expected), `PL ${pl} SF${sf}: ${t}`).toBeLessThanOrEqual(0.05 + 1e-9);
      });
    }
  });

  it('matches the known check values 61.7 ms (23 B SF7) and 1482.8 ms (23 B SF12)', () => {
    expect(airtimeMs(23, loraSettings({ sf: 7 }))).toBeCloseTo(61.7, 1);
    expect(airtimeMs(23, loraSettings({ sf: 12 }))).toBeCloseTo(1482.8, 1);
  });

  it('switches low-data-rate optimisation on exactly when Tsym > 16 ms', () => {
    expect(symbolTimeMs(11, 125_000)).toBeCloseTo(16.384, 6);
    expect(usesLowDataRateOptimize(loraSettings({ sf: 10 }))).toBe(false);
    expect(usesLowDataRateOptimize(loraSettings({ sf: 11 }))).toBe(true);
    expect(usesLowDataRateOptimize(loraSettings({ sf: 12, bandwidthHz: 250_000 }))).toBe(true);
    expect(usesLowDataRateOptimize(loraSettings({ sf: 12, bandwidthHz: 500_000 }))).toBe(false);
    // Forcing it changes the symbol count: SF11 50 B with DE=0 is shorter.
    const forcedOff = airtimeMs(50, loraSettings({ sf: 11, lowDataRateOptimize: false }));
    expect(forcedOff).toBeLessThan(airtimeMs(50, loraSettings({ sf: 11 })));
  });

  it('accounts for coding rate, bandwidth, preamble, implicit header and CRC', () => {
    const base = loraSettings();
    const t = airtimeMs(50, base);
    expect(airtimeMs(50, loraSettings({ codingRate: 4 }))).toBeGreaterThan(t);
    expect(airtimeMs(50, loraSettings({ bandwidthHz: 250_000 }))).toBeCloseTo(t / 2, 6);
    expect(airtimeMs(50, loraSettings({ preambleSymbols: 12 })) - t).toBeCloseTo(4 * symbolTimeMs(7, 125_000), 6);
    const t20 = airtimeMs(20, base);
    expect(airtimeMs(20, loraSettings({ explicitHeader: false }))).toBeLessThan(t20);
    expect(airtimeMs(20, loraSettings({ crc: false }))).toBeLessThan(t20);
    // 8-symbol floor of the payload part: a 0-byte implicit packet has exactly 8 payload symbols.
    expect(payloadSymbols(0, loraSettings({ explicitHeader: false, crc: false }))).toBe(8);
  });

  it('rejects bad payload sizes and settings with ERR_ARGUMENT', () => {
    expect(code(() => airtimeMs(256, loraSettings()))).toBe('ERR_ARGUMENT');
    expect(code(() => airtimeMs(-1, loraSettings()))).toBe('ERR_ARGUMENT');
    expect(code(() => airtimeMs(1.5, loraSettings()))).toBe('ERR_ARGUMENT');
    expect(code(() => loraSettings({ sf: 6 as SpreadingFactor }))).toBe('ERR_ARGUMENT');
    expect(code(() => loraSettings({ bandwidthHz: 62_500 as 125_000 }))).toBe('ERR_ARGUMENT');
    expect(code(() => loraSettings({ codingRate: 5 as 1 }))).toBe('ERR_ARGUMENT');
    expect(code(() => loraSettings({ preambleSymbols: 1 }))).toBe('ERR_ARGUMENT');
    expect(code(() => loraSettings({ frequencyHz: -1 }))).toBe('ERR_ARGUMENT');
  });
});
