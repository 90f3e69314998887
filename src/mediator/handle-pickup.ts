/**
 * Message Pickup 3.0 at the mediator (didcomm.org messagepickup/3.0, reference/didcomm-spec.md
 * §1.10). Only the owner a key was granted to reads or deletes its mail: the requester must be
 * authenticated and hold mediation, and a `recipient_did` that is not one of its keys is refused
 * with ERR_NOT_AUTHORIZED (`e.p.trust`). `messages-received` deletes only from the requester's own
 * mailboxes (the store ignores other mailboxes' ids). A status is never queued: it only goes back
 * on the session the request came on. Live mode only on persistent sessions; otherwise the
 * problem `e.m.live-mode-not-supported`.
 */
import { err } from '../errors.js';
import type { Message } from '../message/message.js';
import { MAX_PAGE, type StoredMessage } from '../store/mailbox.js';
import {
  DELIVERY_REQUEST_TYPE,
  LIVE_DELIVERY_CHANGE_TYPE,
  LIVE_MODE_NOT_SUPPORTED,
  MESSAGES_RECEIVED_TYPE,
  STATUS_REQUEST_TYPE,
  delivery,
  parseDeliveryRequest,
  parseLiveDeliveryChange,
  parseMessagesReceived,
  parseStatusRequest,
  status,
  type DeliveredMessage,
  type PickupStatus,
} from '../protocols/pickup.js';
import { problemReport } from '../protocols/report-problem.js';
import { ownerKeys, requireSender, type MediatorCore, type RequestContext } from './core.js';

export async function handlePickup(core: MediatorCore, rc: RequestContext): Promise<Message[]> {
  const owner = requireSender(rc);
  if (!(await core.stores.mediation.isGranted(owner))) throw err('ERR_NOT_AUTHORIZED', 'pickup: no mediation was granted to the requester');
  const m = rc.message;
  switch (m.type) {
    case STATUS_REQUEST_TYPE: {
      const { recipientDid } = parseStatusRequest(m);
      const keys = await keysFor(core, owner, recipientDid);
      return [status(core.newId(), m, core.did, await statusOf(core, rc, keys, recipientDid))];
    }
    case DELIVERY_REQUEST_TYPE: {
      const { limit, recipientDid } = parseDeliveryRequest(m);
      const keys = await keysFor(core, owner, recipientDid);
      const batch = await collect(core, rc, keys, limit);
      if (batch.length === 0) return [status(core.newId(), m, core.did, await statusOf(core, rc, keys, recipientDid))];
      return [delivery(core.newId(), m, core.did, batch, recipientDid !== undefined ? { recipientDid } : {})];
    }
    case MESSAGES_RECEIVED_TYPE: {
      const ids = parseMessagesReceived(m);
      const keys = await ownerKeys(core, owner);
      for (let i = 0; i < ids.length; i += MAX_PAGE) {
        const chunk = ids.slice(i, i + MAX_PAGE);
        for (const k of keys) await core.stores.mailbox.ack(k, chunk);
      }
      core.live.acked(owner, ids);
      // The status is a SHOULD. A radio device acknowledging mail we pushed (its messages-received
      // threads to the delivery) gets none: on a duty-cycled link it would cost a downlink per
      // delivery, and the next push — or the device's own status-request — says what is left.
      if (rc.session.kind === 'radio' && m.thid !== undefined) return [];
      return [status(core.newId(), m, core.did, await statusOf(core, rc, keys, undefined))];
    }
    case LIVE_DELIVERY_CHANGE_TYPE: {
      const on = parseLiveDeliveryChange(m);
      const keys = await ownerKeys(core, owner);
      if (on) {
        if (!rc.session.persistent || !rc.replyMode) {
          return [problemReport({ id: core.newId(), code: LIVE_MODE_NOT_SUPPORTED, pthid: m.thid ?? m.id, comment: 'Connection does not support Live Delivery' })];
        }
        if (rc.session.setLive) rc.session.setLive(true);
        else await core.live.enable(rc.session, owner, keys, rc.replyMode, m);
      } else {
        if (rc.session.setLive) rc.session.setLive(false);
        core.live.disable(rc.session);
      }
      return [status(core.newId(), m, core.did, await statusOf(core, rc, keys, undefined))];
    }
    default:
      throw err('ERR_UNKNOWN_TYPE', 'unsupported pickup message');
  }
}

/** The requester's mailboxes: all its keys, or the one it named (which must be its own). */
async function keysFor(core: MediatorCore, owner: string, recipientDid: string | undefined): Promise<string[]> {
  if (recipientDid === undefined) return ownerKeys(core, owner);
  if ((await core.stores.mediation.ownerOf(recipientDid)) !== owner) throw err('ERR_NOT_AUTHORIZED', 'pickup: recipient_did is not registered to the requester');
  return [recipientDid];
}

async function statusOf(core: MediatorCore, rc: RequestContext, keys: string[], recipientDid: string | undefined): Promise<PickupStatus> {
  let count = 0;
  let bytes = 0;
  let oldest: number | undefined;
  let newest: number | undefined;
  for (const k of keys) {
    const s = await core.stores.mailbox.status(k);
    count += s.messageCount;
    bytes += s.totalBytes;
    if (s.oldestReceivedAt !== undefined) oldest = oldest === undefined ? s.oldestReceivedAt : Math.min(oldest, s.oldestReceivedAt);
    if (s.newestReceivedAt !== undefined) newest = newest === undefined ? s.newestReceivedAt : Math.max(newest, s.newestReceivedAt);
  }
  const st: PickupStatus = { messageCount: count, totalBytes: bytes, liveDelivery: rc.session.setLive ? rc.session.isLive?.() === true : core.live.isLive(rc.session) };
  if (recipientDid !== undefined) st.recipientDid = recipientDid;
  if (oldest !== undefined) {
    st.oldestReceivedTime = Math.floor(oldest / 1000);
    st.longestWaitedSeconds = Math.max(0, Math.floor((core.clock.now() - oldest) / 1000));
  }
  if (newest !== undefined) st.newestReceivedTime = Math.floor(newest / 1000);
  return st;
}

/**
 * Up to `limit` queued messages, oldest first per mailbox, within what the session can carry:
 * JSON replies base64 the attachments and then the ciphertext (≈ ×1.8), compact ones carry bytes.
 */
async function collect(core: MediatorCore, rc: RequestContext, keys: string[], limit: number): Promise<DeliveredMessage[]> {
  const json = rc.replyMode?.format !== 'compact';
  const budget = Math.floor((Math.min(core.policy.maxDeliveryBytes, rc.session.maxFrameBytes) - 512) / (json ? 1.8 : 1.05));
  const out: DeliveredMessage[] = [];
  let used = 0;
  for (const k of keys) {
    let remaining = limit - out.length;
    if (remaining <= 0) break;
    const page: StoredMessage[] = await core.stores.mailbox.fetch(k, Math.min(remaining, MAX_PAGE));
    for (const m of page) {
      const cost = m.bytes.length + 48;
      if (cost > budget) continue; // too big for this session: stays queued for a larger one
      if (used + cost > budget) return out;
      out.push({ id: m.id, bytes: m.bytes });
      used += cost;
      remaining--;
    }
  }
  return out;
}
