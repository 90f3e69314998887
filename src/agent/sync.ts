/**
 * Sync by radio (DESIGN.md §1 "field devices ... sync by radio"): the client side of Message
 * Pickup 3.0 (src/protocols/pickup.ts, reference/didcomm-spec.md §1.10) and Coordinate Mediation
 * 2.0 (src/protocols/coordinate-mediation.ts, §1.9).
 *
 * - pickup: status-request → while messages wait: delivery-request(limit) → each delivered frame
 *   goes through the normal inbound pipeline (dedupe makes a redelivery harmless) →
 *   messages-received with the ids (also of frames that could not be opened: they never will) →
 *   the status tells what is left. Deliveries pushed in live mode are acknowledged the same way.
 * - live mode (`live-delivery-change`) only on persistent links.
 * - mediation: mediate-request → mediate-grant (or deny → ERR_REFUSED) → keylist-update adding our
 *   DID → keylist-update-response must say success/no_change.
 * Requests are session messages: sent directly (control priority, within the link's airtime
 * budget — the link queue waits out the duty cycle), not stored in the outbox; a request without
 * reply is retried with a new id, a lost messages-received only causes a redelivery.
 */
import { err, isDidcommError } from '../errors.js';
import type { Clock } from '../util/clock.js';
import type { CryptoBackend } from '../crypto/types.js';
import { newMessageId } from '../message/ids.js';
import type { Message } from '../message/message.js';
import {
  DELIVERY_TYPE,
  deliveryRequest,
  liveDeliveryChange,
  messagesReceived,
  parseDelivery,
  parseStatus,
  STATUS_TYPE,
  statusRequest,
} from '../protocols/pickup.js';
import {
  isMediateDeny,
  KEYLIST_UPDATE_RESPONSE_TYPE,
  keylistUpdate,
  MEDIATE_DENY_TYPE,
  MEDIATE_GRANT_TYPE,
  mediateRequest,
  parseKeylistUpdateResponse,
  parseMediateGrant,
} from '../protocols/coordinate-mediation.js';
import type { Dispatcher } from './dispatcher.js';
import type { Router } from './router.js';
import type { InboundMessage } from './types.js';
import type { Waiters } from './waiters.js';

/** Link failures after which sending the request again may work. */
const RETRYABLE_SEND: ReadonlySet<string> = new Set(['ERR_TIMEOUT', 'ERR_STORE_FULL']);

export interface PickupOptions {
  /** Messages per delivery (default 10). */
  limit?: number;
  /** Delivery rounds at most (default 100). */
  maxRounds?: number;
  /** Stop starting new rounds after this absolute time (ms on the Clock). */
  deadline?: number;
  /** Wait for each reply (default 60 s). */
  timeoutMs?: number;
  /** Tries per request (default 3). */
  attempts?: number;
}

export interface PickupResult {
  received: number;
  /** Messages the mediator still holds (last status). */
  remaining: number;
  rounds: number;
}

export interface SyncDeps {
  self: string;
  crypto: CryptoBackend;
  clock: Clock;
  router: Router;
  waiters: Waiters;
  dispatcher: Dispatcher;
}

export class SyncClient {
  private readonly d: SyncDeps;
  received = 0;

  constructor(d: SyncDeps) {
    this.d = d;
  }

  install(): void {
    const { dispatcher, waiters } = this.d;
    dispatcher.handle(STATUS_TYPE, (inb) => void waiters.deliver(inb.message, inb.sender));
    dispatcher.handle(DELIVERY_TYPE, (inb) => this.onDelivery(inb));
    for (const t of [MEDIATE_GRANT_TYPE, MEDIATE_DENY_TYPE, KEYLIST_UPDATE_RESPONSE_TYPE]) dispatcher.handle(t, (inb) => void waiters.deliver(inb.message, inb.sender));
  }

  /** Processes delivered frames; a delivery nobody waits for (live mode) is acknowledged here. */
  private async onDelivery(inb: InboundMessage): Promise<void> {
    if (!inb.sender) throw err('ERR_NOT_AUTHORIZED', 'a delivery must come from an authenticated mediator');
    const d = parseDelivery(inb.message);
    for (const msg of d.messages) {
      await this.d.dispatcher.process(msg.bytes, { name: 'pickup', pickup: true }, 0);
      this.received++;
    }
    if (!this.d.waiters.deliver(inb.message, inb.sender)) {
      const ack = messagesReceived(newMessageId(this.d.crypto), this.d.self, inb.sender, d.messages.map((x) => x.id));
      ack.thid = inb.message.id; // answers a pushed delivery: a radio mediator need not send a status back
      await this.send(inb.sender, ack);
    }
  }

  private send(peer: string, m: Message): Promise<unknown> {
    m.created_time = Math.floor(this.d.clock.now() / 1000);
    return this.d.router.send(peer, () => m, { control: true });
  }

  /**
   * Sends a request built with a fresh id until a reply of `types` arrives (or attempts run out).
   * No reply in time, or a link that could not get the frame through (ERR_TIMEOUT, ERR_STORE_FULL),
   * uses up one attempt; any other error ends the request at once.
   */
  async request(peer: string, build: (id: string) => Message, types: string[], timeoutMs = 60_000, attempts = 3): Promise<Message> {
    let last: unknown;
    for (let i = 0; i < attempts; i++) {
      const id = newMessageId(this.d.crypto);
      const reply = this.d.waiters.wait(id, peer, timeoutMs, (m) => types.includes(m.type));
      // A slow send (duty cycle) can outlast the timeout: the rejection is handled below, not lost.
      reply.catch(() => undefined);
      try {
        await this.send(peer, build(id));
      } catch (e) {
        this.d.waiters.fail(id, peer, err('ERR_TRANSPORT', 'request not sent'));
        await reply.catch(() => undefined);
        // A lossy link that gave up on this frame (no answer, busy) costs one attempt, not the request.
        if (!isDidcommError(e) || !RETRYABLE_SEND.has(e.code)) throw e;
        last = e;
        continue;
      }
      try {
        return await reply;
      } catch (e) {
        last = e;
        if (!isDidcommError(e) || e.code !== 'ERR_TIMEOUT') throw e;
      }
    }
    throw last;
  }

  /** Picks up what `mediator` queued for us. */
  async pickup(mediator: string, o: PickupOptions = {}): Promise<PickupResult> {
    const limit = o.limit ?? 10;
    const maxRounds = o.maxRounds ?? 100;
    const timeout = o.timeoutMs ?? 60_000;
    const attempts = o.attempts ?? 3;
    const self = this.d.self;
    const status = await this.request(mediator, (id) => statusRequest(id, self, mediator), [STATUS_TYPE], timeout, attempts);
    let remaining = parseStatus(status).messageCount;
    let received = 0;
    let rounds = 0;
    while (remaining > 0 && rounds < maxRounds && (o.deadline === undefined || this.d.clock.now() < o.deadline)) {
      rounds++;
      const reply = await this.request(mediator, (id) => deliveryRequest(id, self, mediator, limit), [DELIVERY_TYPE, STATUS_TYPE], timeout, attempts);
      if (reply.type === STATUS_TYPE) {
        remaining = parseStatus(reply).messageCount;
        break;
      }
      const ids = parseDelivery(reply).messages.map((x) => x.id);
      received += ids.length;
      const after = await this.request(mediator, (id) => messagesReceived(id, self, mediator, ids), [STATUS_TYPE], timeout, attempts);
      remaining = parseStatus(after).messageCount;
    }
    return { received, remaining, rounds };
  }

  /** Turns live delivery on or off (persistent links only; the mediator refuses otherwise). */
  async setLive(mediator: string, on: boolean, timeoutMs = 60_000): Promise<boolean> {
    const reply = await this.request(mediator, (id) => liveDeliveryChange(id, this.d.self, mediator, on), [STATUS_TYPE], timeoutMs);
    return parseStatus(reply).liveDelivery === true;
  }

  /** Coordinate Mediation 2.0: asks `mediator` to route for us and registers our DID. */
  async requestMediation(mediator: string, timeoutMs = 60_000): Promise<{ routingDid: string }> {
    const self = this.d.self;
    const grant = await this.request(mediator, (id) => mediateRequest(id, self, mediator), [MEDIATE_GRANT_TYPE, MEDIATE_DENY_TYPE], timeoutMs);
    if (isMediateDeny(grant)) throw err('ERR_REFUSED', 'mediation denied');
    const { routingDid } = parseMediateGrant(grant);
    const resp = await this.request(mediator, (id) => keylistUpdate(id, self, mediator, [{ recipientDid: self, action: 'add' }]), [KEYLIST_UPDATE_RESPONSE_TYPE], timeoutMs);
    const mine = parseKeylistUpdateResponse(resp).find((u) => u.recipientDid === self && u.action === 'add');
    if (!mine || (mine.result !== 'success' && mine.result !== 'no_change')) throw err('ERR_REFUSED', `keylist update: ${mine?.result ?? 'no result'}`);
    return { routingDid };
  }
}
