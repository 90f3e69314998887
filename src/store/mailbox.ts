/**
 * MailboxStore: the mediator's store-and-forward queues (DIDComm Messaging v2 §Routing "forward";
 * Message Pickup 3.0: `status-request`/`status`, `delivery-request`/`message-delivery`,
 * `messages-received`, `live-delivery-change`). A message is deleted only when its recipient
 * acknowledges it (`messages-received` → `ack`) or it expires (`purgeExpired`).
 *
 * Contract (every implementation passes `test/store/mailbox-contract.ts`):
 * - `enqueue` resolves only once the message is durable (as durable as the backend: see
 *   README.md) and returns an id unique across processes (ULID-like: 48-bit ms time + 80 random
 *   bits, 32 lowercase hex chars). Concurrent enqueues are group-committed by persistent backends.
 * - Per-recipient quota (`maxMessages`, `maxBytes`) → ERR_STORE_FULL for that enqueue only; an item
 *   over the store's `maxItemBytes` → ERR_TOO_LARGE; an already expired item → ERR_EXPIRED.
 *   Expired messages occupy quota until purged, except that a quota breach first purges the
 *   recipient's expired messages and checks again.
 * - `enqueueMany` is one transaction: all items are stored or none (first failure wins).
 * - `fetch` returns the oldest (first-enqueued) unexpired messages; fetching does not delete.
 * - `ack(recipient, ids)` deletes only that recipient's messages: ids of other mailboxes are
 *   ignored (a mailbox owner cannot delete anyone else's mail). Returns how many were deleted.
 * - `status` counts unexpired messages; oldest/newest are the receive times of the first/last
 *   unexpired message in queue order.
 * - `subscribe` fires when mail for the recipient is enqueued by any process sharing the store
 *   (SQLite and memory: this process only). Listeners may fire spuriously; they mean "check".
 */
import type { Clock } from '../util/clock.js';
import { err, type DidcommError } from '../errors.js';
import { toHex } from '../util/bytes.js';
import type { GroupCommitOptions } from './group-commit.js';
import type { MailListener } from './notify.js';
import { checkArray, checkDid } from './validate.js';

export interface MailboxItem {
  bytes: Uint8Array;
  /** Milliseconds since the epoch after which the message is dropped; absent = never. */
  expiresAt?: number;
}

export interface MailboxEntry extends MailboxItem {
  recipient: string;
}

export interface MailboxLimits {
  /** Most messages one recipient may have stored. */
  maxMessages?: number;
  /** Most bytes one recipient may have stored. */
  maxBytes?: number;
}

export interface StoredMessage {
  id: string;
  bytes: Uint8Array;
  receivedAt: number;
  expiresAt?: number;
}

export interface MailboxStatus {
  messageCount: number;
  totalBytes: number;
  oldestReceivedAt?: number;
  newestReceivedAt?: number;
}

export interface RecipientListOptions {
  /** 1..MAX_PAGE (default 100). */
  limit?: number;
  /** Exclusive cursor: the last recipient of the previous page. */
  after?: string;
}

export interface MailboxStore {
  enqueue(recipient: string, item: MailboxItem, limits?: MailboxLimits): Promise<{ id: string }>;
  /** One transaction: every item stored or none. Ids in input order. */
  enqueueMany(items: readonly MailboxEntry[], limits?: MailboxLimits): Promise<Array<{ id: string }>>;
  fetch(recipient: string, limit: number): Promise<StoredMessage[]>;
  ack(recipient: string, ids: readonly string[]): Promise<number>;
  status(recipient: string): Promise<MailboxStatus>;
  /** Removes every message whose `expiresAt <= nowMs`; returns how many. */
  purgeExpired(nowMs: number): Promise<number>;
  /** Recipients with at least one stored message, in code point order (admin, metrics). */
  recipients(options?: RecipientListOptions): Promise<string[]>;
  /** Live notification for new mail; returns the unsubscribe function. */
  subscribe(recipient: string, listener: MailListener): () => void;
  close(): Promise<void>;
}

export interface MailboxStoreOptions {
  /** Time source for `receivedAt` and expiry checks (default: system clock). */
  clock?: Clock;
  /** Per-recipient quota used when an enqueue passes none (default DEFAULT_MAILBOX_LIMITS). */
  limits?: MailboxLimits;
  /** Largest single message (default DEFAULT_MAX_ITEM_BYTES) → ERR_TOO_LARGE. */
  maxItemBytes?: number;
  /** Group commit tuning for persistent backends. */
  groupCommit?: GroupCommitOptions;
}

export const DEFAULT_MAILBOX_LIMITS: Readonly<Required<MailboxLimits>> = { maxMessages: 10_000, maxBytes: 64 * 1024 * 1024 };
export const DEFAULT_MAX_ITEM_BYTES = 1024 * 1024;
/** Most messages one `fetch` returns, ids one `ack` takes, items one `enqueueMany` takes. */
export const MAX_PAGE = 1000;
export const DEFAULT_RECIPIENT_PAGE = 100;
/** The shape of every id `newMessageId` produces; `ack` ignores anything else (it cannot be stored). */
export const MESSAGE_ID_PATTERN = /^[0-9a-f]{32}$/;

/** Random bytes for ids, refilled 4,000 at a time: a getRandomValues call per id cost ~4 % of a forward. */
const idPool = new Uint8Array(4000);
let idPoolAt = idPool.length;

/** A new message id: 12 hex digits of ms time, then 20 hex digits of randomness (never reused from the pool). */
export function newMessageId(nowMs: number): string {
  if (idPoolAt + 10 > idPool.length) {
    globalThis.crypto.getRandomValues(idPool);
    idPoolAt = 0;
  }
  const random = idPool.subarray(idPoolAt, idPoolAt + 10);
  idPoolAt += 10;
  const time = Math.max(0, Math.min(Math.floor(nowMs), 0xffffffffffff));
  return time.toString(16).padStart(12, '0') + toHex(random);
}

function limitValue(v: unknown, label: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw err('ERR_ARGUMENT', `${label}: expected a non-negative integer`);
  return v;
}

/** Per-call limits over the store defaults. */
export function resolveMailboxLimits(limits: MailboxLimits | undefined, defaults: Required<MailboxLimits>): Required<MailboxLimits> {
  if (limits !== undefined && (typeof limits !== 'object' || limits === null)) throw err('ERR_ARGUMENT', 'limits: expected an object');
  return {
    maxMessages: limitValue(limits?.maxMessages, 'maxMessages', defaults.maxMessages),
    maxBytes: limitValue(limits?.maxBytes, 'maxBytes', defaults.maxBytes),
  };
}

export interface ResolvedMailboxOptions {
  limits: Required<MailboxLimits>;
  maxItemBytes: number;
}

export function resolveMailboxOptions(options: MailboxStoreOptions): ResolvedMailboxOptions {
  return {
    limits: resolveMailboxLimits(options.limits, DEFAULT_MAILBOX_LIMITS),
    maxItemBytes: limitValue(options.maxItemBytes, 'maxItemBytes', DEFAULT_MAX_ITEM_BYTES),
  };
}

/** A validated message ready to store. */
export interface PreparedMessage {
  id: string;
  recipient: string;
  bytes: Uint8Array;
  receivedAt: number;
  expiresAt: number | undefined;
}

/** One all-or-nothing enqueue (a single `enqueue` or a whole `enqueueMany`). */
export interface EnqueueUnit {
  messages: PreparedMessage[];
  limits: Required<MailboxLimits>;
}

/** Validates one item and gives it an id and receive time (copies the bytes). */
export function prepareMessage(recipient: unknown, item: unknown, now: number, maxItemBytes: number, label = 'item'): PreparedMessage {
  const r = checkDid(recipient, 'recipient');
  if (typeof item !== 'object' || item === null) throw err('ERR_ARGUMENT', `${label}: expected an object`);
  const { bytes, expiresAt } = item as { bytes?: unknown; expiresAt?: unknown };
  if (!(bytes instanceof Uint8Array)) throw err('ERR_ARGUMENT', `${label}.bytes: expected Uint8Array`);
  if (bytes.length > maxItemBytes) throw err('ERR_TOO_LARGE', `${label}: ${bytes.length} bytes exceeds the limit of ${maxItemBytes}`);
  if (expiresAt !== undefined) {
    if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt) || expiresAt < 0) {
      throw err('ERR_ARGUMENT', `${label}.expiresAt: expected milliseconds since the epoch (integer)`);
    }
    if (expiresAt <= now) throw err('ERR_EXPIRED', `${label}: already expired`);
  }
  return { id: newMessageId(now), recipient: r, bytes: bytes.slice(), receivedAt: now, expiresAt: expiresAt as number | undefined };
}

/** Validates an `enqueueMany` list into one unit. */
export function prepareMany(items: unknown, now: number, maxItemBytes: number, limits: Required<MailboxLimits>): EnqueueUnit {
  const list = checkArray(items, 'items', MAX_PAGE);
  const messages = list.map((it, i) => {
    if (typeof it !== 'object' || it === null) throw err('ERR_ARGUMENT', `items[${i}]: expected an object`);
    return prepareMessage((it as { recipient?: unknown }).recipient, it, now, maxItemBytes, `items[${i}]`);
  });
  return { messages, limits };
}

/**
 * Validates an ack id list (an array of at most MAX_PAGE strings) and returns its distinct ids that
 * could exist: strings of another shape (peer input such as `messages-received`) are ignored, so
 * they never reach a backend.
 */
export function checkAckIds(ids: unknown): string[] {
  const list = checkArray(ids, 'ids', MAX_PAGE);
  const out = new Set<string>();
  list.forEach((id, i) => {
    if (typeof id !== 'string') throw err('ERR_ARGUMENT', `ids[${i}]: expected string`);
    if (MESSAGE_ID_PATTERN.test(id)) out.add(id);
  });
  return [...out];
}

/** Per-recipient totals a quota applies to. */
export interface MailboxCounter {
  count: number;
  bytes: number;
}

/**
 * Decides which units of a group fit their quotas, in order, against running totals (`counters`
 * is updated for accepted units). Returns, per unit, true or the ERR_STORE_FULL to reject it with.
 * `counters` must hold an entry for every recipient in the group.
 */
export function planQuotas(units: readonly EnqueueUnit[], counters: Map<string, MailboxCounter>): Array<true | DidcommError> {
  return units.map((unit) => {
    const adds = new Map<string, MailboxCounter>();
    for (const m of unit.messages) {
      const a = adds.get(m.recipient) ?? { count: 0, bytes: 0 };
      a.count += 1;
      a.bytes += m.bytes.length;
      adds.set(m.recipient, a);
    }
    for (const [r, a] of adds) {
      const c = counters.get(r)!;
      if (c.count + a.count > unit.limits.maxMessages) {
        return err('ERR_STORE_FULL', `mailbox full: more than ${unit.limits.maxMessages} messages`);
      }
      if (c.bytes + a.bytes > unit.limits.maxBytes) return err('ERR_STORE_FULL', `mailbox full: more than ${unit.limits.maxBytes} bytes`);
    }
    for (const [r, a] of adds) {
      const c = counters.get(r)!;
      c.count += a.count;
      c.bytes += a.bytes;
    }
    return true;
  });
}

/** Recipients of a unit list in code point order (lock order for server stores). */
export function unitRecipients(units: readonly EnqueueUnit[]): Set<string> {
  const set = new Set<string>();
  for (const u of units) for (const m of u.messages) set.add(m.recipient);
  return set;
}

/** Recipients of units that `planQuotas` rejected (candidates for purging expired mail first). */
export function rejectedRecipients(units: readonly EnqueueUnit[], plan: ReadonlyArray<true | Error>): Set<string> {
  const set = new Set<string>();
  units.forEach((u, i) => {
    if (plan[i] !== true) for (const m of u.messages) set.add(m.recipient);
  });
  return set;
}
