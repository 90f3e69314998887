/**
 * The protocols every agent speaks, wired into the dispatcher: Trust Ping 2.0 (answer pings),
 * Discover Features 2.0 (answer queries with our protocols, the formats we accept and the
 * `max_receive_bytes` constraint; learn the peer's from its disclosure), Report Problem 2.0
 * (surface reports, fail the waiting request, end the outbox entry when retrying cannot help).
 * Replies to our own requests (ping-response, disclose, command result) go to their waiters.
 */
import { DidcommError } from '../errors.js';
import type { WireFormat } from '../envelope/index.js';
import { ACCEPT_COMPACT, ACCEPT_JSON, answer, DISCLOSE_TYPE, parseDisclose, parseQueries, QUERIES_TYPE, type Feature } from '../protocols/discover-features.js';
import { PING_RESPONSE_TYPE, PING_TYPE, wantsResponse } from '../protocols/trust-ping.js';
import { parseProblemReport, PROBLEM_REPORT_TYPE, renderProblemComment } from '../protocols/report-problem.js';
import { RESULT_TYPE } from '../protocols/command.js';
import { PICKUP_PIURI } from '../protocols/pickup.js';
import { COORDINATE_MEDIATION_PIURI } from '../protocols/coordinate-mediation.js';
import type { Dispatcher } from './dispatcher.js';
import type { Outbox } from './outbox.js';
import type { PeerDirectory } from './peers.js';
import type { AgentEvents } from './types.js';
import type { Waiters } from './waiters.js';

/** Problem codes after which retrying the same message cannot succeed. */
const TERMINAL_CODES = new Set(['e.p.trust', 'e.p.req.time', 'e.p.msg.unsupported', 'e.p.msg', 'e.p.did', 'e.p.req', 'e.p.me.res.storage.message_too_big']);

/** The local error a received problem code stands for (so callers switch on `code`). */
export function errorForProblem(code: string, comment: string | undefined): DidcommError {
  const text = `peer reported ${code}${comment ? `: ${comment.slice(0, 200)}` : ''}`;
  const map: Array<[string, DidcommError['code']]> = [
    ['e.p.trust.crypto', 'ERR_SIGNATURE_INVALID'],
    ['e.p.trust', 'ERR_NOT_AUTHORIZED'],
    ['e.p.req.time', 'ERR_EXPIRED'],
    ['e.p.msg.replay', 'ERR_REPLAY'],
    ['e.p.msg.unsupported', 'ERR_UNSUPPORTED'],
    ['e.p.msg', 'ERR_INVALID_MESSAGE'],
    ['e.p.me.res.storage.message_too_big', 'ERR_TOO_LARGE'],
    ['e.p.me.res.storage', 'ERR_STORE_FULL'],
    ['e.p.me.res', 'ERR_RATE_LIMITED'],
    ['e.p.xfer', 'ERR_TRANSPORT'],
    ['e.p.did', 'ERR_DID_NOT_RESOLVED'],
  ];
  const hit = map.find(([prefix]) => code === prefix || code.startsWith(prefix + '.'));
  return new DidcommError(hit ? hit[1] : 'ERR_REFUSED', text);
}

export interface BuiltinDeps {
  dispatcher: Dispatcher;
  waiters: Waiters;
  outbox: Outbox;
  peers: PeerDirectory;
  accept: WireFormat[];
  maxReceiveBytes: number;
  emit: <K extends keyof AgentEvents>(event: K, ...args: Parameters<AgentEvents[K]>) => void;
}

/** Protocol identifiers (PIURIs) of the message types handled. */
export function piuris(types: string[]): string[] {
  return [...new Set(types.map((t) => t.slice(0, t.lastIndexOf('/'))))].sort();
}

/** What we disclose: protocols, accepted formats, max_receive_bytes. */
export function ourFeatures(d: BuiltinDeps): Feature[] {
  // we speak pickup and coordinate-mediation as the recipient (client), never as the mediator
  const clientOnly = new Set([PICKUP_PIURI, COORDINATE_MEDIATION_PIURI]);
  const features: Feature[] = piuris(d.dispatcher.types()).map((id) => (clientOnly.has(id) ? { 'feature-type': 'protocol', id, roles: ['recipient'] } : { 'feature-type': 'protocol', id }));
  for (const f of d.accept) features.push({ 'feature-type': 'accept', id: f === 'compact' ? ACCEPT_COMPACT : ACCEPT_JSON });
  features.push({ 'feature-type': 'constraint', id: 'max_receive_bytes', max_receive_bytes: String(d.maxReceiveBytes) } as Feature);
  return features;
}

export function installBuiltins(d: BuiltinDeps): void {
  const { dispatcher, waiters } = d;
  dispatcher.handle(PING_TYPE, (inb) => (inb.sender && wantsResponse(inb.message) ? { type: PING_RESPONSE_TYPE, body: {} } : undefined));
  dispatcher.handle(PING_RESPONSE_TYPE, (inb) => void waiters.deliver(inb.message, inb.sender));
  dispatcher.handle(QUERIES_TYPE, (inb) => {
    if (!inb.sender) return undefined;
    return { type: DISCLOSE_TYPE, body: { disclosures: answer(ourFeatures(d), parseQueries(inb.message)) as unknown as [] } };
  });
  dispatcher.handle(DISCLOSE_TYPE, async (inb) => {
    if (!inb.sender) return;
    const features = parseDisclose(inb.message);
    const accept = features.filter((f) => f['feature-type'] === 'accept').map((f) => f.id);
    const constraint = features.find((f) => f['feature-type'] === 'constraint' && f.id === 'max_receive_bytes') as (Feature & { max_receive_bytes?: unknown }) | undefined;
    const max = Number(constraint?.max_receive_bytes);
    await d.peers.update(inb.sender, {
      ...(accept.length ? { accept } : {}),
      ...(Number.isSafeInteger(max) && max > 0 ? { maxReceiveBytes: max } : {}),
    });
    waiters.deliver(inb.message, inb.sender);
  });
  dispatcher.handle(RESULT_TYPE, (inb) => void waiters.deliver(inb.message, inb.sender));
  dispatcher.handle(PROBLEM_REPORT_TYPE, (inb) => {
    const p = parseProblemReport(inb.message);
    const comment = renderProblemComment(p);
    d.emit('problem', { code: p.code, direction: 'received', peer: inb.sender, pthid: p.pthid, ...(comment !== undefined ? { comment } : {}) });
    if (!inb.sender || p.sorter !== 'e') return;
    const error = errorForProblem(p.code, comment);
    waiters.fail(p.pthid, inb.sender, error);
    if (TERMINAL_CODES.has(p.code)) d.outbox.reject(inb.sender, p.pthid, error);
  });
}

