/**
 * Pure acks (DIDComm v2.1 §ACKs: the empty message with `ack`), coalesced per peer: ids to ack
 * accumulate while the link is busy (duty cycle) and go out together in one message, built when
 * the link is free. Acks never carry `please_ack` (no ack loops) and are not stored in the outbox:
 * a lost ack is regenerated when the peer retries (the dedupe record answers the retry).
 */
import type { Clock } from '../util/clock.js';
import type { CryptoBackend } from '../crypto/types.js';
import { newMessageId } from '../message/ids.js';
import { ackMessage } from '../protocols/empty.js';
import type { Router } from './router.js';

/** Ids per ack message at most (a compact id is 8 bytes). */
export const MAX_IDS_PER_ACK = 16;

export class AckSender {
  private readonly pending = new Map<string, string[]>();
  private readonly router: Router;
  private readonly crypto: CryptoBackend;
  private readonly clock: Clock;
  private readonly self: string;
  private readonly onError: (e: unknown) => void;
  sent = 0;

  constructor(router: Router, crypto: CryptoBackend, clock: Clock, self: string, onError: (e: unknown) => void) {
    this.router = router;
    this.crypto = crypto;
    this.clock = clock;
    this.self = self;
    this.onError = onError;
  }

  /** Queues an ack of `id` to `peer`. */
  ack(peer: string, id: string): void {
    const list = this.pending.get(peer);
    if (list) {
      if (!list.includes(id)) list.push(id);
      return;
    }
    this.pending.set(peer, [id]);
    this.router
      .send(
        peer,
        () => {
          const ids = this.pending.get(peer) ?? [];
          const now = ids.splice(0, MAX_IDS_PER_ACK);
          if (ids.length === 0) this.pending.delete(peer);
          else queueMicrotask(() => this.requeue(peer));
          if (now.length === 0) return undefined;
          this.sent++;
          const m = ackMessage(newMessageId(this.crypto), this.self, peer, now);
          m.created_time = Math.floor(this.clock.now() / 1000);
          return m;
        },
        { control: true },
      )
      .catch((e: unknown) => {
        this.pending.delete(peer);
        this.onError(e);
      });
  }

  private requeue(peer: string): void {
    const rest = this.pending.get(peer);
    if (!rest) return;
    this.pending.delete(peer);
    for (const id of rest) this.ack(peer, id);
  }
}
