/**
 * The persistent outbox (DESIGN.md §2 agent/: "persistent outbox with retry/backoff/expiry").
 *
 * - Every outgoing message is written to the KvStore (plaintext + how to send it) BEFORE its
 *   first transmission, and the transmission count is written before each retry, so a restart
 *   resends everything not yet done and `sent_count` only grows.
 * - Retries re-pack the plaintext: each transmission is a new envelope (a fresh pairwise sequence
 *   number, a fresh HPKE/JWE ephemeral key) carrying the same message id; the receiver dedupes by id.
 *   Retransmissions carry `sent_count` (DIDComm advanced_sequencing), which lets the receiver tell
 *   a retry (answered again) from a replay (refused).
 * - Done when: delivery 'ack' → an `ack` naming the id or a reply threaded to it arrives from the
 *   peer; delivery 'transport' → the link accepted the frame. Otherwise retried with exponential
 *   backoff and jitter until expiry or `maxAttempts`. A transmission that cannot succeed
 *   (too large, no keys, unsupported) ends the entry at once.
 * - Bounded by entries and bytes. When full: 'reject-new' refuses with ERR_STORE_FULL,
 *   'drop-oldest' evicts the oldest entries, 'priority' evicts the lowest priority (oldest first)
 *   if it is not above the new one's. Every entry that leaves undelivered is a 'dropped' event
 *   with a reason, and counted.
 */
import { err, isDidcommError, type DidcommError } from '../errors.js';
import { fromUtf8, utf8 } from '../util/bytes.js';
import type { Clock, Timer } from '../util/clock.js';
import { Emitter } from '../util/emitter.js';
import type { Message } from '../message/message.js';
import type { KvOp, KvStore } from '../store/kv.js';
import type { Backoff } from './backoff.js';
import type { DeliveryPolicy, DropReason, OutboxOptions, OverflowPolicy, TelemetrySigning } from './types.js';

export interface OutboxRecord {
  id: string;
  peer: string;
  message: Message;
  delivery: DeliveryPolicy;
  priority: number;
  createdAt: number;
  expiresAt: number;
  /** Transmissions so far (persisted before each one). */
  attempts: number;
  /** Telemetry is packed per the telemetry signing policy. */
  purpose?: 'telemetry';
  telemetry?: TelemetrySigning;
}

export interface OutboxStats {
  queued: number;
  transmissions: number;
  delivered: number;
  dropped: Record<DropReason, number>;
  /** enqueue() refused with ERR_STORE_FULL ('reject-new' or 'priority'). */
  refused: number;
}

type OutboxEvents = {
  queued: (rec: OutboxRecord) => void;
  delivered: (rec: OutboxRecord) => void;
  dropped: (rec: OutboxRecord, reason: DropReason, error?: DidcommError) => void;
  error: (e: DidcommError) => void;
};

interface Entry {
  key: string;
  seq: number;
  rec: OutboxRecord;
  bytes: number;
  nextAt: number;
  inFlight: boolean;
  gone: boolean;
  /** Our mediator stored it (receipt): no resend before this time. */
  heldUntil: number;
  /** Store writes of this entry, chained so a delete never overtakes a put. */
  io: Promise<unknown>;
}

/** Sends one record; resolves with how long to wait for its ack on the chosen link. */
export type Transmit = (rec: OutboxRecord) => Promise<{ ackTimeoutMs: number }>;

const PREFIX = 'ob/';
const PERMANENT = new Set(['ERR_TOO_LARGE', 'ERR_UNSUPPORTED', 'ERR_ARGUMENT', 'ERR_INVALID_MESSAGE', 'ERR_LAYER_MISMATCH', 'ERR_SECRET_NOT_FOUND', 'ERR_KEY_NOT_FOUND', 'ERR_DID_NOT_RESOLVED', 'ERR_NOT_AUTHORIZED', 'ERR_REFUSED', 'ERR_MALFORMED']);

export class Outbox extends Emitter<OutboxEvents> {
  readonly stats: OutboxStats = { queued: 0, transmissions: 0, delivered: 0, dropped: { overflow: 0, expired: 0, rejected: 0, failed: 0, 'max-attempts': 0 }, refused: 0 };
  private readonly store: KvStore;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly transmit: Transmit;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly overflow: OverflowPolicy;
  readonly ttlMs: number;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly entries = new Map<string, Entry>();
  private totalBytes = 0;
  private nextSeq = 0;
  private inFlight = 0;
  private timer: Timer | undefined;
  private timerAt = Infinity;
  private running = false;

  constructor(store: KvStore, clock: Clock, backoff: Backoff, transmit: Transmit, o: OutboxOptions = {}) {
    super();
    this.store = store;
    this.clock = clock;
    this.backoff = backoff;
    this.transmit = transmit;
    this.maxEntries = o.maxEntries ?? 1000;
    this.maxBytes = o.maxBytes ?? 1024 * 1024;
    this.overflow = o.overflow ?? 'drop-oldest';
    this.ttlMs = o.ttlMs ?? 7 * 24 * 3600_000;
    this.concurrency = o.concurrency ?? 4;
    this.maxAttempts = o.maxAttempts ?? Infinity;
    if (!(this.maxEntries >= 1) || !(this.maxBytes >= 1) || !['reject-new', 'drop-oldest', 'priority'].includes(this.overflow)) {
      throw err('ERR_ARGUMENT', 'outbox: need maxEntries >= 1, maxBytes >= 1 and a known overflow policy');
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Ids and peers of the entries still pending, oldest first. */
  pending(): Array<{ id: string; peer: string; attempts: number }> {
    return [...this.entries.values()].sort((a, b) => a.seq - b.seq).map((e) => ({ id: e.rec.id, peer: e.rec.peer, attempts: e.rec.attempts }));
  }

  /** Loads the stored entries (after a restart every one is due at once) and starts sending. */
  async start(): Promise<void> {
    this.entries.clear();
    this.totalBytes = 0;
    let after: string | undefined;
    for (;;) {
      const page = await this.store.list(PREFIX, { limit: 500, ...(after ? { after } : {}) });
      for (const { key, value } of page) {
        let rec: OutboxRecord;
        try {
          rec = JSON.parse(fromUtf8(value)) as OutboxRecord;
          if (typeof rec.id !== 'string' || typeof rec.peer !== 'string' || typeof rec.message !== 'object') throw new Error('bad record');
        } catch (e) {
          this.emit('error', err('ERR_STORE', `outbox: unreadable record ${key} removed`, { cause: e }));
          await this.store.delete(key);
          continue;
        }
        const seq = Number(key.slice(PREFIX.length));
        this.nextSeq = Math.max(this.nextSeq, seq + 1);
        this.add({ key, seq, rec, bytes: value.length, nextAt: this.clock.now(), inFlight: false, gone: false, heldUntil: 0, io: Promise.resolve() });
      }
      if (page.length < 500) break;
      after = page[page.length - 1]!.key;
    }
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /**
   * Stores `rec` durably (evicting per policy when full), atomically with `extraOps` (e.g. the
   * telemetry buffer entries it replaces), and schedules its transmission.
   */
  async enqueue(input: Omit<OutboxRecord, 'attempts'>, extraOps: readonly KvOp[] = []): Promise<void> {
    if (this.entries.has(input.id)) throw err('ERR_ARGUMENT', `outbox: message ${input.id} is already queued`);
    const rec: OutboxRecord = { ...input, attempts: 0 };
    const value = utf8(JSON.stringify(rec));
    if (value.length > this.maxBytes) throw err('ERR_TOO_LARGE', `outbox: record of ${value.length} B exceeds maxBytes ${this.maxBytes}`);
    const victims = this.victimsFor(rec, value.length);
    const seq = this.nextSeq++;
    const key = PREFIX + String(seq).padStart(12, '0');
    const ops: KvOp[] = victims.map((v) => ({ type: 'delete', key: v.key }));
    ops.push(...extraOps, { type: 'put', key, value });
    for (const v of victims) v.gone = true; // claimed now, so a concurrent ack cannot double-count them
    try {
      await this.store.batch(ops);
    } catch (e) {
      for (const v of victims) v.gone = false;
      throw e;
    }
    for (const v of victims) this.finish(v, 'dropped', 'overflow', undefined, false);
    const e: Entry = { key, seq, rec, bytes: value.length, nextAt: this.clock.now(), inFlight: false, gone: false, heldUntil: 0, io: Promise.resolve() };
    this.add(e);
    this.stats.queued++;
    this.emit('queued', rec);
    this.schedule();
  }

  private victimsFor(rec: OutboxRecord, size: number): Entry[] {
    const live = [...this.entries.values()].filter((e) => !e.gone);
    let count = live.length + 1;
    let bytes = this.totalBytes + size;
    if (count <= this.maxEntries && bytes <= this.maxBytes) return [];
    const refuse = (why: string): never => {
      this.stats.refused++;
      throw err('ERR_STORE_FULL', `outbox full (${why}): ${live.length} entries, ${this.totalBytes} B`);
    };
    if (this.overflow === 'reject-new') refuse('reject-new');
    const order =
      this.overflow === 'drop-oldest'
        ? live.sort((a, b) => a.seq - b.seq)
        : live.filter((e) => e.rec.priority <= rec.priority).sort((a, b) => a.rec.priority - b.rec.priority || a.seq - b.seq);
    const victims: Entry[] = [];
    for (const v of order) {
      if (count <= this.maxEntries && bytes <= this.maxBytes) break;
      victims.push(v);
      count--;
      bytes -= v.bytes;
    }
    if (count > this.maxEntries || bytes > this.maxBytes) refuse('nothing of lower priority to evict');
    return victims;
  }

  /** An ack (or threaded reply) from `peer` for these ids. Returns how many entries it completed. */
  acknowledge(peer: string, ids: Iterable<string>): number {
    let n = 0;
    for (const id of ids) {
      const e = this.entries.get(id);
      if (!e || e.gone || e.rec.peer !== peer) continue;
      this.finish(e, 'delivered');
      n++;
    }
    return n;
  }

  /**
   * Our own mediator acknowledged storing the message durably (its radio receipt): resending it on
   * the air is pointless until `untilMs` — the mediator delivers it; only the peer's ack ends it.
   */
  hold(id: string, untilMs: number): boolean {
    const e = this.entries.get(id);
    if (!e || e.gone) return false;
    e.heldUntil = Math.max(e.heldUntil, untilMs);
    if (!e.inFlight) e.nextAt = Math.max(e.nextAt, e.heldUntil);
    this.schedule();
    return true;
  }

  /** The peer refused the message (problem report): it will not succeed by retrying. */
  reject(peer: string, id: string, error: DidcommError): boolean {
    const e = this.entries.get(id);
    if (!e || e.gone || e.rec.peer !== peer) return false;
    this.finish(e, 'dropped', 'rejected', error);
    return true;
  }

  /** Makes every waiting entry due now (device wake-up, link back online). */
  wake(): void {
    const now = this.clock.now();
    for (const e of this.entries.values()) if (!e.inFlight && !e.gone) e.nextAt = Math.max(now, e.heldUntil);
    this.schedule();
  }

  /** True when no entry is being transmitted and none is due by `until`. */
  idle(until = this.clock.now()): boolean {
    if (this.inFlight > 0) return false;
    for (const e of this.entries.values()) if (!e.gone && e.nextAt <= until) return false;
    return true;
  }

  private add(e: Entry): void {
    this.entries.set(e.rec.id, e);
    this.totalBytes += e.bytes;
  }

  private finish(e: Entry, how: 'delivered' | 'dropped', reason?: DropReason, error?: DidcommError, deleteKey = true): void {
    e.gone = true;
    if (this.entries.get(e.rec.id) === e) {
      this.entries.delete(e.rec.id);
      this.totalBytes -= e.bytes;
    }
    if (deleteKey) e.io = e.io.then(() => this.store.delete(e.key)).catch((x: unknown) => this.emit('error', asError(x)));
    if (how === 'delivered') {
      this.stats.delivered++;
      this.emit('delivered', e.rec);
    } else {
      this.stats.dropped[reason!]++;
      this.emit('dropped', e.rec, reason!, error);
    }
    this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    let at = Infinity;
    for (const e of this.entries.values()) if (!e.inFlight && !e.gone) at = Math.min(at, e.nextAt, e.rec.expiresAt);
    if (at === Infinity || this.inFlight >= this.concurrency) return;
    if (this.timer && this.timerAt <= at) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.clock.setTimer(Math.max(0, at - this.clock.now()), () => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    });
  }

  private pump(): void {
    if (!this.running) return;
    const now = this.clock.now();
    const due = [...this.entries.values()]
      .filter((e) => !e.inFlight && !e.gone && (e.nextAt <= now || e.rec.expiresAt <= now))
      .sort((a, b) => b.rec.priority - a.rec.priority || a.seq - b.seq);
    for (const e of due) {
      if (this.inFlight >= this.concurrency) break;
      void this.attempt(e);
    }
    this.schedule();
  }

  private async attempt(e: Entry): Promise<void> {
    const now = this.clock.now();
    if (now >= e.rec.expiresAt) return this.finish(e, 'dropped', 'expired');
    if (e.rec.attempts >= this.maxAttempts) return this.finish(e, 'dropped', 'max-attempts');
    e.inFlight = true;
    this.inFlight++;
    try {
      e.rec.attempts++;
      const value = utf8(JSON.stringify(e.rec));
      const write = e.io.then(() => (e.gone ? undefined : this.store.put(e.key, value)));
      e.io = write.catch(() => undefined); // a failed write must not block the entry's later delete
      await write;
      if (e.gone) return;
      let ackTimeoutMs: number;
      try {
        ({ ackTimeoutMs } = await this.transmit(e.rec));
        this.stats.transmissions++;
      } catch (x) {
        const error = asError(x);
        if (PERMANENT.has(error.code)) return this.finish(e, 'dropped', 'failed', error);
        e.nextAt = this.clock.now() + this.backoff.delay(e.rec.attempts);
        return;
      }
      if (e.gone) return;
      if (e.rec.delivery === 'transport') return this.finish(e, 'delivered');
      e.nextAt = Math.max(e.heldUntil, this.clock.now() + Math.max(ackTimeoutMs, this.backoff.delay(e.rec.attempts)));
    } catch (x) {
      // the store failed: try again later rather than losing the entry
      this.emit('error', asError(x));
      e.nextAt = this.clock.now() + this.backoff.delay(Math.max(1, e.rec.attempts));
    } finally {
      e.inFlight = false;
      this.inFlight--;
      this.schedule();
    }
  }
}

function asError(x: unknown): DidcommError {
  return isDidcommError(x) ? x : err('ERR_STORE', x instanceof Error ? x.message : String(x), { cause: x });
}
