/**
 * What a radio gateway's push carries (docs/mediator.md §Radio delivery; pickup 3.0 `delivery`):
 * the device's due mail — queued, not pushed within `resendAfterMs`, oldest first — and a delivery
 * packed to fit the link's mtu and, if possible, the time the device still listens. The gateway
 * (radio-gateway.ts) decides when; this module decides what.
 */
import type { Transport } from '../../transports/types.js';
import type { Message } from '../message/message.js';
import type { MailboxStore } from '../store/mailbox.js';
import { MAX_PAGE } from '../store/mailbox.js';
import { DELIVERY_REQUEST_TYPE, delivery, type DeliveredMessage } from '../protocols/pickup.js';
import { packReply } from './envelopes.js';
import type { Mediator } from './service.js';
import type { ReplyMode } from './types.js';

export type DueMessage = DeliveredMessage & { mailbox: string };

/**
 * Up to `limit` queued messages in `mailboxes` not pushed within `resendAfterMs` (per `pushed`: id →
 * when it was last pushed), oldest first. Ids in `pushed` no longer queued were acknowledged: they
 * are removed from `pushed`.
 */
export async function dueMail(mailbox: MailboxStore, mailboxes: readonly string[], pushed: Map<string, number>, now: number, limit: number, resendAfterMs: number): Promise<DueMessage[]> {
  const batch: DueMessage[] = [];
  const seen = new Set<string>();
  for (const k of mailboxes) {
    for (const m of await mailbox.fetch(k, Math.min(MAX_PAGE, limit + pushed.size))) {
      seen.add(m.id);
      const at = pushed.get(m.id);
      if (at !== undefined && now - at < resendAfterMs) continue;
      if (batch.length < limit) batch.push({ id: m.id, bytes: m.bytes, mailbox: k });
    }
  }
  for (const id of [...pushed.keys()]) if (!seen.has(id)) pushed.delete(id);
  return batch;
}

export interface FittedDelivery {
  frame: Uint8Array;
  /** The whole delivery is on the air before the device stops listening. */
  inTime: boolean;
  /** `transport.sendDelay` of the frame. */
  delay: number;
}

/**
 * Packs a delivery of as many of `batch` as fit `transport.mtu` and, if possible, `listenMs`
 * (halving the count until they do); shrinks `batch` to what was packed. Undefined when one message
 * alone exceeds the mtu (it must wait for another session: HTTP, MQTT).
 */
export async function packDeliveryToFit(mediator: Mediator, transport: Transport, gatewayName: string, device: { did: string; mode: ReplyMode }, batch: DeliveredMessage[], listenMs: number): Promise<FittedDelivery | undefined> {
  const req: Message = { id: `live-${gatewayName}`, type: DELIVERY_REQUEST_TYPE, from: device.did };
  let smallest: FittedDelivery | undefined;
  for (let n = batch.length; n >= 1; n = n === 1 ? 0 : Math.ceil(n / 2)) {
    const msg = delivery(mediator.newId(), req, mediator.did, batch.slice(0, n));
    const frame = await packReply(mediator.packer, msg, device.did, device.mode);
    if (frame.length > transport.mtu) continue;
    const delay = transport.sendDelay(frame.length);
    batch.length = n;
    smallest = { frame, inTime: delay <= listenMs, delay };
    if (smallest.inTime) return smallest;
  }
  return smallest;
}
