/**
 * Trust Ping 2.0 and Discover Features 2.0 at the mediator (DIDComm v2.1 §Trust Ping,
 * §Discover Features). We disclose the protocols we implement (with our role), the transport
 * constraint `max_receive_bytes` (§Transports) and the envelope formats we accept (`didcomm/v2`,
 * `didcomm/compact/1`). Anonymous pings are answered too when the session can carry a reply:
 * a ping-response says nothing a caller could not learn from the transport.
 */
import type { Message } from '../message/message.js';
import { PING_TYPE, TRUST_PING_PIURI, pingResponse, wantsResponse } from '../protocols/trust-ping.js';
import { ACCEPT_COMPACT, ACCEPT_JSON, DISCOVER_FEATURES_PIURI, QUERIES_TYPE, answer, disclose, parseQueries, type Feature } from '../protocols/discover-features.js';
import { PICKUP_PIURI } from '../protocols/pickup.js';
import { COORDINATE_MEDIATION_PIURI } from '../protocols/coordinate-mediation.js';
import type { MediatorCore, RequestContext } from './core.js';

export const ROUTING_PIURI = 'https://didcomm.org/routing/2.0';
export const REPORT_PROBLEM_PIURI = 'https://didcomm.org/report-problem/2.0';

export function features(core: MediatorCore): Feature[] {
  return [
    { 'feature-type': 'protocol', id: ROUTING_PIURI, roles: ['mediator'] },
    { 'feature-type': 'protocol', id: COORDINATE_MEDIATION_PIURI, roles: ['mediator'] },
    { 'feature-type': 'protocol', id: PICKUP_PIURI, roles: ['mediator'] },
    { 'feature-type': 'protocol', id: TRUST_PING_PIURI, roles: ['receiver'] },
    { 'feature-type': 'protocol', id: DISCOVER_FEATURES_PIURI, roles: ['responder'] },
    { 'feature-type': 'protocol', id: REPORT_PROBLEM_PIURI },
    { 'feature-type': 'header', id: 'return_route' },
    { 'feature-type': 'goal-code', id: 'mediate' },
    // transports.md §Agent Constraint Disclosure: the value travels as a string member.
    { 'feature-type': 'constraint', id: 'max_receive_bytes', max_receive_bytes: String(core.policy.maxReceiveBytes) } as Feature,
    { 'feature-type': 'accept', id: ACCEPT_JSON },
    { 'feature-type': 'accept', id: ACCEPT_COMPACT },
  ];
}

export function handlePing(core: MediatorCore, rc: RequestContext): Message[] {
  if (rc.message.type !== PING_TYPE || !wantsResponse(rc.message)) return [];
  return [pingResponse(core.newId(), rc.message, core.did)];
}

export function handleQueries(core: MediatorCore, rc: RequestContext): Message[] {
  if (rc.message.type !== QUERIES_TYPE) return [];
  return [disclose(core.newId(), rc.message, core.did, answer(features(core), parseQueries(rc.message)))];
}
