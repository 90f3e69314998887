/**
 * Coordinate Mediation 2.0 (didcomm.org `coordinate-mediation/2.0`, reference/didcomm-spec.md §1.9):
 * a recipient asks a mediator to route for it, then registers the DIDs (or key ids) that
 * `forward.next` will name. Builders for both roles and strict parsers; handlers live in the agent
 * (recipient) and the mediator.
 *
 * Stable API (the agent imports it — do not change signatures):
 *   recipient side, each request carries `return_route: "all"`:
 *     mediateRequest(id, from, to)                          → mediate-request
 *     keylistUpdate(id, from, to, KeylistUpdate[])          → keylist-update
 *     keylistQuery(id, from, to, paginate?)                 → keylist-query
 *     parseMediateGrant(m) → { routingDid, routingDids }    (routing_did as string or array)
 *     parseKeylistUpdateResponse(m) → KeylistUpdated[];  parseKeylist(m) → KeylistPage
 *     isMediateDeny(m)
 *   mediator side, replies threaded to the request (`thid`):
 *     mediateGrant(id, request, from, routingDid)  mediateDeny(id, request, from)
 *     keylistUpdateResponse(id, request, from, KeylistUpdated[])
 *     keylist(id, request, from, recipientDids, pagination?)
 *     parseKeylistUpdate(m) → KeylistUpdate[];  parseKeylistQuery(m) → Paginate | undefined
 *
 * Parsers bound what they accept and throw ERR_INVALID_MESSAGE on a malformed body.
 */
import { err } from '../errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../util/json.js';
import { isDid, isDidUrl } from '../did/document.js';
import type { Message } from '../message/message.js';

export const COORDINATE_MEDIATION_PIURI = 'https://didcomm.org/coordinate-mediation/2.0';
export const MEDIATE_REQUEST_TYPE = `${COORDINATE_MEDIATION_PIURI}/mediate-request`;
export const MEDIATE_GRANT_TYPE = `${COORDINATE_MEDIATION_PIURI}/mediate-grant`;
export const MEDIATE_DENY_TYPE = `${COORDINATE_MEDIATION_PIURI}/mediate-deny`;
export const KEYLIST_UPDATE_TYPE = `${COORDINATE_MEDIATION_PIURI}/keylist-update`;
export const KEYLIST_UPDATE_RESPONSE_TYPE = `${COORDINATE_MEDIATION_PIURI}/keylist-update-response`;
export const KEYLIST_QUERY_TYPE = `${COORDINATE_MEDIATION_PIURI}/keylist-query`;
export const KEYLIST_TYPE = `${COORDINATE_MEDIATION_PIURI}/keylist`;

/** Upper bounds on what a parser accepts from the network. */
export const MAX_KEYLIST_UPDATES = 1_000;
export const MAX_KEYLIST_PAGE = 1_000;

export type KeylistAction = 'add' | 'remove';
export type KeylistResult = 'client_error' | 'server_error' | 'no_change' | 'success';

export interface KeylistUpdate {
  recipientDid: string;
  action: KeylistAction;
}

export interface KeylistUpdated extends KeylistUpdate {
  result: KeylistResult;
}

export interface Paginate {
  limit: number;
  offset: number;
}

export interface Pagination {
  count: number;
  offset: number;
  remaining: number;
}

export interface KeylistPage {
  recipientDids: string[];
  pagination: Pagination | undefined;
}

const RESULTS: readonly KeylistResult[] = ['client_error', 'server_error', 'no_change', 'success'];

function invalid(msg: string): never {
  throw err('ERR_INVALID_MESSAGE', `coordinate-mediation: ${msg}`);
}

function expectType(m: Message, type: string): JsonObject {
  if (m.type !== type) throw err('ERR_ARGUMENT', `coordinate-mediation: expected ${type}, got ${String(m.type)}`);
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

function isRecipientDid(v: unknown): v is string {
  return isDid(v) || isDidUrl(v);
}

function nonNegative(v: JsonValue | undefined, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) invalid(`${what} must be a non-negative integer`);
  return v;
}

function checkUpdates(updates: KeylistUpdate[]): void {
  if (!Array.isArray(updates) || updates.length > MAX_KEYLIST_UPDATES) throw err('ERR_ARGUMENT', `coordinate-mediation: at most ${MAX_KEYLIST_UPDATES} updates`);
  for (const u of updates) {
    if (!isRecipientDid(u.recipientDid) || (u.action !== 'add' && u.action !== 'remove')) throw err('ERR_ARGUMENT', 'coordinate-mediation: bad keylist update');
  }
}

// ---- recipient → mediator ----

export function mediateRequest(id: string, from: string | undefined, to: string): Message {
  return request(id, MEDIATE_REQUEST_TYPE, from, to, {});
}

export function keylistUpdate(id: string, from: string | undefined, to: string, updates: KeylistUpdate[]): Message {
  checkUpdates(updates);
  return request(id, KEYLIST_UPDATE_TYPE, from, to, { updates: updates.map((u) => ({ recipient_did: u.recipientDid, action: u.action })) });
}

export function keylistQuery(id: string, from: string | undefined, to: string, paginate?: Paginate): Message {
  const body: JsonObject = {};
  if (paginate !== undefined) {
    if (!Number.isSafeInteger(paginate.limit) || paginate.limit < 1 || !Number.isSafeInteger(paginate.offset) || paginate.offset < 0) throw err('ERR_ARGUMENT', 'coordinate-mediation: bad paginate');
    body.paginate = { limit: paginate.limit, offset: paginate.offset };
  }
  return request(id, KEYLIST_QUERY_TYPE, from, to, body);
}

export function parseKeylistUpdate(m: Message): KeylistUpdate[] {
  const updates = expectType(m, KEYLIST_UPDATE_TYPE).updates;
  if (!Array.isArray(updates)) invalid('body.updates must be an array');
  if (updates.length > MAX_KEYLIST_UPDATES) invalid(`more than ${MAX_KEYLIST_UPDATES} updates`);
  return updates.map((u, i) => {
    if (!isJsonObject(u)) invalid(`updates[${i}] must be an object`);
    if (!isRecipientDid(u.recipient_did)) invalid(`updates[${i}].recipient_did must be a DID or DID URL`);
    if (u.action !== 'add' && u.action !== 'remove') invalid(`updates[${i}].action must be add or remove`);
    return { recipientDid: u.recipient_did, action: u.action };
  });
}

/** The requested page, or undefined for "all" (the mediator still bounds the page size). */
export function parseKeylistQuery(m: Message): Paginate | undefined {
  const p = expectType(m, KEYLIST_QUERY_TYPE).paginate;
  if (p === undefined || p === null) return undefined;
  if (!isJsonObject(p)) invalid('body.paginate must be an object');
  const limit = nonNegative(p.limit, 'paginate.limit');
  if (limit < 1) invalid('paginate.limit must be at least 1');
  return { limit: Math.min(limit, MAX_KEYLIST_PAGE), offset: nonNegative(p.offset, 'paginate.offset') };
}

// ---- mediator → recipient ----

export function mediateGrant(id: string, req: Message, from: string | undefined, routingDid: string): Message {
  if (!isDid(routingDid)) throw err('ERR_ARGUMENT', 'coordinate-mediation: routingDid must be a DID');
  return reply(id, MEDIATE_GRANT_TYPE, req, from, { routing_did: routingDid });
}

export function mediateDeny(id: string, req: Message, from: string | undefined): Message {
  return reply(id, MEDIATE_DENY_TYPE, req, from, {});
}

export function keylistUpdateResponse(id: string, req: Message, from: string | undefined, updated: KeylistUpdated[]): Message {
  checkUpdates(updated);
  return reply(id, KEYLIST_UPDATE_RESPONSE_TYPE, req, from, {
    updated: updated.map((u) => ({ recipient_did: u.recipientDid, action: u.action, result: u.result })),
  });
}

export function keylist(id: string, req: Message, from: string | undefined, recipientDids: string[], pagination?: Pagination): Message {
  const body: JsonObject = { keys: recipientDids.map((d) => ({ recipient_did: d })) };
  if (pagination !== undefined) body.pagination = { count: pagination.count, offset: pagination.offset, remaining: pagination.remaining };
  return reply(id, KEYLIST_TYPE, req, from, body);
}

/** `routing_did` is a DID in the 2.0 text; some implementations send an array of DIDs — both accepted. */
export function parseMediateGrant(m: Message): { routingDid: string; routingDids: string[] } {
  const r = expectType(m, MEDIATE_GRANT_TYPE).routing_did;
  const list = Array.isArray(r) ? r : [r];
  if (list.length === 0 || list.length > 16 || !list.every((d) => isDid(d))) invalid('body.routing_did must be a DID (or an array of DIDs)');
  const routingDids = list as string[];
  return { routingDid: routingDids[0]!, routingDids };
}

export function isMediateDeny(m: Message): boolean {
  return m.type === MEDIATE_DENY_TYPE;
}

export function parseKeylistUpdateResponse(m: Message): KeylistUpdated[] {
  const updated = expectType(m, KEYLIST_UPDATE_RESPONSE_TYPE).updated;
  if (!Array.isArray(updated) || updated.length > MAX_KEYLIST_UPDATES) invalid('body.updated must be an array');
  return updated.map((u, i) => {
    if (!isJsonObject(u) || !isRecipientDid(u.recipient_did)) invalid(`updated[${i}].recipient_did must be a DID or DID URL`);
    if (u.action !== 'add' && u.action !== 'remove') invalid(`updated[${i}].action must be add or remove`);
    if (typeof u.result !== 'string' || !RESULTS.includes(u.result as KeylistResult)) invalid(`updated[${i}].result must be one of ${RESULTS.join(', ')}`);
    return { recipientDid: u.recipient_did, action: u.action, result: u.result as KeylistResult };
  });
}

export function parseKeylist(m: Message): KeylistPage {
  const b = expectType(m, KEYLIST_TYPE);
  if (!Array.isArray(b.keys) || b.keys.length > MAX_KEYLIST_PAGE) invalid('body.keys must be an array');
  const recipientDids = b.keys.map((k, i) => {
    if (!isJsonObject(k) || !isRecipientDid(k.recipient_did)) invalid(`keys[${i}].recipient_did must be a DID or DID URL`);
    return k.recipient_did;
  });
  let pagination: Pagination | undefined;
  if (b.pagination !== undefined && b.pagination !== null) {
    const p = b.pagination;
    if (!isJsonObject(p)) invalid('body.pagination must be an object');
    pagination = { count: nonNegative(p.count, 'pagination.count'), offset: nonNegative(p.offset, 'pagination.offset'), remaining: nonNegative(p.remaining, 'pagination.remaining') };
  }
  return { recipientDids, pagination };
}

/** Whether `type` belongs to Coordinate Mediation 2.0. */
export function isCoordinateMediationType(type: string): boolean {
  return type.startsWith(`${COORDINATE_MEDIATION_PIURI}/`);
}
