/**
 * Bounded JSON parsing for untrusted input: size and nesting limits checked before `JSON.parse`,
 * and every failure an ERR_MALFORMED / ERR_TOO_LARGE. (`JSON.parse` defines `__proto__` as a plain
 * own property, so parsed objects cannot pollute prototypes; code copying them uses own keys only.)
 */
import { err } from '../errors.js';

export interface JsonLimits {
  /** Maximum input length in UTF-16 code units. Default 4 MiB. */
  maxLength?: number;
  /** Maximum nesting depth of arrays/objects. Default 64. */
  maxDepth?: number;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

export const DEFAULT_JSON_LIMITS: Required<JsonLimits> = { maxLength: 4 * 1024 * 1024, maxDepth: 64 };

/** Scans brackets outside strings so that a 1 MB "[[[[..." is refused before JSON.parse recurses. */
function depthOf(text: string, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) throw err('ERR_TOO_LARGE', `JSON nesting deeper than ${maxDepth}`);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

export function parseJson(text: string, what = 'JSON', limits: JsonLimits = {}): JsonValue {
  const maxLength = limits.maxLength ?? DEFAULT_JSON_LIMITS.maxLength;
  const maxDepth = limits.maxDepth ?? DEFAULT_JSON_LIMITS.maxDepth;
  if (typeof text !== 'string') throw err('ERR_MALFORMED', `${what}: expected text`);
  if (text.length > maxLength) throw err('ERR_TOO_LARGE', `${what}: larger than ${maxLength} characters`);
  depthOf(text, maxDepth);
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (e) {
    throw err('ERR_MALFORMED', `${what}: ${e instanceof Error ? e.message : 'invalid JSON'}`);
  }
  return value;
}

/** Parses and requires a JSON object at the top level. */
export function parseJsonObject(text: string, what = 'JSON', limits?: JsonLimits): JsonObject {
  const v = parseJson(text, what, limits);
  if (!isJsonObject(v)) throw err('ERR_MALFORMED', `${what}: expected a JSON object`);
  return v;
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep structural equality of JSON values (object key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual((a as any)[k], (b as any)[k]));
}
