/**
 * The compact plaintext messages the thin endpoint speaks (docs/compact.md §4; Node reference
 * src/envelope/compact/plaintext.ts and registry.ts): integer header keys, type aliases, ids as
 * byte strings, body fields under their registered integer keys. Frames carry marker 0xE3
 * (from and to implicit: the pairwise context already names both ends).
 */
import { CMap, Raw, Tag, type CValue } from './cbor.js';

/** Plaintext frame marker with from and to implicit (frame.ts MARKER.PLAIN_BOTH_IMPLICIT). */
export const PLAIN = 0xe3;

/** Header keys (registry.ts HEADER_KEYS). */
export const H_ID = 1;
export const H_TYPE = 2;
export const H_FROM = 3;
export const H_TO = 4;
export const H_THID = 5;
export const H_CREATED = 7;
export const H_BODY = 9;
export const H_ATTACHMENTS = 10;
export const H_PLEASE_ACK = 12;
export const H_ACK = 13;

/** Type aliases (registry.ts TYPE_ALIASES). */
export const T_EMPTY = 0;
export const T_REPORT = 1;
export const T_REQUEST = 3;
export const T_RESULT = 4;
export const T_PING = 6;
export const T_PING_RESPONSE = 7;
export const T_FORWARD = 8;

/** Telemetry body field keys (registry.ts TELEMETRY_FIELDS). */
const TELEMETRY: Record<string, number> = {
  ts: 1,
  temp: 2,
  hum: 3,
  pres: 4,
  batt: 5,
  co2: 6,
  lux: 7,
  readings: 8,
  seq: 9,
  sensor: 10,
  unit: 11,
  value: 12,
  volt: 13,
  rssi: 14,
  snr: 15,
};

/** Command body field keys (registry.ts COMMAND_FIELDS). */
export const C_COMMAND = 1;
export const C_TARGET = 2;
export const C_ARGS = 3;
export const C_STATUS = 4;
export const C_RESULT = 5;

/** A JSON value as CBOR (objects become text-keyed maps); non-finite numbers become null. */
export function fromJson(v: unknown): CValue {
  if (typeof v === 'number') return isFinite(v) ? v : null;
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
  if (Array.isArray(v)) {
    const a: CValue[] = [];
    for (let i = 0; i < v.length; i++) a.push(fromJson(v[i]));
    return a;
  }
  if (v && typeof v === 'object') {
    const m = new CMap();
    const o = v as Record<string, unknown>;
    for (const k in o) if (o[k] !== undefined) m.set(k, fromJson(o[k]));
    return m;
  }
  return null;
}

/** CBOR → plain JS for command arguments (text-keyed maps become objects). */
export function toJs(v: CValue | undefined): unknown {
  if (v instanceof CMap) {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < v.k.length; i++) o[String(v.k[i])] = toJs(v.v[i]);
    return o;
  }
  if (Array.isArray(v)) {
    const a: unknown[] = [];
    for (let i = 0; i < v.length; i++) a.push(toJs(v[i]));
    return a;
  }
  if (v instanceof Tag || v instanceof Raw) return undefined;
  return v;
}

/** A 4-byte id from a 32-bit counter (8 lowercase hex characters in JSON). */
export function idBytes(n: number): Uint8Array {
  const b = new Uint8Array(4);
  for (let i = 3; i >= 0; i--, n = Math.floor(n / 256)) b[i] = n % 256;
  return b;
}

/** The telemetry body: registered names under their integer keys, others as text. */
export function telemetryBody(values: Record<string, unknown>): CMap {
  const m = new CMap();
  for (const k in values) {
    const v = values[k];
    if (v === undefined || (typeof v === 'number' && !isFinite(v))) continue;
    m.set(TELEMETRY[k] || k, fromJson(v));
  }
  return m;
}

/** True when `v` is a valid compact id: bytes (1–32), UUID tag 37, or non-empty text. */
export function isId(v: CValue | undefined): boolean {
  if (v instanceof Uint8Array) return v.length > 0 && v.length <= 32;
  if (v instanceof Tag) return v.tag === 37 && v.value instanceof Uint8Array && v.value.length === 16;
  return typeof v === 'string' && v.length > 0 && v.length <= 256;
}
