/**
 * Live delivery (Message Pickup 3.0 §Live Mode) on persistent sessions (WebSocket, MQTT): once a
 * recipient turns live mode on, mail that arrives for its keys is pushed over that session at once
 * — also mail accepted by another mediator process, since we subscribe to the mailbox store
 * (`MailboxStore.subscribe`: PostgreSQL LISTEN/NOTIFY or Redis pub/sub across processes).
 *
 * Durability first: mail is stored before it is pushed, and pushed as a `delivery` message whose
 * attachment ids the recipient acknowledges with `messages-received`, exactly like a requested
 * delivery; nothing is deleted before that ack. Mail already queued when live mode was turned on
 * is left for `delivery-request` (the spec: "Messages already in the queue are not affected").
 * Memory is bounded: per session at most MAX_UNACKED pushed-but-unacknowledged ids.
 */
import type { Message } from '../message/message.js';
import { MAX_PAGE } from '../store/mailbox.js';
import type { MailboxStore } from '../store/mailbox.js';
import { delivery, type DeliveredMessage } from '../protocols/pickup.js';
import { packReply, type ReplyPacker } from './envelopes.js';
import type { ReplyMode, Session } from './types.js';

export const MAX_UNACKED = 1000;
/** Most live sessions at once (each holds store subscriptions). */
export const MAX_LIVE_SESSIONS = 100_000;

interface LiveState {
  session: Session;
  owner: string;
  keys: string[];
  mode: ReplyMode;
  /** The live-delivery-change that turned it on (deliveries are threaded to it). */
  request: Message;
  preexisting: Set<string>;
  pushed: Set<string>;
  unsubscribe: Array<() => void>;
  busy: boolean;
  again: boolean;
}

export interface LiveDeliveryOptions {
  mailbox: MailboxStore;
  packer: ReplyPacker;
  newId: () => string;
  /** Largest batch per pushed delivery (bytes of attachments). */
  maxDeliveryBytes: number;
  /** Called with errors of background pushes (never thrown). */
  onError?: (e: unknown) => void;
}

export class LiveDelivery {
  private readonly sessions = new Map<string, LiveState>();
  private readonly o: LiveDeliveryOptions;

  constructor(o: LiveDeliveryOptions) {
    this.o = o;
  }

  isLive(session: Session): boolean {
    return this.sessions.has(session.id);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Turns live mode on for `owner` on `session` (replacing an earlier state of that session). */
  async enable(session: Session, owner: string, keys: string[], mode: ReplyMode, request: Message): Promise<void> {
    this.disable(session);
    if (this.sessions.size >= MAX_LIVE_SESSIONS) return;
    const preexisting = new Set<string>();
    for (const k of keys) for (const m of await this.o.mailbox.fetch(k, MAX_PAGE)) preexisting.add(m.id);
    const state: LiveState = { session, owner, keys, mode, request, preexisting, pushed: new Set(), unsubscribe: [], busy: false, again: false };
    this.sessions.set(session.id, state);
    for (const k of keys) state.unsubscribe.push(this.o.mailbox.subscribe(k, () => this.schedule(state)));
    this.schedule(state); // mail that arrived while we were snapshotting
  }

  disable(session: Session): void {
    const s = this.sessions.get(session.id);
    if (!s) return;
    this.sessions.delete(session.id);
    for (const u of s.unsubscribe) u();
  }

  /** The owner acknowledged these ids (on any session): they need no push any more. */
  acked(owner: string, ids: readonly string[]): void {
    for (const s of this.sessions.values()) {
      if (s.owner !== owner) continue;
      for (const id of ids) {
        s.pushed.delete(id);
        s.preexisting.delete(id);
      }
      this.schedule(s);
    }
  }

  /** Keys changed (keylist-update): follow the new set on every live session of the owner. */
  async keysChanged(owner: string, keys: string[]): Promise<void> {
    for (const s of [...this.sessions.values()]) {
      if (s.owner === owner) await this.enable(s.session, owner, keys, s.mode, s.request);
    }
  }

  closeAll(): void {
    for (const s of [...this.sessions.values()]) this.disable(s.session);
  }

  private schedule(s: LiveState): void {
    if (this.sessions.get(s.session.id) !== s) return;
    if (s.busy) {
      s.again = true;
      return;
    }
    s.busy = true;
    void this.pushNew(s)
      .catch((e: unknown) => {
        this.o.onError?.(e);
        if (!s.session.isOpen()) this.disable(s.session);
      })
      .finally(() => {
        s.busy = false;
        if (s.again) {
          s.again = false;
          this.schedule(s);
        }
      });
  }

  private async pushNew(s: LiveState): Promise<void> {
    if (!s.session.isOpen() || !s.session.push) {
      this.disable(s.session);
      return;
    }
    const batch: DeliveredMessage[] = [];
    let bytes = 0;
    const budget = Math.min(this.o.maxDeliveryBytes, s.session.maxFrameBytes);
    for (const k of s.keys) {
      if (s.pushed.size + batch.length >= MAX_UNACKED) break;
      for (const m of await this.o.mailbox.fetch(k, MAX_PAGE)) {
        if (s.preexisting.has(m.id) || s.pushed.has(m.id)) continue;
        if (batch.length > 0 && bytes + m.bytes.length > budget / (s.mode.format === 'json' ? 2 : 1.1)) break;
        batch.push({ id: m.id, bytes: m.bytes });
        bytes += m.bytes.length;
      }
    }
    if (batch.length === 0) return;
    const msg = delivery(this.o.newId(), s.request, this.o.packer.did, batch);
    const frame = await packReply(this.o.packer, msg, s.owner, s.mode);
    for (const m of batch) s.pushed.add(m.id);
    try {
      await s.session.push(frame);
    } catch (e) {
      for (const m of batch) s.pushed.delete(m.id);
      throw e;
    }
    s.again = true; // there may be more than one batch
  }
}
