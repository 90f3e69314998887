/**
 * Message Pickup 3.0 (didcomm.org `messagepickup/3.0`, reference/didcomm-spec.md §1.10): a
 * recipient picks up the messages a mediator queued for it. Builders for both roles and strict
 * parsers for every message; handlers live in the agent (recipient) and the mediator.
 *
 * Stable API (the agent imports it — do not change signatures):
 *   recipient side, each request carries `return_route: "all"`:
 *     statusRequest(id, from, to, { recipientDid? })           → status-request
 *     deliveryRequest(id, from, to, limit, { recipientDid? })  → delivery-request
 *     messagesReceived(id, from, to, messageIds)               → messages-received
 *     liveDeliveryChange(id, from, to, liveDelivery)           → live-delivery-change
 *     parseStatus(m) → PickupStatus;  parseDelivery(m) → PickupDelivery
 *   mediator side, replies threaded to the request (`thid`):
 *     status(id, request, from, PickupStatus)                  → status
 *     delivery(id, request, from, DeliveredMessage[], { recipientDid? }) → delivery
 *     parseStatusRequest / parseDeliveryRequest / parseMessagesReceived / parseLiveDeliveryChange
 *   LIVE_MODE_NOT_SUPPORTED: the problem code for live mode on a non-persistent transport.
 *
 * Delivery attachments carry one queued (encrypted) message each: `{id, data: {base64}}` with the
 * base64url of the frame's bytes — JSON envelopes as their UTF-8 JSON text, compact frames as the
 * raw frame (which the compact plaintext carries as a bare byte string). `data.json` is accepted
 * on parse too. Every parser bounds what it accepts (counts, lengths) and throws
 * ERR_INVALID_MESSAGE on a malformed body.
 */
import { err } from '../errors.js';
import { fromUtf8, utf8 } from '../util/bytes.js';
import { fromBase64Lenient, toBase64url } from '../util/base64url.js';
import { isJsonObject, parseJsonObject, type JsonObject } from '../util/json.js';
import { isDid, isDidUrl } from '../did/document.js';
import { sniffFormat } from '../envelope/compact/frame.js';
import type { Attachment, Message } from '../message/message.js';

export const PICKUP_PIURI = 'https://didcomm.org/messagepickup/3.0';
export const STATUS_REQUEST_TYPE = `${PICKUP_PIURI}/status-request`;
export const STATUS_TYPE = `${PICKUP_PIURI}/status`;
export const DELIVERY_REQUEST_TYPE = `${PICKUP_PIURI}/delivery-request`;
export const DELIVERY_TYPE = `${PICKUP_PIURI}/delivery`;
export const MESSAGES_RECEIVED_TYPE = `${PICKUP_PIURI}/messages-received`;
export const LIVE_DELIVERY_CHANGE_TYPE = `${PICKUP_PIURI}/live-delivery-change`;

/** Problem code when live mode is asked on a transport that cannot carry it (pickup 3.0 §Live Mode). */
export const LIVE_MODE_NOT_SUPPORTED = 'e.m.live-mode-not-supported';

/** Upper bounds on what a parser accepts from the network. */
export const MAX_DELIVERY_LIMIT = 10_000;
export const MAX_ID_LIST = 10_000;
const MAX_ATTACHMENT_ID = 256;

export interface PickupStatus {
  messageCount: number;
  recipientDid?: string;
  longestWaitedSeconds?: number;
  newestReceivedTime?: number;
  oldestReceivedTime?: number;
  totalBytes?: number;
  liveDelivery?: boolean;
}

/** One queued message: the mediator's opaque id (acknowledged in messages-received) and its bytes. */
export interface DeliveredMessage {
  id: string;
  bytes: Uint8Array;
}

export interface PickupDelivery {
  recipientDid: string | undefined;
  messages: DeliveredMessage[];
}

function invalid(msg: string): never {
  throw err('ERR_INVALID_MESSAGE', `pickup: ${msg}`);
}

function expectType(m: Message, type: string): JsonObject {
  if (m.type !== type) throw err('ERR_ARGUMENT', `pickup: expected ${type}, got ${String(m.type)}`);
  return m.body ?? {};
}

function request(id: string, type: string, from: string | undefined, to: string, body: JsonObject): Message {
  const m: Message = { id, type, to: [to], body, return_route: 'all' };
  if (from !== undefined) m.from = from;
  return m;
}

function reply(id: string, type: string, req: Message, from: string | undefined, body: JsonObject): Message {
  const m: Message = { id, type, thid: req.thid ?? req.id, body };
  if (from !== undefined) m.from = from;
  if (req.from !== undefined) m.to = [req.from];
  return m;
}

function optionalRecipientDid(b: JsonObject): string | undefined {
  const r = b.recipient_did;
  if (r === undefined || r === null) return undefined;
  if (!isDid(r) && !isDidUrl(r)) invalid('body.recipient_did must be a DID or DID URL');
  return r;
}

function optionalCount(b: JsonObject, key: string): number | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) invalid(`body.${key} must be a non-negative integer`);
  return v;
}

// ---- recipient → mediator ----

export function statusRequest(id: string, from: string | undefined, to: string, o: { recipientDid?: string } = {}): Message {
  const body: JsonObject = {};
  if (o.recipientDid !== undefined) body.recipient_did = o.recipientDid;
  return request(id, STATUS_REQUEST_TYPE, from, to, body);
}

export function deliveryRequest(id: string, from: string | undefined, to: string, limit: number, o: { recipientDid?: string } = {}): Message {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_DELIVERY_LIMIT) throw err('ERR_ARGUMENT', `pickup: limit must be 1..${MAX_DELIVERY_LIMIT}`);
  const body: JsonObject = { limit };
  if (o.recipientDid !== undefined) body.recipient_did = o.recipientDid;
  return request(id, DELIVERY_REQUEST_TYPE, from, to, body);
}

export function messagesReceived(id: string, from: string | undefined, to: string, messageIds: string[]): Message {
  if (!Array.isArray(messageIds) || messageIds.length > MAX_ID_LIST || !messageIds.every((x) => typeof x === 'string')) throw err('ERR_ARGUMENT', 'pickup: messageIds must be an array of strings');
  return request(id, MESSAGES_RECEIVED_TYPE, from, to, { message_id_list: [...messageIds] });
}

export function liveDeliveryChange(id: string, from: string | undefined, to: string, liveDelivery: boolean): Message {
  return request(id, LIVE_DELIVERY_CHANGE_TYPE, from, to, { live_delivery: liveDelivery === true });
}

export function parseStatusRequest(m: Message): { recipientDid: string | undefined } {
  return { recipientDid: optionalRecipientDid(expectType(m, STATUS_REQUEST_TYPE)) };
}

export function parseDeliveryRequest(m: Message): { limit: number; recipientDid: string | undefined } {
  const b = expectType(m, DELIVERY_REQUEST_TYPE);
  const limit = b.limit;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) invalid('body.limit is required: a positive integer');
  return { limit: Math.min(limit, MAX_DELIVERY_LIMIT), recipientDid: optionalRecipientDid(b) };
}

export function parseMessagesReceived(m: Message): string[] {
  const list = expectType(m, MESSAGES_RECEIVED_TYPE).message_id_list;
  if (!Array.isArray(list)) invalid('body.message_id_list must be an array');
  if (list.length > MAX_ID_LIST) invalid(`body.message_id_list holds more than ${MAX_ID_LIST} ids`);
  const ids: string[] = [];
  for (const x of list) {
    if (typeof x !== 'string' || x.length === 0 || x.length > MAX_ATTACHMENT_ID) invalid('body.message_id_list must hold non-empty strings');
    ids.push(x);
  }
  return ids;
}

export function parseLiveDeliveryChange(m: Message): boolean {
  const v = expectType(m, LIVE_DELIVERY_CHANGE_TYPE).live_delivery;
  if (typeof v !== 'boolean') invalid('body.live_delivery must be a boolean');
  return v;
}

// ---- mediator → recipient ----

export function status(id: string, req: Message, from: string | undefined, s: PickupStatus): Message {
  if (!Number.isSafeInteger(s.messageCount) || s.messageCount < 0) throw err('ERR_ARGUMENT', 'pickup: messageCount must be a non-negative integer');
  const body: JsonObject = { message_count: s.messageCount };
  if (s.recipientDid !== undefined) body.recipient_did = s.recipientDid;
  if (s.longestWaitedSeconds !== undefined) body.longest_waited_seconds = s.longestWaitedSeconds;
  if (s.newestReceivedTime !== undefined) body.newest_received_time = s.newestReceivedTime;
  if (s.oldestReceivedTime !== undefined) body.oldest_received_time = s.oldestReceivedTime;
  if (s.totalBytes !== undefined) body.total_bytes = s.totalBytes;
  if (s.liveDelivery !== undefined) body.live_delivery = s.liveDelivery;
  return reply(id, STATUS_TYPE, req, from, body);
}

/** Bytes of a queued message as an attachment: base64url of the frame (JSON text or compact frame). */
export function deliveryAttachment(msg: DeliveredMessage): Attachment {
  return { id: msg.id, data: { base64: toBase64url(msg.bytes) } };
}

export function delivery(id: string, req: Message, from: string | undefined, messages: DeliveredMessage[], o: { recipientDid?: string } = {}): Message {
  if (!Array.isArray(messages) || messages.length === 0) throw err('ERR_ARGUMENT', 'pickup: a delivery carries at least one message (send a status otherwise)');
  const body: JsonObject = {};
  if (o.recipientDid !== undefined) body.recipient_did = o.recipientDid;
  const m = reply(id, DELIVERY_TYPE, req, from, body);
  m.attachments = messages.map(deliveryAttachment);
  return m;
}

export function parseStatus(m: Message): PickupStatus {
  const b = expectType(m, STATUS_TYPE);
  const messageCount = optionalCount(b, 'message_count');
  if (messageCount === undefined) invalid('body.message_count is required');
  const s: PickupStatus = { messageCount };
  const recipientDid = optionalRecipientDid(b);
  if (recipientDid !== undefined) s.recipientDid = recipientDid;
  const lw = optionalCount(b, 'longest_waited_seconds');
  if (lw !== undefined) s.longestWaitedSeconds = lw;
  const nt = optionalCount(b, 'newest_received_time');
  if (nt !== undefined) s.newestReceivedTime = nt;
  const ot = optionalCount(b, 'oldest_received_time');
  if (ot !== undefined) s.oldestReceivedTime = ot;
  const tb = optionalCount(b, 'total_bytes');
  if (tb !== undefined) s.totalBytes = tb;
  if (b.live_delivery !== undefined) {
    if (typeof b.live_delivery !== 'boolean') invalid('body.live_delivery must be a boolean');
    s.liveDelivery = b.live_delivery;
  }
  return s;
}

/** The bytes of one delivery attachment: `data.base64` (base64url or standard) or `data.json`. */
export function attachmentBytes(a: Attachment): Uint8Array {
  const data = a.data;
  if (!isJsonObject(data)) invalid('attachment without data');
  let bytes: Uint8Array;
  if (typeof data.base64 === 'string') bytes = fromBase64Lenient(data.base64, 'pickup attachment');
  else if (isJsonObject(data.json)) bytes = utf8(JSON.stringify(data.json));
  else invalid('attachment needs data.base64 or data.json');
  const format = sniffFormat(bytes);
  if (format === undefined) invalid('attachment is not a DIDComm message');
  if (format === 'json' && typeof parseJsonObject(fromUtf8(bytes), 'delivered message').ciphertext !== 'string') invalid('only encrypted messages may be delivered');
  return bytes;
}

export function parseDelivery(m: Message): PickupDelivery {
  const b = expectType(m, DELIVERY_TYPE);
  const atts = m.attachments;
  if (!Array.isArray(atts) || atts.length === 0) invalid('a delivery needs attachments');
  if (atts.length > MAX_DELIVERY_LIMIT) invalid(`a delivery holds more than ${MAX_DELIVERY_LIMIT} attachments`);
  const messages: DeliveredMessage[] = atts.map((a) => {
    if (typeof a.id !== 'string' || a.id.length === 0 || a.id.length > MAX_ATTACHMENT_ID) invalid('each delivery attachment needs an id');
    return { id: a.id, bytes: attachmentBytes(a) };
  });
  return { recipientDid: optionalRecipientDid(b), messages };
}

/** Whether `type` belongs to Message Pickup 3.0. */
export function isPickupType(type: string): boolean {
  return type.startsWith(`${PICKUP_PIURI}/`);
}
