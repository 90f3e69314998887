/**
 * MemoryKvStore: the in-memory KvStore (tests, simulations, boards without a filesystem).
 * Same semantics as the persistent stores — code point key order, atomic batches, limits with
 * ERR_STORE_FULL / ERR_TOO_LARGE, values copied in and out — only without durability.
 * Keys are kept in a sorted array (binary search) next to a Map.
 */
import { err } from '../errors.js';
import {
  checkKvKey,
  checkKvOps,
  checkKvPrefix,
  checkKvPut,
  checkListOptions,
  planKvBatch,
  resolveKvLimits,
  type CheckedKvOp,
  type KvEntry,
  type KvListOptions,
  type KvOp,
  type KvStore,
  type KvStoreLimits,
  type KvUsage,
  type ResolvedKvLimits,
} from './kv.js';
import { compareKeys } from './validate.js';

/** Index of the first key >= `key` (or > `key` when `exclusive`). */
function lowerBound(keys: readonly string[], key: string, exclusive: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareKeys(keys[mid]!, key);
    if (c < 0 || (exclusive && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class MemoryKvStore implements KvStore {
  private readonly sorted: string[] = [];
  private readonly values = new Map<string, { value: Uint8Array; size: number }>();
  private readonly limits: ResolvedKvLimits;
  private totals: KvUsage = { keys: 0, bytes: 0 };
  private closed = false;

  constructor(limits: KvStoreLimits = {}) {
    this.limits = resolveKvLimits(limits);
  }

  private open(): void {
    if (this.closed) throw err('ERR_STORE', 'key-value store is closed');
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.open();
    const k = checkKvKey(key);
    return this.values.get(k)?.value.slice();
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.open();
    this.apply(checkKvPut(key, value, this.limits));
  }

  async delete(key: string): Promise<boolean> {
    this.open();
    const k = checkKvKey(key);
    const existed = this.values.has(k);
    this.apply([{ type: 'delete', key: k, keyBytes: 0 }]);
    return existed;
  }

  async batch(ops: readonly KvOp[]): Promise<void> {
    this.open();
    this.apply(checkKvOps(ops, this.limits));
  }

  private apply(ops: readonly CheckedKvOp[]): void {
    // Plan first (throws on a limit breach before anything changes), then mutate: atomic.
    const after = planKvBatch(ops, this.totals, (k) => this.values.get(k)?.size, this.limits);
    for (const op of ops) {
      const present = this.values.has(op.key);
      if (op.type === 'put') {
        this.values.set(op.key, { value: op.value, size: op.keyBytes + op.value.length });
        if (!present) this.sorted.splice(lowerBound(this.sorted, op.key, false), 0, op.key);
      } else if (present) {
        this.values.delete(op.key);
        this.sorted.splice(lowerBound(this.sorted, op.key, false), 1);
      }
    }
    this.totals = after;
  }

  async list(prefix: string, options?: KvListOptions): Promise<KvEntry[]> {
    this.open();
    const p = checkKvPrefix(prefix);
    const { limit, after } = checkListOptions(options);
    let i = after !== undefined && compareKeys(after, p) >= 0 ? lowerBound(this.sorted, after, true) : lowerBound(this.sorted, p, false);
    const out: KvEntry[] = [];
    for (; i < this.sorted.length && out.length < limit; i++) {
      const key = this.sorted[i]!;
      if (!key.startsWith(p)) break;
      out.push({ key, value: this.values.get(key)!.value.slice() });
    }
    return out;
  }

  async count(prefix: string): Promise<number> {
    this.open();
    const p = checkKvPrefix(prefix);
    if (p === '') return this.sorted.length;
    let n = 0;
    for (let i = lowerBound(this.sorted, p, false); i < this.sorted.length && this.sorted[i]!.startsWith(p); i++) n++;
    return n;
  }

  async usage(): Promise<KvUsage> {
    this.open();
    return { ...this.totals };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
