/**
 * KvStore: ordered key-value persistence for an agent's own state — outbox entries, pairwise
 * replay windows and sequence-number high-water marks, dedupe ids (DESIGN.md §2 `store/`).
 *
 * Contract (every implementation passes `test/store/kv-contract.ts`):
 * - Keys are well-formed strings of 1..MAX_KEY_BYTES UTF-8 bytes; values are `Uint8Array`
 *   (copied in and out, so callers may reuse their buffers).
 * - `list`/`count` see keys in **Unicode code point order = UTF-8 byte order** (see
 *   `compareKeys`); `after` is an exclusive cursor for paging.
 * - `batch` is atomic: every op applies or none does. Ops apply in order (a later op on the same
 *   key wins).
 * - A `put`/`batch`/`delete` that resolved is durable for persistent backends (SQLite: WAL with
 *   `synchronous=FULL`, one fsync per call).
 * - Bounded: `maxKeys` / `maxBytes` (sum of key + value bytes) → ERR_STORE_FULL, a value over
 *   `maxValueBytes` or a key over MAX_KEY_BYTES → ERR_TOO_LARGE; nothing is ever dropped silently.
 *   A write that does not grow the store past a limit is always allowed (so a store reopened with
 *   smaller limits can still be shrunk).
 */
import { err } from '../errors.js';
import { checkWellFormed, utf8Length } from './validate.js';

export interface KvEntry {
  key: string;
  value: Uint8Array;
}

export type KvOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'delete'; key: string };

export interface KvListOptions {
  /** Maximum entries returned (1..MAX_LIST_LIMIT, default DEFAULT_LIST_LIMIT). */
  limit?: number;
  /** Return only keys strictly after this one (paging cursor: the last key of the previous page). */
  after?: string;
}

export interface KvStoreLimits {
  /** Maximum number of keys. */
  maxKeys?: number;
  /** Maximum total of UTF-8 key bytes + value bytes. */
  maxBytes?: number;
  /** Maximum size of one value (default DEFAULT_MAX_VALUE_BYTES). */
  maxValueBytes?: number;
}

export interface KvUsage {
  keys: number;
  bytes: number;
}

export interface KvStore {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, value: Uint8Array): Promise<void>;
  /** Resolves true if the key existed. */
  delete(key: string): Promise<boolean>;
  /** Atomic: all ops or none (at most MAX_BATCH_OPS). */
  batch(ops: readonly KvOp[]): Promise<void>;
  /** Entries whose key starts with `prefix` ('' = all), in key order. */
  list(prefix: string, options?: KvListOptions): Promise<KvEntry[]>;
  /** Number of keys starting with `prefix` ('' = all). */
  count(prefix: string): Promise<number>;
  /** Current totals that the limits apply to. */
  usage(): Promise<KvUsage>;
  close(): Promise<void>;
}

export const MAX_KEY_BYTES = 1024;
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;
export const MAX_BATCH_OPS = 10_000;
export const DEFAULT_LIST_LIMIT = 1000;
export const MAX_LIST_LIMIT = 10_000;

/** Throws unless `key` is a valid store key. */
export function checkKvKey(key: unknown, label = 'key'): string {
  const k = checkWellFormed(key, label);
  if (k.length === 0) throw err('ERR_ARGUMENT', `${label}: empty`);
  if (utf8Length(k) > MAX_KEY_BYTES) throw err('ERR_TOO_LARGE', `${label}: longer than ${MAX_KEY_BYTES} bytes`);
  return k;
}

/** Throws unless `prefix` is a valid prefix ('' allowed). */
export function checkKvPrefix(prefix: unknown): string {
  const p = checkWellFormed(prefix, 'prefix');
  if (utf8Length(p) > MAX_KEY_BYTES) throw err('ERR_TOO_LARGE', `prefix: longer than ${MAX_KEY_BYTES} bytes`);
  return p;
}

export interface ResolvedKvLimits {
  maxKeys: number;
  maxBytes: number;
  maxValueBytes: number;
}

function optionalLimit(v: unknown, label: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw err('ERR_ARGUMENT', `${label}: expected a non-negative integer`);
  }
  return v;
}

export function resolveKvLimits(limits: KvStoreLimits = {}): ResolvedKvLimits {
  return {
    maxKeys: optionalLimit(limits.maxKeys, 'maxKeys', Number.MAX_SAFE_INTEGER),
    maxBytes: optionalLimit(limits.maxBytes, 'maxBytes', Number.MAX_SAFE_INTEGER),
    maxValueBytes: optionalLimit(limits.maxValueBytes, 'maxValueBytes', DEFAULT_MAX_VALUE_BYTES),
  };
}

/** An op after validation; `keyBytes` is the UTF-8 length of its key. */
export type CheckedKvOp =
  | { type: 'put'; key: string; value: Uint8Array; keyBytes: number }
  | { type: 'delete'; key: string; keyBytes: number };

function checkValue(value: unknown, limits: ResolvedKvLimits): Uint8Array {
  if (!(value instanceof Uint8Array)) throw err('ERR_ARGUMENT', 'value: expected Uint8Array');
  if (value.length > limits.maxValueBytes) {
    throw err('ERR_TOO_LARGE', `value: ${value.length} bytes exceeds the limit of ${limits.maxValueBytes}`);
  }
  return value;
}

/** Validates a batch (types, keys, value sizes, op count) and copies the values. */
export function checkKvOps(ops: unknown, limits: ResolvedKvLimits): CheckedKvOp[] {
  if (!Array.isArray(ops)) throw err('ERR_ARGUMENT', 'ops: expected an array');
  if (ops.length > MAX_BATCH_OPS) throw err('ERR_TOO_LARGE', `batch: more than ${MAX_BATCH_OPS} ops`);
  return ops.map((op: unknown, i): CheckedKvOp => {
    if (typeof op !== 'object' || op === null) throw err('ERR_ARGUMENT', `ops[${i}]: expected an object`);
    const o = op as { type?: unknown; key?: unknown; value?: unknown };
    const key = checkKvKey(o.key, `ops[${i}].key`);
    const keyBytes = utf8Length(key);
    if (o.type === 'put') return { type: 'put', key, value: checkValue(o.value, limits).slice(), keyBytes };
    if (o.type === 'delete') return { type: 'delete', key, keyBytes };
    throw err('ERR_ARGUMENT', `ops[${i}].type: expected 'put' or 'delete'`);
  });
}

/** Validates one put. */
export function checkKvPut(key: unknown, value: unknown, limits: ResolvedKvLimits): CheckedKvOp[] {
  return checkKvOps([{ type: 'put', key, value }], limits);
}

/**
 * Applies a checked batch to usage totals, given a lookup of each key's current stored size
 * (`undefined` = absent); throws ERR_STORE_FULL if the batch grows the store past a limit.
 * `sizeOf` sees the effects of earlier ops in the same batch through the returned overlay.
 */
export function planKvBatch(
  ops: readonly CheckedKvOp[],
  before: KvUsage,
  storedSize: (key: string) => number | undefined,
  limits: ResolvedKvLimits,
): KvUsage {
  const overlay = new Map<string, number | undefined>();
  let keys = before.keys;
  let bytes = before.bytes;
  for (const op of ops) {
    const old = overlay.has(op.key) ? overlay.get(op.key) : storedSize(op.key);
    if (old !== undefined) {
      keys -= 1;
      bytes -= old;
    }
    if (op.type === 'put') {
      const size = op.keyBytes + op.value.length;
      keys += 1;
      bytes += size;
      overlay.set(op.key, size);
    } else {
      overlay.set(op.key, undefined);
    }
  }
  if (keys > limits.maxKeys && keys > before.keys) {
    throw err('ERR_STORE_FULL', `key-value store full: ${keys} keys exceeds the limit of ${limits.maxKeys}`);
  }
  if (bytes > limits.maxBytes && bytes > before.bytes) {
    throw err('ERR_STORE_FULL', `key-value store full: ${bytes} bytes exceeds the limit of ${limits.maxBytes}`);
  }
  return { keys, bytes };
}

export function checkListOptions(options: KvListOptions | undefined): { limit: number; after: string | undefined } {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw err('ERR_ARGUMENT', 'list options: expected an object');
  }
  const limitRaw = options?.limit;
  let limit = DEFAULT_LIST_LIMIT;
  if (limitRaw !== undefined) {
    if (typeof limitRaw !== 'number' || !Number.isSafeInteger(limitRaw) || limitRaw < 1 || limitRaw > MAX_LIST_LIMIT) {
      throw err('ERR_ARGUMENT', `limit: expected an integer in 1..${MAX_LIST_LIMIT}`);
    }
    limit = limitRaw;
  }
  const after = options?.after === undefined ? undefined : checkWellFormed(options.after, 'after');
  return { limit, after };
}
