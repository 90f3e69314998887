/**
 * Telemetry 1.0 (docs/protocols.md §Telemetry; our protocol, not a DIF one): a sensor reports
 * readings to a collector.
 *
 *   https://didcomm.org/telemetry/1.0/report  body = one reading, a flat object {ts, temp, hum, ...}
 *   https://didcomm.org/telemetry/1.0/batch   body = {readings: [reading, ...]} (several readings in
 *                                             one message when the link is slow or duty-cycled)
 *
 * Delivery is acknowledged with the DIDComm `please_ack` / `ack` headers (a pure ack is the empty
 * message, src/protocols/empty.ts). The body field names are the compact registry's
 * (src/envelope/compact/registry.ts: ts, temp, hum, pres, batt, co2, lux, readings, seq, sensor,
 * unit, value, volt, rssi, snr shrink to small integers); other names travel as text. A reading is
 * flat: every value is a number, a string, a boolean or null. Parsers bound what they accept.
 */
import { err, isDidcommError } from '../errors.js';
import { isJsonObject, type JsonObject } from '../util/json.js';
import type { Message } from '../message/message.js';

export const TELEMETRY_PIURI = 'https://didcomm.org/telemetry/1.0';
export const REPORT_TYPE = `${TELEMETRY_PIURI}/report`;
export const BATCH_TYPE = `${TELEMETRY_PIURI}/batch`;

/** One reading: field name → value. `ts` (epoch seconds) is the conventional timestamp field. */
export type Reading = Record<string, number | string | boolean | null>;

export const MAX_READING_FIELDS = 64;
export const MAX_FIELD_NAME = 64;
export const MAX_STRING_VALUE = 256;
export const MAX_BATCH_READINGS = 1000;

function invalid(msg: string): never {
  throw err('ERR_INVALID_MESSAGE', `telemetry: ${msg}`);
}

/** Validates one reading (throws ERR_INVALID_MESSAGE) and returns a copy. */
export function checkReading(value: unknown, what = 'reading'): Reading {
  if (!isJsonObject(value)) invalid(`${what} must be an object`);
  const keys = Object.keys(value);
  if (keys.length === 0) invalid(`${what} is empty`);
  if (keys.length > MAX_READING_FIELDS) invalid(`${what} has more than ${MAX_READING_FIELDS} fields`);
  const out: Reading = {};
  for (const k of keys) {
    if (k.length === 0 || k.length > MAX_FIELD_NAME) invalid(`${what}: field names are 1..${MAX_FIELD_NAME} characters`);
    if (k === 'readings') invalid(`${what}: "readings" is reserved for batches`);
    const v = value[k];
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) invalid(`${what}.${k} must be finite`);
    } else if (typeof v === 'string') {
      if (v.length > MAX_STRING_VALUE) invalid(`${what}.${k} is longer than ${MAX_STRING_VALUE}`);
    } else if (typeof v !== 'boolean' && v !== null) invalid(`${what}.${k} must be a number, string, boolean or null (readings are flat)`);
    out[k] = v as Reading[string];
  }
  return out;
}

function base(id: string, type: string, from: string | undefined, to: string | undefined, body: JsonObject): Message {
  const m: Message = { id, type, body };
  if (from !== undefined) m.from = from;
  if (to !== undefined) m.to = [to];
  return m;
}

/** A report carrying one reading. */
export function report(id: string, from: string | undefined, to: string | undefined, reading: Reading): Message {
  return base(id, REPORT_TYPE, from, to, wrapArgument(() => checkReading(reading)) as JsonObject);
}

/** A batch carrying several readings (1..MAX_BATCH_READINGS). */
export function batch(id: string, from: string | undefined, to: string | undefined, readings: Reading[]): Message {
  if (!Array.isArray(readings) || readings.length === 0 || readings.length > MAX_BATCH_READINGS) {
    throw err('ERR_ARGUMENT', `telemetry: a batch holds 1..${MAX_BATCH_READINGS} readings`);
  }
  const checked = readings.map((r, i) => wrapArgument(() => checkReading(r, `readings[${i}]`)));
  return base(id, BATCH_TYPE, from, to, { readings: checked as unknown as JsonObject[] });
}

/** Builder-side checks report bad caller input as ERR_ARGUMENT, not as a bad message. */
function wrapArgument<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isDidcommError(e) && e.code === 'ERR_INVALID_MESSAGE') throw err('ERR_ARGUMENT', e.message);
    throw e;
  }
}

/** Whether `type` is a telemetry message. */
export function isTelemetryType(type: string): boolean {
  return type === REPORT_TYPE || type === BATCH_TYPE;
}

/** The readings of a report (one) or a batch (several), validated. */
export function parseReadings(m: Message): Reading[] {
  if (m.type === REPORT_TYPE) return [checkReading(m.body ?? {}, 'body')];
  if (m.type !== BATCH_TYPE) throw err('ERR_ARGUMENT', `telemetry: not a telemetry message (${String(m.type)})`);
  const list = m.body?.readings;
  if (!Array.isArray(list) || list.length === 0) invalid('body.readings must be a non-empty array');
  if (list.length > MAX_BATCH_READINGS) invalid(`more than ${MAX_BATCH_READINGS} readings`);
  return list.map((r, i) => checkReading(r, `readings[${i}]`));
}
