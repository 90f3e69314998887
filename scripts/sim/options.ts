/**
 * Options of the field simulation (`didcomm-iot sim`, what `npm start` runs), with defaults that
 * work on any machine: a few devices, 10 % frame loss, SF7, 30 s of wall time at 120× speed.
 */
import { err } from '../../src/errors.js';

export interface SimOptions {
  /** Node sensors (full agents on LoRa). */
  devices: number;
  /** Espruino endpoints (the real bundles under the Node host shims). */
  espruino: number;
  /** Frame loss probability on the radio channel. */
  loss: number;
  /** LoRa spreading factor 7..12. */
  sf: number;
  /** Wall-clock seconds during which devices produce readings (then the field drains). */
  duration: number;
  /** PRNG seed: loss pattern, schedules. */
  seed: number;
  /** Simulated seconds per wall second. */
  speed: number;
  /** Virtual ms between two readings of one device (default: what the duty cycle allows). */
  intervalMs: number | undefined;
  /** Print only the summary as one JSON object. */
  json: boolean;
  /** Wall seconds allowed for draining after `duration` (default max(60, 2 × duration)). */
  drainSeconds: number;
  /** Keep the data directory (mediator database) for inspection. */
  keep: boolean;
  /** Directory of the built Espruino bundles (default `<root>/dist/espruino`). */
  bundles: string | undefined;
}

export const DEFAULTS: SimOptions = {
  devices: 4,
  espruino: 2,
  loss: 0.1,
  sf: 7,
  duration: 30,
  seed: 1,
  speed: 120,
  intervalMs: undefined,
  json: false,
  drainSeconds: 0,
  keep: false,
  bundles: undefined,
};

export function checkOptions(o: Partial<SimOptions>): SimOptions {
  const s = { ...DEFAULTS, ...o };
  const int = (v: number, lo: number, hi: number, name: string): void => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw err('ERR_USAGE', `--${name} must be an integer in ${lo}..${hi}`);
  };
  int(s.devices, 0, 200, 'devices');
  int(s.espruino, 0, 50, 'espruino');
  int(s.sf, 7, 12, 'sf');
  int(s.seed, 0, 2 ** 31, 'seed');
  if (!(s.loss >= 0 && s.loss <= 0.6)) throw err('ERR_USAGE', '--loss must be in 0..0.6');
  if (!(s.duration > 0 && s.duration <= 86_400)) throw err('ERR_USAGE', '--duration must be in (0, 86400] seconds');
  if (!(s.speed >= 1 && s.speed <= 10_000)) throw err('ERR_USAGE', '--speed must be in 1..10000');
  if (s.devices + s.espruino === 0) throw err('ERR_USAGE', 'the field needs at least one device');
  if (!s.drainSeconds) s.drainSeconds = Math.max(60, 2 * s.duration);
  return s;
}
