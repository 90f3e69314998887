/**
 * SqliteKvStore: the persistent KvStore on SQLite (better-sqlite3, WAL, synchronous=FULL, file
 * created 0600). Keys are stored as their UTF-8 bytes in a BLOB primary key, so SQLite's memcmp
 * order is the contract's code point order and prefix scans are index ranges. Key count and byte
 * totals live in a one-row table updated in the same transaction, so limits hold even when
 * several processes share the file. Every write is one `BEGIN IMMEDIATE` transaction: one fsync
 * per resolved put/delete/batch (batch many small writes to go faster).
 */
import { err } from '../errors.js';
import { fromUtf8, utf8 } from '../util/bytes.js';
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
import { asBytes, sqliteCall, sqliteHandleFor, type SqliteHandle, type SqliteOpenOptions } from './sqlite.js';
import type BetterSqlite3 from 'better-sqlite3';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS didcomm_kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS didcomm_kv_usage (
  id INTEGER PRIMARY KEY CHECK (id = 0), keys INTEGER NOT NULL, bytes INTEGER NOT NULL);
INSERT OR IGNORE INTO didcomm_kv_usage (id, keys, bytes)
  SELECT 0, count(*), coalesce(sum(length(k) + length(v)), 0) FROM didcomm_kv;
`;

export interface SqliteKvStoreOptions extends KvStoreLimits, SqliteOpenOptions {}

/** Smallest byte string greater than every string starting with `prefix` (undefined: no bound). */
function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

type Stmt = BetterSqlite3.Statement;

export class SqliteKvStore implements KvStore {
  private readonly handle: SqliteHandle;
  private readonly limits: ResolvedKvLimits;
  private readonly stmts: Record<'get' | 'size' | 'put' | 'del' | 'usage' | 'setUsage', Stmt>;
  /** Applies a checked batch in one IMMEDIATE transaction; returns how many deletes removed a row. */
  private readonly applyTx: (ops: readonly CheckedKvOp[]) => number;
  private readonly cached = new Map<string, Stmt>();
  private closed = false;

  private constructor(handle: SqliteHandle, limits: ResolvedKvLimits) {
    this.handle = handle;
    this.limits = limits;
    const db = handle.db;
    sqliteCall('create kv tables', () => db.exec(SCHEMA));
    this.stmts = sqliteCall('prepare kv statements', () => ({
      get: db.prepare('SELECT v FROM didcomm_kv WHERE k = ?').pluck(),
      size: db.prepare('SELECT length(k) + length(v) FROM didcomm_kv WHERE k = ?').pluck(),
      put: db.prepare('INSERT INTO didcomm_kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v'),
      del: db.prepare('DELETE FROM didcomm_kv WHERE k = ?'),
      usage: db.prepare('SELECT keys, bytes FROM didcomm_kv_usage WHERE id = 0'),
      setUsage: db.prepare('UPDATE didcomm_kv_usage SET keys = ?, bytes = ? WHERE id = 0'),
    }));
    const tx = db.transaction((ops: readonly CheckedKvOp[]) => {
      const encoded = new Map<string, Uint8Array>();
      const key = (k: string): Uint8Array => {
        let b = encoded.get(k);
        if (!b) encoded.set(k, (b = utf8(k)));
        return b;
      };
      const before = this.stmts.usage.get() as KvUsage;
      const after = planKvBatch(ops, before, (k) => this.stmts.size.get(key(k)) as number | undefined, this.limits);
      let deleted = 0;
      for (const op of ops) {
        if (op.type === 'put') this.stmts.put.run(key(op.key), op.value);
        else deleted += this.stmts.del.run(key(op.key)).changes;
      }
      this.stmts.setUsage.run(after.keys, after.bytes);
      return deleted;
    });
    this.applyTx = (ops) => tx.immediate(ops);
  }

  /** Opens (creating if needed) a store on `path` (file or ':memory:') or on a shared handle. */
  static async open(pathOrHandle: string | SqliteHandle, options: SqliteKvStoreOptions = {}): Promise<SqliteKvStore> {
    const limits = resolveKvLimits(options);
    const handle = await sqliteHandleFor(pathOrHandle, options);
    try {
      return new SqliteKvStore(handle, limits);
    } catch (e) {
      handle.release();
      throw e;
    }
  }

  private check(): void {
    if (this.closed) throw err('ERR_STORE', 'key-value store is closed');
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.check();
    const k = utf8(checkKvKey(key));
    const v = sqliteCall('kv get', () => this.stmts.get.get(k) as Uint8Array | undefined);
    return v === undefined ? undefined : asBytes(v);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.check();
    const ops = checkKvPut(key, value, this.limits);
    sqliteCall('kv put', () => this.applyTx(ops));
  }

  async delete(key: string): Promise<boolean> {
    this.check();
    const k = checkKvKey(key);
    return sqliteCall('kv delete', () => this.applyTx([{ type: 'delete', key: k, keyBytes: 0 }]) > 0);
  }

  async batch(ops: readonly KvOp[]): Promise<void> {
    this.check();
    const checked = checkKvOps(ops, this.limits);
    if (checked.length === 0) return;
    sqliteCall('kv batch', () => this.applyTx(checked));
  }

  private range(prefix: string, after: string | undefined): { where: string; params: Uint8Array[] } {
    const lo = utf8(prefix);
    const hi = prefix === '' ? undefined : prefixEnd(lo);
    const clauses: string[] = [];
    const params: Uint8Array[] = [];
    if (after !== undefined) {
      const a = utf8(after);
      // Whichever lower bound is tighter; `k > after` also covers after < prefix.
      clauses.push('k > ?', 'k >= ?');
      params.push(a, lo);
    } else if (prefix !== '') {
      clauses.push('k >= ?');
      params.push(lo);
    }
    if (hi) {
      clauses.push('k < ?');
      params.push(hi);
    }
    return { where: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  /** A prepared statement for one of the few range shapes `range` produces (cached). */
  private statement(sql: string): Stmt {
    let s = this.cached.get(sql);
    if (!s) this.cached.set(sql, (s = this.handle.db.prepare(sql)));
    return s;
  }

  async list(prefix: string, options?: KvListOptions): Promise<KvEntry[]> {
    this.check();
    const p = checkKvPrefix(prefix);
    const { limit, after } = checkListOptions(options);
    const { where, params } = this.range(p, after);
    return sqliteCall('kv list', () => {
      const rows = this.statement(`SELECT k, v FROM didcomm_kv ${where} ORDER BY k LIMIT ?`)
        .all(...params, limit) as Array<{ k: Uint8Array; v: Uint8Array }>;
      return rows.map((r) => ({ key: fromUtf8(r.k), value: asBytes(r.v) }));
    });
  }

  async count(prefix: string): Promise<number> {
    this.check();
    const p = checkKvPrefix(prefix);
    if (p === '') return (await this.usage()).keys;
    const { where, params } = this.range(p, undefined);
    return sqliteCall('kv count', () => this.statement(`SELECT count(*) FROM didcomm_kv ${where}`).pluck().get(...params) as number);
  }

  async usage(): Promise<KvUsage> {
    this.check();
    const u = sqliteCall('kv usage', () => this.stmts.usage.get() as KvUsage);
    return { keys: u.keys, bytes: u.bytes };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handle.release();
  }
}
