/**
 * SqliteMediationStore: coordinate-mediation 2.0 state in SQLite (WAL, synchronous=FULL; usually
 * the same file as the SQLite mailbox store, see open.ts). Each call is one IMMEDIATE
 * transaction; the recipient DID is the primary key, so one key can never have two owners.
 */
import type BetterSqlite3 from 'better-sqlite3';
import {
  MediationStoreBase,
  planAdds,
  planRemoves,
  type KeyPage,
  type KeyUpdateResult,
  type MediationGrant,
  type MediationStoreOptions,
} from './mediation.js';
import { sqliteCall, sqliteHandleFor, type SqliteHandle, type SqliteOpenOptions } from './sqlite.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS didcomm_mediation_grants (
  owner TEXT PRIMARY KEY, routing_did TEXT NOT NULL, granted_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS didcomm_mediation_keys (recipient TEXT PRIMARY KEY, owner TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS didcomm_mediation_keys_owner ON didcomm_mediation_keys (owner, recipient);
`;

export interface SqliteMediationStoreOptions extends MediationStoreOptions, SqliteOpenOptions {}

type Stmt = BetterSqlite3.Statement;

export class SqliteMediationStore extends MediationStoreBase {
  private readonly handle: SqliteHandle;
  private readonly s: Record<'grant' | 'getGrant' | 'ownerOf' | 'count' | 'insert' | 'remove' | 'list' | 'revokeKeys' | 'revokeGrant', Stmt>;

  private constructor(handle: SqliteHandle, options: SqliteMediationStoreOptions) {
    super(options);
    this.handle = handle;
    const db = handle.db;
    sqliteCall('create mediation tables', () => db.exec(SCHEMA));
    const G = 'didcomm_mediation_grants';
    const K = 'didcomm_mediation_keys';
    this.s = sqliteCall('prepare mediation statements', () => ({
      grant: db.prepare(
        `INSERT INTO ${G} (owner, routing_did, granted_at) VALUES (?, ?, ?)
         ON CONFLICT (owner) DO UPDATE SET routing_did = excluded.routing_did, granted_at = excluded.granted_at`,
      ),
      getGrant: db.prepare(`SELECT routing_did AS routingDid, granted_at AS grantedAt FROM ${G} WHERE owner = ?`),
      ownerOf: db.prepare(`SELECT owner FROM ${K} WHERE recipient = ?`).pluck(),
      count: db.prepare(`SELECT count(*) FROM ${K} WHERE owner = ?`).pluck(),
      insert: db.prepare(`INSERT INTO ${K} (recipient, owner) VALUES (?, ?)`),
      remove: db.prepare(`DELETE FROM ${K} WHERE recipient = ? AND owner = ?`),
      list: db.prepare(`SELECT recipient FROM ${K} WHERE owner = ? ORDER BY recipient LIMIT ? OFFSET ?`).pluck(),
      revokeKeys: db.prepare(`DELETE FROM ${K} WHERE owner = ?`),
      revokeGrant: db.prepare(`DELETE FROM ${G} WHERE owner = ?`),
    }));
  }

  static async open(pathOrHandle: string | SqliteHandle, options: SqliteMediationStoreOptions = {}): Promise<SqliteMediationStore> {
    const handle = await sqliteHandleFor(pathOrHandle, options);
    try {
      return new SqliteMediationStore(handle, options);
    } catch (e) {
      handle.release();
      throw e;
    }
  }

  /** A write transaction (IMMEDIATE: takes the write lock up front, no upgrade deadlocks). */
  private tx<T>(what: string, fn: () => T): T {
    return sqliteCall(what, () => this.handle.db.transaction(fn).immediate());
  }

  private owners(keys: readonly string[]): Map<string, string> {
    const m = new Map<string, string>();
    for (const k of keys) {
      const o = this.s.ownerOf.get(k) as string | undefined;
      if (o !== undefined) m.set(k, o);
    }
    return m;
  }

  private requireGrant(ownerDid: string): void {
    if (this.s.getGrant.get(ownerDid) === undefined) MediationStoreBase.notGranted();
  }

  protected async doGrant(ownerDid: string, routingDid: string, now: number): Promise<void> {
    sqliteCall('mediation grant', () => this.s.grant.run(ownerDid, routingDid, now));
  }

  protected async doGetGrant(ownerDid: string): Promise<MediationGrant | undefined> {
    const row = sqliteCall('mediation grant lookup', () => this.s.getGrant.get(ownerDid)) as MediationGrant | undefined;
    return row && { routingDid: row.routingDid, grantedAt: row.grantedAt };
  }

  protected async doAddKeys(ownerDid: string, keys: string[]): Promise<KeyUpdateResult[]> {
    return this.tx('mediation add keys', () => {
      this.requireGrant(ownerDid);
      const count = this.s.count.get(ownerDid) as number;
      const { results, insert } = planAdds(ownerDid, keys, this.owners(keys), count, this.maxKeysPerOwner);
      for (const k of insert) this.s.insert.run(k, ownerDid);
      return results;
    });
  }

  protected async doRemoveKeys(ownerDid: string, keys: string[]): Promise<KeyUpdateResult[]> {
    return this.tx('mediation remove keys', () => {
      this.requireGrant(ownerDid);
      const { results, remove } = planRemoves(ownerDid, keys, this.owners(keys));
      for (const k of remove) this.s.remove.run(k, ownerDid);
      return results;
    });
  }

  protected async doOwnerOf(recipientDid: string): Promise<string | undefined> {
    return sqliteCall('mediation owner lookup', () => this.s.ownerOf.get(recipientDid) as string | undefined);
  }

  protected async doListKeys(ownerDid: string, limit: number, offset: number): Promise<KeyPage> {
    // A deferred (read) transaction: one consistent snapshot for the page and the total.
    const read = this.handle.db.transaction(() => ({
      keys: this.s.list.all(ownerDid, limit, offset) as string[],
      total: this.s.count.get(ownerDid) as number,
    }));
    return sqliteCall('mediation list keys', () => read());
  }

  protected async doRevoke(ownerDid: string): Promise<number> {
    return this.tx('mediation revoke', () => {
      const n = this.s.revokeKeys.run(ownerDid).changes;
      this.s.revokeGrant.run(ownerDid);
      return n;
    });
  }

  protected async shutdown(): Promise<void> {
    this.handle.release();
  }
}
