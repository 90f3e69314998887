/**
 * Routing Protocol 2.0 at the mediator (DIDComm v2.1 §Routing, reference/didcomm-spec.md §1.5):
 * a `forward` for a registered recipient is stored durably in that recipient's mailbox (live
 * sessions and radio gateways pick it up from the store's notifications). Rules applied:
 *
 * - `next` must be a DID or DID URL; a forward to the mediator itself is unwrapped once more
 *   (senders that list our key both as "DID as endpoint" and as a routing key wrap twice).
 * - Unknown `next`: refused (ERR_REFUSED, the same answer as any other refusal, so an anonymous
 *   sender cannot tell "unknown" from "refused"), or with `accept-and-hold` stored under `next`
 *   with a small quota and short TTL until someone registers that key (docs/mediator.md).
 * - `expires_time` bounds the mailbox entry (already expired → ERR_EXPIRED); otherwise the
 *   policy's message TTL applies. `delay_milli` delays acceptance (capped; negative = random delay
 *   up to its magnitude): the message becomes visible and is acknowledged only after the delay,
 *   so "acknowledged" still means "durable".
 * - `please_ack` is never honoured on a forward (§ACKs). Our own receipt is different: when the
 *   authenticated sender set `return_route` (radio devices), it gets an empty message with
 *   `ack: [forward id]` once the payload is durable — the "radio ack" (docs/mediator.md).
 * - Optional re-wrap: the payload is wrapped in a new forward anoncrypted to `next`.
 * - Provisioned thin devices (Espruino endpoints) read only compact pairwise frames and get them
 *   relayed as they are: any other payload for one is refused here (ERR_UNSUPPORTED to an
 *   authenticated sender, the plain refusal to an anonymous one), never re-wrapped, so nothing is
 *   accepted that the device could never open.
 */
import { err } from '../errors.js';
import { sleep } from '../util/clock.js';
import { parseForward, forwardMessage } from '../routing/forward.js';
import { pack } from '../envelope/index.js';
import { MARKER, sniffFormat } from '../envelope/compact/frame.js';
import { ackMessage } from '../protocols/empty.js';
import type { Message } from '../message/message.js';
import { mailboxFor, type MediatorCore, type RequestContext } from './core.js';

export async function handleForward(core: MediatorCore, rc: RequestContext): Promise<Message[]> {
  const m = rc.message;
  const f = parseForward(m);
  const now = Math.floor(core.clock.now());

  if (isOwnDid(core, f.next)) {
    if (rc.depth >= 2) throw err('ERR_INVALID_MESSAGE', 'forward: too many nested forwards to the mediator');
    return core.processInner(f.inner, rc, rc.depth + 1);
  }

  let mailbox = await mailboxFor(core, f.next);
  let limits = core.policy.mailbox;
  let ttl = core.policy.messageTtlMs;
  if (mailbox === undefined) {
    if (core.policy.unknownRecipient !== 'accept-and-hold') throw refused();
    mailbox = f.next;
    limits = core.policy.hold;
    ttl = core.policy.hold.ttlMs;
  }
  let expiresAt = now + ttl;
  if (f.expiresTime !== undefined) {
    if (f.expiresTime * 1000 <= now) throw err('ERR_EXPIRED', 'forward: expires_time has passed');
    expiresAt = Math.min(expiresAt, f.expiresTime * 1000);
  }

  const delay = delayFor(core, f.delayMilli);
  if (delay > 0) await sleep(core.clock, delay);

  const thin = core.isThinDevice(mailbox);
  if (thin && !isPairwiseFrame(f.inner)) {
    // An anonymous sender gets the one refusal (it must not learn that `next` is a thin device here).
    if (rc.senderDid === undefined) throw refused();
    throw err('ERR_UNSUPPORTED', 'forward: this recipient reads only compact pairwise frames');
  }
  const payload = core.policy.rewrap && !thin ? await rewrap(core, f.next, f.inner) : f.inner;
  await core.stores.mailbox.enqueue(mailbox, { bytes: payload, expiresAt }, limits);

  if (rc.senderDid !== undefined && m.return_route !== undefined && m.return_route !== 'none') {
    return [ackMessage(core.newId(), core.did, rc.senderDid, [m.id])];
  }
  return [];
}

/** The one refusal anonymous senders see for any policy reason (unknown recipient included). */
export function refused(): Error {
  return err('ERR_REFUSED', 'forward refused');
}

function isPairwiseFrame(b: Uint8Array): boolean {
  return b[0] === MARKER.PAIRWISE;
}

function isOwnDid(core: MediatorCore, next: string): boolean {
  return next === core.did || next.startsWith(`${core.did}#`);
}

function delayFor(core: MediatorCore, delayMilli: number | undefined): number {
  if (delayMilli === undefined || delayMilli === 0) return 0;
  const cap = core.policy.maxDelayMs;
  if (delayMilli > 0) return Math.min(delayMilli, cap);
  const bound = Math.min(-delayMilli, cap);
  const r = core.ctx.crypto.randomBytes(4);
  const u = ((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0;
  return Math.floor((u / 0x1_0000_0000) * (bound + 1));
}

/** Routing 2.0: "MAY re-wrap the payload in a new anoncrypted forward" to the recipient. */
async function rewrap(core: MediatorCore, next: string, inner: Uint8Array): Promise<Uint8Array> {
  const format = sniffFormat(inner) === 'compact' ? 'compact' : 'json';
  const fwd = forwardMessage(core.ctx, next, inner);
  return (await pack(core.ctx, fwd, { mode: 'anoncrypt', format, to: [next] })).bytes;
}
