/**
 * Receiver-side dedupe (DIDComm v2.1 §Message IDs: ids are unique per sender): exactly-once to the
 * application = the sender's at-least-once outbox + this. Each received message id is remembered
 * per sender in the KvStore, with the reply we sent for it (so a duplicate gets the same answer,
 * e.g. a command result, without running the handler again).
 *
 * Bounded in time and size: records older than `windowMs` are purged, and when more than
 * `maxEntries` are held the oldest are evicted. A message that could have been forgotten is
 * refused as too old (ERR_EXPIRED): `created_time` before the window, or not after the newest
 * evicted record's time (the persisted "floor"). A message without `created_time` is remembered
 * by its arrival time, so it is protected only while its record lives (docs/protocols.md).
 *
 * A duplicate is a *retry* when its `sent_count` (advanced_sequencing; absent = 1) is higher than
 * any seen for that id — our outbox increments it on every retransmission — and a *replay*
 * otherwise (the same transmission again). A record left "processing" by a run that crashed
 * inside the handler is handed out again once, flagged `redelivered`.
 */
import { err } from '../errors.js';
import { fromUtf8, toHex, utf8 } from '../util/bytes.js';
import type { Clock } from '../util/clock.js';
import type { CryptoBackend } from '../crypto/types.js';
import type { Message } from '../message/message.js';
import type { KvOp, KvStore } from '../store/kv.js';
import type { DedupeOptions } from './types.js';

interface StoredRecord {
  /** created_time, or arrival time, in epoch seconds. */
  t: number;
  /** Highest sent_count seen. */
  n: number;
  /** 'p' processing, 'd' done. */
  s: 'p' | 'd';
  /** Run that set 'p'. */
  e: string;
  /** The reply we sent, to send again on a retry. */
  r?: Message;
}

export interface DedupeRecord {
  key: string;
  indexKey: string;
  stored: StoredRecord;
}

export type DedupeVerdict =
  | { kind: 'new'; record: DedupeRecord; redelivered: boolean }
  | { kind: 'retry'; record: DedupeRecord }
  | { kind: 'replay'; record: DedupeRecord }
  | { kind: 'too-old'; reason: string };

const I = 'dd/i/';
const T = 'dd/t/';
const FLOOR = 'dd/floor';

export class Dedupe {
  private readonly store: KvStore;
  private readonly clock: Clock;
  private readonly crypto: CryptoBackend;
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly epoch: string;
  private count = 0;
  private floor = -1;
  evicted = 0;

  constructor(store: KvStore, clock: Clock, crypto: CryptoBackend, o: DedupeOptions = {}) {
    this.store = store;
    this.clock = clock;
    this.crypto = crypto;
    this.windowMs = o.windowMs ?? 7 * 24 * 3600_000;
    this.maxEntries = o.maxEntries ?? 10_000;
    if (!(this.windowMs > 0) || !(this.maxEntries >= 1)) throw err('ERR_ARGUMENT', 'dedupe: need windowMs > 0 and maxEntries >= 1');
    this.epoch = toHex(crypto.randomBytes(6));
  }

  get size(): number {
    return this.count;
  }

  async start(): Promise<void> {
    this.count = await this.store.count(I);
    const f = await this.store.get(FLOOR);
    this.floor = f ? Number(fromUtf8(f)) : -1;
    await this.purge();
  }

  private senderKey(sender: string): string {
    return toHex(this.crypto.sha256(utf8(sender)).subarray(0, 10));
  }

  /** Classifies `m` from `sender` ('anon:…' for unauthenticated senders) without changing anything. */
  async check(sender: string, m: Message): Promise<DedupeVerdict> {
    const nowS = Math.floor(this.clock.now() / 1000);
    const key = `${I}${this.senderKey(sender)}/${m.id}`;
    const raw = await this.store.get(key);
    if (raw) {
      let stored: StoredRecord;
      try {
        stored = JSON.parse(fromUtf8(raw)) as StoredRecord;
      } catch {
        stored = { t: 0, n: Number.MAX_SAFE_INTEGER, s: 'd', e: '' }; // damaged: never deliver again
      }
      const record = { key, indexKey: `${T}${pad(stored.t)}/${key.slice(I.length)}`, stored };
      if (stored.s === 'p' && stored.e !== this.epoch) return { kind: 'new', record, redelivered: true };
      return sentCount(m) > stored.n ? { kind: 'retry', record } : { kind: 'replay', record };
    }
    const t = m.created_time ?? nowS;
    if (m.created_time !== undefined && m.created_time * 1000 < this.clock.now() - this.windowMs) {
      return { kind: 'too-old', reason: `created ${m.created_time}, before the replay window` };
    }
    if (t <= this.floor) return { kind: 'too-old', reason: `created ${t}, not after the forgotten ids (${this.floor})` };
    const stored: StoredRecord = { t, n: sentCount(m), s: 'p', e: this.epoch };
    return { kind: 'new', record: { key, indexKey: `${T}${pad(t)}/${key.slice(I.length)}`, stored }, redelivered: false };
  }

  /** Records a new message as being processed (before any handler runs). */
  async begin(v: Extract<DedupeVerdict, { kind: 'new' }>): Promise<void> {
    const r = v.record;
    r.stored.s = 'p';
    r.stored.e = this.epoch;
    const ops: KvOp[] = [
      { type: 'put', key: r.key, value: utf8(JSON.stringify(r.stored)) },
      { type: 'put', key: r.indexKey, value: utf8(r.key) },
    ];
    if (!v.redelivered) {
      ops.push(...(await this.evictionsFor(1)));
      this.count++;
    }
    await this.store.batch(ops);
    if (!v.redelivered && this.count % 64 === 0) await this.purge();
  }

  /** Marks it handled; `reply` is what a retry will get again. */
  async complete(r: DedupeRecord, reply?: Message): Promise<void> {
    r.stored.s = 'd';
    if (reply) r.stored.r = reply;
    await this.store.put(r.key, utf8(JSON.stringify(r.stored)));
  }

  /** A retry was seen: remember its sent_count (so this transmission replayed later is a replay). */
  async noteRetry(r: DedupeRecord, m: Message): Promise<void> {
    r.stored.n = Math.max(r.stored.n, sentCount(m));
    await this.store.put(r.key, utf8(JSON.stringify(r.stored)));
  }

  /** Delete ops that make room for `incoming` new records; raises the floor. */
  private async evictionsFor(incoming: number): Promise<KvOp[]> {
    const excess = this.count + incoming - this.maxEntries;
    if (excess <= 0) return [];
    const oldest = await this.store.list(T, { limit: Math.min(excess, 1000) });
    const ops: KvOp[] = [];
    for (const { key, value } of oldest) {
      ops.push({ type: 'delete', key }, { type: 'delete', key: fromUtf8(value) });
      this.floor = Math.max(this.floor, Number(key.slice(T.length, T.length + 11)));
      this.count--;
      this.evicted++;
    }
    if (ops.length) ops.push({ type: 'put', key: FLOOR, value: utf8(String(this.floor)) });
    return ops;
  }

  /** Forgets records older than the window (they are refused as too old anyway). */
  async purge(): Promise<void> {
    const cutoff = Math.floor((this.clock.now() - this.windowMs) / 1000);
    for (let round = 0; round < 100; round++) {
      const page = await this.store.list(T, { limit: 500 });
      const old = page.filter(({ key }) => Number(key.slice(T.length, T.length + 11)) < cutoff);
      if (old.length === 0) return;
      await this.store.batch(old.flatMap(({ key, value }) => [{ type: 'delete' as const, key }, { type: 'delete' as const, key: fromUtf8(value) }]));
      this.count = Math.max(0, this.count - old.length);
      if (old.length < page.length) return;
    }
  }
}

function pad(t: number): string {
  return String(Math.max(0, Math.min(t, 99_999_999_999))).padStart(11, '0');
}

/** `sent_count` of a message (advanced_sequencing); absent or invalid = 1. */
export function sentCount(m: Message): number {
  const n = m.sent_count;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 1 ? n : 1;
}
