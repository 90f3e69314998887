/**
 * Discover Features 2.0 (DIDComm v2.1 §Discover Features): `queries` with feature-type/match
 * (`*` wildcards) and `disclose` answering with the matching features. Besides protocols,
 * goal-codes and headers we disclose the transport constraint `max_receive_bytes`
 * (§Transports) and the envelope formats we accept (feature-type `accept`: `didcomm/v2`,
 * `didcomm/compact/1`), which the agent uses to pick JSON or compact per peer.
 */
import { err } from '../errors.js';
import { isJsonObject } from '../util/json.js';
import type { Message } from '../message/message.js';

export const QUERIES_TYPE = 'https://didcomm.org/discover-features/2.0/queries';
export const DISCLOSE_TYPE = 'https://didcomm.org/discover-features/2.0/disclose';
export const DISCOVER_FEATURES_PIURI = 'https://didcomm.org/discover-features/2.0';

export interface Feature {
  'feature-type': string;
  id: string;
  roles?: string[];
}

export interface FeatureQuery {
  'feature-type': string;
  match: string;
}

export const ACCEPT_JSON = 'didcomm/v2';
export const ACCEPT_COMPACT = 'didcomm/compact/1';

export function queries(id: string, from: string | undefined, to: string, q: FeatureQuery[]): Message {
  const m: Message = { id, type: QUERIES_TYPE, to: [to], body: { queries: q as unknown as Message['body'] } as Message['body'] };
  if (from !== undefined) m.from = from;
  return m;
}

function matches(pattern: string, id: string): boolean {
  if (pattern.length > 512) return false;
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/gu, '\\$&')).join('.*') + '$', 'u');
  return re.test(id);
}

export function parseQueries(m: Message): FeatureQuery[] {
  const q = m.body?.queries;
  if (!Array.isArray(q) || q.length > 64) throw err('ERR_INVALID_MESSAGE', 'discover-features: body.queries must be an array');
  return q.filter((x) => isJsonObject(x) && typeof x['feature-type'] === 'string' && typeof x.match === 'string') as unknown as FeatureQuery[];
}

/** The features matching the queries; unknown feature types are ignored, as the spec requires. */
export function answer(features: Feature[], q: FeatureQuery[]): Feature[] {
  const out: Feature[] = [];
  for (const f of features) {
    if (q.some((x) => x['feature-type'] === f['feature-type'] && matches(x.match, f.id)) && !out.includes(f)) out.push(f);
  }
  return out;
}

export function disclose(id: string, queriesMessage: Message, from: string | undefined, disclosures: Feature[]): Message {
  const m: Message = { id, type: DISCLOSE_TYPE, thid: queriesMessage.thid ?? queriesMessage.id, body: { disclosures: disclosures as unknown as Message['body'] } as Message['body'] };
  if (from !== undefined) m.from = from;
  if (queriesMessage.from !== undefined) m.to = [queriesMessage.from];
  return m;
}

export function parseDisclose(m: Message): Feature[] {
  const d = m.body?.disclosures;
  if (!Array.isArray(d)) throw err('ERR_INVALID_MESSAGE', 'discover-features: body.disclosures must be an array');
  return d.filter((x) => isJsonObject(x) && typeof x['feature-type'] === 'string' && typeof x.id === 'string') as unknown as Feature[];
}
