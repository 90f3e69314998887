/**
 * The lossless DIDComm plaintext ↔ compact CBOR mapping (docs/compact.md §4): integer header keys,
 * message-type aliases, binary DIDs and hints, ids as bytes, registered body fields as integers,
 * attachment bytes without base64, unknown headers under their text names. JSON → compact → JSON
 * gives an equal message. Every value has exactly one encoding; a decoder rejects the others.
 */
import { err } from '../../errors.js';
import { fromHex, toHex } from '../../util/bytes.js';
import { fromBase64Lenient, fromBase64url, toBase64, toBase64url } from '../../util/base64url.js';
import { isJsonObject, type JsonValue } from '../../util/json.js';
import { CborTag, type CborMap, type CborValue } from '../../cbor/types.js';
import { validateMessage, type Attachment, type Message } from '../../message/message.js';
import type { EnvelopeContext } from '../types.js';
import { decodeDidRef, encodeDidRef } from './did-ref.js';
import { isDid } from '../../did/document.js';
import {
  ATTACHMENT_KEY, ATTACHMENT_NAME, BODY_SCHEMAS, DATA_BASE64_STD, DATA_BASE64URL, DATA_HASH, DATA_JSON, DATA_JWS, DATA_LINKS,
  FORWARD_TYPE, HEADER_KEY, HEADER_NAME, PLAIN_TYP, RETURN_ROUTE_VALUES, TYPE_ALIAS, TYPE_URI, type BodyField,
} from './registry.js';

const UUID_TAG = 37;
const HEX_ID = /^(?:[0-9a-f]{2}){1,32}$/u;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/u;

function bad(msg: string): never {
  throw err('ERR_MALFORMED', `compact plaintext: ${msg}`);
}

// ---- generic JSON values -------------------------------------------------------------------

export function jsonToCbor(v: JsonValue): CborValue {
  if (Array.isArray(v)) return v.map(jsonToCbor);
  if (isJsonObject(v)) return new Map(Object.entries(v).map(([k, x]) => [k, jsonToCbor(x)]));
  return v;
}

export function cborToJson(v: CborValue, what: string): JsonValue {
  if (Array.isArray(v)) return v.map((x) => cborToJson(x, what));
  if (v instanceof Map) {
    const o: Record<string, JsonValue> = {};
    for (const [k, x] of v) {
      if (typeof k !== 'string') bad(`${what}: object keys must be text`);
      Object.defineProperty(o, k, { value: cborToJson(x, what), enumerable: true, writable: true, configurable: true });
    }
    return o;
  }
  if (v instanceof Uint8Array || v instanceof CborTag) bad(`${what}: bytes or tags are not JSON`);
  if (typeof v === 'number' && !Number.isFinite(v)) bad(`${what}: non-finite number`);
  return v;
}

// ---- ids -------------------------------------------------------------------------------------

export function encodeId(id: string): CborValue {
  if (HEX_ID.test(id)) return fromHex(id);
  if (UUID.test(id)) return new CborTag(UUID_TAG, fromHex(id.replace(/-/gu, '')));
  return id;
}

export function decodeId(v: CborValue, what: string): string {
  if (typeof v === 'string') {
    if (HEX_ID.test(v) || UUID.test(v)) bad(`${what}: non-canonical id encoding`);
    return v;
  }
  if (v instanceof Uint8Array) {
    if (v.length === 0 || v.length > 32) bad(`${what}: bad id length`);
    return toHex(v);
  }
  if (v instanceof CborTag && v.tag === UUID_TAG && v.value instanceof Uint8Array && v.value.length === 16) {
    const h = toHex(v.value);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  return bad(`${what}: bad id`);
}

/** The id a compact forward may omit: the first 8 bytes of SHA-256 of the inner frame, in hex. */
export function derivedForwardId(ctx: EnvelopeContext, inner: Uint8Array): string {
  return toHex(ctx.crypto.sha256(inner).subarray(0, 8));
}

// ---- attachments -----------------------------------------------------------------------------

/** Canonical unpadded base64url text → its bytes, else undefined. */
function canonicalB64url(s: string): Uint8Array | undefined {
  try {
    return fromBase64url(s);
  } catch {
    return undefined;
  }
}

function canonicalB64std(s: string): Uint8Array | undefined {
  try {
    const b = fromBase64Lenient(s);
    return toBase64(b) === s ? b : undefined;
  } catch {
    return undefined;
  }
}

function encodeAttachment(a: Attachment): CborMap {
  const m: CborMap = new Map();
  for (const [name, value] of Object.entries(a)) {
    if (value === undefined) continue;
    const key = ATTACHMENT_KEY.get(name);
    if (name === 'data') {
      const d = new Map<CborValue, CborValue>();
      for (const [dn, dv] of Object.entries(value as Record<string, JsonValue>)) {
        if (dn === 'jws') d.set(DATA_JWS, jsonToCbor(dv));
        else if (dn === 'hash') d.set(DATA_HASH, jsonToCbor(dv));
        else if (dn === 'links') d.set(DATA_LINKS, jsonToCbor(dv));
        else if (dn === 'json') d.set(DATA_JSON, jsonToCbor(dv));
        else if (dn === 'base64') {
          const s = dv as string;
          const url = canonicalB64url(s);
          const std = url ? undefined : canonicalB64std(s);
          if (url) d.set(DATA_BASE64URL, url);
          else if (std) d.set(DATA_BASE64_STD, std);
          else d.set(DATA_BASE64URL, s);
        } else d.set(dn, jsonToCbor(dv));
      }
      m.set(key!, d);
    } else m.set(key ?? name, jsonToCbor(value as JsonValue));
  }
  return m;
}

function decodeAttachment(v: CborValue, i: number): Attachment {
  if (!(v instanceof Map)) bad(`attachments[${i}] must be a map`);
  const a: Record<string, JsonValue> = {};
  for (const [k, x] of v) {
    if (typeof k === 'string') {
      if (ATTACHMENT_KEY.has(k)) bad(`attachments[${i}]: "${k}" must use its integer key`);
      a[k] = cborToJson(x, 'attachment');
      continue;
    }
    const name = ATTACHMENT_NAME.get(k as number);
    if (!name) bad(`attachments[${i}]: unknown key ${String(k)}`);
    if (name !== 'data') {
      a[name] = cborToJson(x, 'attachment');
      continue;
    }
    if (!(x instanceof Map)) bad(`attachments[${i}].data must be a map`);
    const d: Record<string, JsonValue> = {};
    for (const [dk, dv] of x) {
      if (dk === DATA_JWS) d.jws = cborToJson(dv, 'jws');
      else if (dk === DATA_HASH) d.hash = cborToJson(dv, 'hash');
      else if (dk === DATA_LINKS) d.links = cborToJson(dv, 'links');
      else if (dk === DATA_JSON) d.json = cborToJson(dv, 'json');
      else if (dk === DATA_BASE64URL) {
        if (dv instanceof Uint8Array) d.base64 = toBase64url(dv);
        else if (typeof dv === 'string' && canonicalB64url(dv) === undefined && canonicalB64std(dv) === undefined) d.base64 = dv;
        else bad('non-canonical base64 data');
      } else if (dk === DATA_BASE64_STD) {
        if (!(dv instanceof Uint8Array)) bad('base64 data must be bytes');
        const s = toBase64(dv);
        if (canonicalB64url(s) !== undefined) bad('non-canonical base64 data');
        d.base64 = s;
      } else if (typeof dk === 'string' && !['jws', 'hash', 'links', 'json', 'base64'].includes(dk)) d[dk] = cborToJson(dv, 'data');
      else bad(`attachments[${i}].data: bad key ${String(dk)}`);
    }
    a.data = d;
  }
  return a as unknown as Attachment;
}

/** `[{data:{base64}}]` with canonical base64url: the shorthand a bare byte string stands for. */
function attachmentShorthand(atts: Attachment[] | undefined): Uint8Array | undefined {
  if (!atts || atts.length !== 1) return undefined;
  const a = atts[0]!;
  if (Object.keys(a).length !== 1 || !isJsonObject(a.data) || Object.keys(a.data).length !== 1) return undefined;
  return typeof a.data.base64 === 'string' ? canonicalB64url(a.data.base64) : undefined;
}

// ---- body ------------------------------------------------------------------------------------

/** A non-empty array of plain objects (what a `records` field carries in compact form). */
function isRecords(v: unknown): v is Array<Record<string, JsonValue>> {
  return Array.isArray(v) && v.length > 0 && v.every((r) => isJsonObject(r));
}

function encodeBody(ctx: EnvelopeContext, body: Record<string, JsonValue>, schema: BodyField[] | undefined, hintFor: (did: string) => number): CborMap {
  const m: CborMap = new Map();
  for (const [name, value] of Object.entries(body)) {
    const f = schema?.find((x) => x.name === name);
    if (!f) m.set(name, jsonToCbor(value));
    else if (f.kind === 'did' && isDid(value)) m.set(f.key, encodeDidRef(ctx, value, hintFor(value)));
    else if (f.kind === 'did') m.set(name, jsonToCbor(value));
    else if (f.kind === 'records' && isRecords(value)) m.set(f.key, value.map((r) => encodeBody(ctx, r, schema, hintFor)));
    else if (f.kind === 'records') m.set(name, jsonToCbor(value));
    else m.set(f.key, jsonToCbor(value));
  }
  return m;
}

function decodeBody(ctx: EnvelopeContext, v: CborValue, schema: BodyField[] | undefined): Record<string, JsonValue> {
  if (!(v instanceof Map)) bad('body must be a map');
  const body: Record<string, JsonValue> = {};
  for (const [k, x] of v) {
    if (typeof k === 'string') {
      const f = schema?.find((s) => s.name === k);
      if (f && !(f.kind === 'did' && !isDid(x)) && !(f.kind === 'records' && !isRecords(cborToJson(x, 'body')))) bad(`body "${k}" must use its integer key`);
      Object.defineProperty(body, k, { value: cborToJson(x, 'body'), enumerable: true, writable: true, configurable: true });
      continue;
    }
    const f = schema?.find((s) => s.key === k);
    if (!f) bad(`body key ${String(k)} is not registered for this type`);
    if (f.kind === 'records') {
      if (!Array.isArray(x) || x.length === 0) bad(`body.${f.name} must be a non-empty array of maps`);
      body[f.name] = x.map((r) => decodeBody(ctx, r, schema));
    } else body[f.name] = f.kind === 'did' ? decodeDidRef(ctx, x, `body.${f.name}`) : cborToJson(x, 'body');
  }
  return body;
}

// ---- messages --------------------------------------------------------------------------------

export interface PlaintextEncodeOptions {
  /** Omitted `from` is restored as this DID (the envelope's authenticated sender). */
  implicitFrom?: string;
  /** Omitted `to` is restored as `[implicitTo]` (the envelope's recipient). */
  implicitTo?: string;
  /** Hint length to use for a DID the receiver already knows (0 = send it in full). */
  hintFor?: (did: string) => number;
}

export interface EncodedPlaintext {
  map: CborMap;
  fromImplicit: boolean;
  toImplicit: boolean;
}

export function encodePlaintextMap(ctx: EnvelopeContext, message: Message, o: PlaintextEncodeOptions = {}): EncodedPlaintext {
  validateMessage(message);
  const hintFor = o.hintFor ?? (() => 0);
  const m: CborMap = new Map();
  const fromImplicit = o.implicitFrom !== undefined && message.from === o.implicitFrom;
  const toImplicit = o.implicitTo !== undefined && message.to?.length === 1 && message.to[0] === o.implicitTo;
  const shorthand = message.type === FORWARD_TYPE ? attachmentShorthand(message.attachments) : undefined;
  for (const [name, value] of Object.entries(message)) {
    if (value === undefined) continue;
    const key = HEADER_KEY.get(name);
    switch (name) {
      case 'id':
        if (!(shorthand && value === derivedForwardId(ctx, shorthand))) m.set(key!, encodeId(value as string));
        break;
      case 'thid':
      case 'pthid':
        m.set(key!, encodeId(value as string));
        break;
      case 'please_ack':
      case 'ack':
        m.set(key!, (value as string[]).map(encodeId));
        break;
      case 'type':
        m.set(key!, TYPE_ALIAS.get(value as string) ?? (value as string));
        break;
      case 'from':
        if (!fromImplicit) m.set(key!, encodeDidRef(ctx, value as string, hintFor(value as string)));
        break;
      case 'to': {
        if (toImplicit) break;
        const refs = (value as string[]).map((d) => encodeDidRef(ctx, d, hintFor(d)));
        m.set(key!, refs.length === 1 ? refs[0]! : refs);
        break;
      }
      case 'body':
        m.set(key!, encodeBody(ctx, value as Record<string, JsonValue>, BODY_SCHEMAS.get(message.type), hintFor));
        break;
      case 'attachments':
        m.set(key!, shorthand ?? (value as Attachment[]).map(encodeAttachment));
        break;
      case 'return_route':
        m.set(key!, RETURN_ROUTE_VALUES.indexOf(value as 'none'));
        break;
      case 'sent_count':
        if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) m.set(key!, value);
        else m.set(name, jsonToCbor(value as JsonValue));
        break;
      case 'typ':
        m.set(key!, value === PLAIN_TYP ? 0 : (value as string));
        break;
      default:
        m.set(key ?? name, jsonToCbor(value as JsonValue));
    }
  }
  return { map: m, fromImplicit, toImplicit };
}

export interface PlaintextDecodeOptions {
  /** The DID an omitted `from` stands for (required when the frame says `from` is implicit). */
  impliedFrom?: string;
  /** The DID an omitted `to` stands for (required when the frame says `to` is implicit). */
  impliedTo?: string;
  fromImplicit: boolean;
  toImplicit: boolean;
}

export function decodePlaintextMap(ctx: EnvelopeContext, v: CborValue, o: PlaintextDecodeOptions): Message {
  if (!(v instanceof Map)) bad('must be a map');
  const msg: Record<string, unknown> = {};
  let typeUri: string | undefined;
  const typeRaw = v.get(HEADER_KEY.get('type')!);
  if (typeof typeRaw === 'number') {
    typeUri = TYPE_URI.get(typeRaw);
    if (!typeUri) bad(`unknown type alias ${typeRaw}`);
  } else if (typeof typeRaw === 'string') {
    if (TYPE_ALIAS.has(typeRaw)) bad('type must use its alias');
    typeUri = typeRaw;
  } else bad('type is required');
  for (const [k, x] of v) {
    if (typeof k === 'string') {
      const uint = typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
      if (HEADER_KEY.has(k) && !(k === 'sent_count' && !uint)) bad(`header "${k}" must use its integer key`);
      Object.defineProperty(msg, k, { value: cborToJson(x, k), enumerable: true, writable: true, configurable: true });
      continue;
    }
    const name = HEADER_NAME.get(k as number);
    if (!name) bad(`unknown header key ${String(k)}`);
    switch (name) {
      case 'id':
      case 'thid':
      case 'pthid':
        msg[name] = decodeId(x, name);
        break;
      case 'please_ack':
      case 'ack':
        if (!Array.isArray(x)) bad(`${name} must be an array`);
        msg[name] = x.map((i) => decodeId(i, name));
        break;
      case 'type':
        msg.type = typeUri;
        break;
      case 'from':
        if (o.fromImplicit) bad('from is both implicit and present');
        msg.from = decodeDidRef(ctx, x, 'from');
        break;
      case 'to':
        if (o.toImplicit) bad('to is both implicit and present');
        if (Array.isArray(x)) {
          if (x.length === 1) bad('a single recipient is not wrapped in an array');
          msg.to = x.map((d) => decodeDidRef(ctx, d, 'to'));
        } else msg.to = [decodeDidRef(ctx, x, 'to')];
        break;
      case 'body':
        msg.body = decodeBody(ctx, x, BODY_SCHEMAS.get(typeUri!));
        break;
      case 'attachments':
        if (x instanceof Uint8Array) {
          if (typeUri !== FORWARD_TYPE) bad('attachment shorthand is only for forward');
          msg.attachments = [{ data: { base64: toBase64url(x) } }];
        } else if (Array.isArray(x)) msg.attachments = x.map(decodeAttachment);
        else bad('attachments must be an array');
        break;
      case 'return_route':
        if (typeof x !== 'number' || !RETURN_ROUTE_VALUES[x]) bad('bad return_route');
        msg.return_route = RETURN_ROUTE_VALUES[x];
        break;
      case 'sent_count':
        if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) bad('sent_count must be an unsigned integer');
        msg.sent_count = x;
        break;
      case 'typ':
        if (x === 0) msg.typ = PLAIN_TYP;
        else if (typeof x === 'string' && x !== PLAIN_TYP) msg.typ = x;
        else bad('bad typ');
        break;
      default:
        msg[name] = cborToJson(x, name);
    }
  }
  if (o.fromImplicit) {
    if (!o.impliedFrom) bad('from is implicit but the envelope names no sender');
    msg.from = o.impliedFrom;
  }
  if (o.toImplicit) {
    if (!o.impliedTo) bad('to is implicit but the receiver is unknown');
    msg.to = [o.impliedTo];
  }
  if (msg.id === undefined) {
    const atts = msg.attachments as Attachment[] | undefined;
    const inner = typeUri === FORWARD_TYPE && v.get(HEADER_KEY.get('attachments')!) instanceof Uint8Array ? fromBase64url(atts![0]!.data.base64!) : undefined;
    if (!inner) bad('id is required');
    msg.id = derivedForwardId(ctx, inner);
  }
  return validateMessage(msg);
}
