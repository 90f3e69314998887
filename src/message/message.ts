/**
 * The DIDComm v2.1 plaintext message (§Plaintext Message Structure, §Message Headers): the model,
 * validation on receipt, and the checks a receiver makes (expiry). `body` is optional on receipt
 * (v2.1 change), unknown headers are kept and ignored, attachments follow §Attachments.
 */
import { err } from '../errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../util/json.js';
import { isDid } from '../did/document.js';

export const PLAIN_MEDIA_TYPE = 'application/didcomm-plain+json';
export const SIGNED_MEDIA_TYPE = 'application/didcomm-signed+json';
export const ENCRYPTED_MEDIA_TYPE = 'application/didcomm-encrypted+json';

export interface AttachmentData {
  jws?: JsonValue;
  hash?: string;
  links?: string[];
  base64?: string;
  json?: JsonValue;
}

export interface Attachment {
  id?: string;
  description?: string;
  filename?: string;
  media_type?: string;
  format?: string;
  lastmod_time?: number;
  byte_count?: number;
  data: AttachmentData;
  [extra: string]: unknown;
}

export interface Message {
  id: string;
  type: string;
  typ?: string;
  from?: string;
  to?: string[];
  thid?: string;
  pthid?: string;
  created_time?: number;
  expires_time?: number;
  body?: JsonObject;
  attachments?: Attachment[];
  from_prior?: string;
  please_ack?: string[];
  ack?: string[];
  return_route?: 'none' | 'all' | 'thread';
  [header: string]: unknown;
}

const MAX_ID = 256;
const MAX_TYPE = 1024;
const ID_RE = /^[\x21-\x7e]+$/u;

function fail(msg: string): never {
  throw err('ERR_INVALID_MESSAGE', msg);
}

function checkString(m: JsonObject, key: string, max = MAX_ID): void {
  const v = m[key];
  if (v === undefined) return;
  if (typeof v !== 'string' || v.length === 0 || v.length > max) fail(`"${key}" must be a non-empty string of at most ${max} characters`);
}

function checkTime(m: JsonObject, key: string): void {
  const v = m[key];
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`"${key}" must be a non-negative integer (seconds since the epoch)`);
}

function checkStringArray(m: JsonObject, key: string, each?: (s: string) => boolean): void {
  const v = m[key];
  if (v === undefined) return;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && (!each || each(x)))) fail(`"${key}" must be an array of strings`);
}

/** DIDs in from/to are DIDs or DID URLs without a fragment. */
function isDidNoFragment(s: string): boolean {
  const base = s.split(/[?/]/u)[0]!;
  return !s.includes('#') && isDid(base);
}

function checkAttachment(a: JsonValue, i: number): void {
  if (!isJsonObject(a)) fail(`attachments[${i}] must be an object`);
  for (const k of ['id', 'description', 'filename', 'media_type', 'format']) {
    if (a[k] !== undefined && typeof a[k] !== 'string') fail(`attachments[${i}].${k} must be a string`);
  }
  for (const k of ['lastmod_time', 'byte_count']) {
    const v = a[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)) fail(`attachments[${i}].${k} must be a non-negative integer`);
  }
  const d = a.data;
  if (!isJsonObject(d)) fail(`attachments[${i}].data must be an object`);
  const kinds = ['jws', 'hash', 'links', 'base64', 'json'].filter((k) => d[k] !== undefined);
  if (kinds.length === 0) fail(`attachments[${i}].data needs one of jws, hash, links, base64, json`);
  if (d.base64 !== undefined && typeof d.base64 !== 'string') fail(`attachments[${i}].data.base64 must be a string`);
  if (d.hash !== undefined && typeof d.hash !== 'string') fail(`attachments[${i}].data.hash must be a string`);
  if (d.links !== undefined) {
    if (!Array.isArray(d.links) || !d.links.every((l) => typeof l === 'string')) fail(`attachments[${i}].data.links must be an array of strings`);
    if (d.hash === undefined) fail(`attachments[${i}].data.hash is required with links`);
  }
}

/**
 * Validates a received plaintext message and returns it typed. Unknown headers are kept.
 * Throws ERR_INVALID_MESSAGE with the first rule broken.
 */
export function validateMessage(value: unknown, options: { requireBody?: boolean } = {}): Message {
  if (!isJsonObject(value)) fail('a plaintext message must be a JSON object');
  const m = value;
  if (typeof m.id !== 'string' || m.id.length === 0 || m.id.length > MAX_ID || !ID_RE.test(m.id)) fail('"id" is required: a string of printable characters, at most 256');
  if (typeof m.type !== 'string' || m.type.length === 0 || m.type.length > MAX_TYPE) fail('"type" is required: a message type URI');
  if (m.typ !== undefined) {
    if (typeof m.typ !== 'string' || (m.typ !== PLAIN_MEDIA_TYPE && m.typ !== 'didcomm-plain+json')) fail(`"typ" of a plaintext must be ${PLAIN_MEDIA_TYPE}`);
  }
  if (m.from !== undefined && (typeof m.from !== 'string' || !isDidNoFragment(m.from))) fail('"from" must be a DID without a fragment');
  checkStringArray(m, 'to', isDidNoFragment);
  checkString(m, 'thid');
  checkString(m, 'pthid');
  checkTime(m, 'created_time');
  checkTime(m, 'expires_time');
  if (m.body !== undefined && !isJsonObject(m.body)) fail('"body" must be a JSON object');
  if (options.requireBody && m.body === undefined) fail('"body" is required');
  if (m.attachments !== undefined) {
    if (!Array.isArray(m.attachments)) fail('"attachments" must be an array');
    m.attachments.forEach(checkAttachment);
  }
  if (m.from_prior !== undefined && (typeof m.from_prior !== 'string' || m.from_prior.split('.').length !== 3)) fail('"from_prior" must be a compact JWT');
  checkStringArray(m, 'please_ack');
  checkStringArray(m, 'ack');
  if (m.return_route !== undefined && m.return_route !== 'none' && m.return_route !== 'all' && m.return_route !== 'thread') fail('"return_route" must be none, all or thread');
  return m as Message;
}

/** The thread id: `thid`, or the message's own id when absent (§Threads). */
export function threadId(m: Message): string {
  return m.thid ?? m.id;
}

/**
 * Throws ERR_EXPIRED if `expires_time` has passed at `nowSeconds`, or if `created_time` lies more
 * than `skewSeconds` in the future (a clock-skew bound, not a spec rule; default 5 minutes).
 */
export function checkTimes(m: Message, nowSeconds: number, skewSeconds = 300): void {
  if (m.expires_time !== undefined && m.expires_time < nowSeconds) {
    throw err('ERR_EXPIRED', `message ${m.id} expired at ${m.expires_time} (now ${nowSeconds})`);
  }
  if (m.created_time !== undefined && m.created_time > nowSeconds + skewSeconds) {
    throw err('ERR_EXPIRED', `message ${m.id} created in the future (${m.created_time}, now ${nowSeconds})`);
  }
}
