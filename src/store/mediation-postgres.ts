/**
 * PostgresMediationStore: coordinate-mediation 2.0 state in PostgreSQL, shared by several mediator
 * processes (tables and connection handling in postgres.ts). Key updates lock the owner's grant
 * row first, so one owner's updates are serialized across processes; the recipient DID is the
 * primary key, and a concurrent insert of the same DID by another owner shows up as 'conflict'.
 */
import {
  MediationStoreBase,
  planAdds,
  planRemoves,
  type KeyPage,
  type KeyUpdateResult,
  type MediationGrant,
  type MediationStoreOptions,
} from './mediation.js';
import { sortedUnique } from './validate.js';
import { postgresHandleFor, type PgQuery, type PostgresHandle, type PostgresOptions } from './postgres.js';

export interface PostgresMediationStoreOptions extends MediationStoreOptions, PostgresOptions {}

export class PostgresMediationStore extends MediationStoreBase {
  private readonly h: PostgresHandle;
  private readonly G: string;
  private readonly K: string;

  private constructor(handle: PostgresHandle, options: PostgresMediationStoreOptions) {
    super(options);
    this.h = handle;
    this.G = handle.table('mediation_grants');
    this.K = handle.table('mediation_keys');
  }

  static async open(urlOrHandle: string | PostgresHandle, options: PostgresMediationStoreOptions = {}): Promise<PostgresMediationStore> {
    const h = await postgresHandleFor(urlOrHandle, options);
    try {
      await h.migrate([
        `CREATE TABLE IF NOT EXISTS ${h.table('mediation_grants')} (
          owner TEXT COLLATE "C" PRIMARY KEY, routing_did TEXT NOT NULL, granted_at BIGINT NOT NULL)`,
        `CREATE TABLE IF NOT EXISTS ${h.table('mediation_keys')} (
          recipient TEXT COLLATE "C" PRIMARY KEY, owner TEXT COLLATE "C" NOT NULL)`,
        `CREATE INDEX IF NOT EXISTS ${h.ident('mediation_keys_owner')} ON ${h.table('mediation_keys')} (owner, recipient)`,
      ]);
      return new PostgresMediationStore(h, options);
    } catch (e) {
      await h.release().catch(() => {});
      throw e;
    }
  }

  private async lockGrant(q: PgQuery, ownerDid: string): Promise<void> {
    const rows = await q(`SELECT 1 FROM ${this.G} WHERE owner = $1 FOR UPDATE`, [ownerDid]);
    if (rows.length === 0) MediationStoreBase.notGranted();
  }

  protected async doGrant(ownerDid: string, routingDid: string, now: number): Promise<void> {
    await this.h.query(
      `INSERT INTO ${this.G} (owner, routing_did, granted_at) VALUES ($1, $2, $3)
       ON CONFLICT (owner) DO UPDATE SET routing_did = excluded.routing_did, granted_at = excluded.granted_at`,
      [ownerDid, routingDid, now],
    );
  }

  protected async doGetGrant(ownerDid: string): Promise<MediationGrant | undefined> {
    const [row] = await this.h.query<{ routing_did: string; granted_at: string }>(
      `SELECT routing_did, granted_at FROM ${this.G} WHERE owner = $1`,
      [ownerDid],
    );
    return row && { routingDid: row.routing_did, grantedAt: Number(row.granted_at) };
  }

  protected async doAddKeys(ownerDid: string, keys: string[]): Promise<KeyUpdateResult[]> {
    return this.h.tx('mediation add keys', async (q) => {
      await this.lockGrant(q, ownerDid);
      const [{ n }] = (await q<{ n: string }>(`SELECT count(*) AS n FROM ${this.K} WHERE owner = $1`, [ownerDid])) as [{ n: string }];
      const current = await q<{ recipient: string; owner: string }>(`SELECT recipient, owner FROM ${this.K} WHERE recipient = ANY($1::text[])`, [keys]);
      const { results, insert } = planAdds(ownerDid, keys, new Map(current.map((r) => [r.recipient, r.owner])), Number(n), this.maxKeysPerOwner);
      if (insert.length === 0) return results;
      const inserted = await q<{ recipient: string }>(
        `INSERT INTO ${this.K} (recipient, owner) SELECT k, $2 FROM unnest($1::text[]) AS k
         ON CONFLICT (recipient) DO NOTHING RETURNING recipient`,
        [sortedUnique(insert), ownerDid], // one global insert order: no deadlock between owners
      );
      const won = new Set(inserted.map((r) => r.recipient));
      // A key not inserted was taken by another owner between our read and our insert.
      return results.map((r) => (r.result === 'success' && !won.has(r.recipientDid) ? { ...r, result: 'conflict' } : r));
    });
  }

  protected async doRemoveKeys(ownerDid: string, keys: string[]): Promise<KeyUpdateResult[]> {
    return this.h.tx('mediation remove keys', async (q) => {
      await this.lockGrant(q, ownerDid);
      const deleted = await q<{ recipient: string }>(
        `DELETE FROM ${this.K} WHERE owner = $1 AND recipient = ANY($2::text[]) RETURNING recipient`,
        [ownerDid, keys],
      );
      return planRemoves(ownerDid, keys, new Map(deleted.map((r) => [r.recipient, ownerDid]))).results;
    });
  }

  protected async doOwnerOf(recipientDid: string): Promise<string | undefined> {
    const [row] = await this.h.query<{ owner: string }>(`SELECT owner FROM ${this.K} WHERE recipient = $1`, [recipientDid]);
    return row?.owner;
  }

  protected async doListKeys(ownerDid: string, limit: number, offset: number): Promise<KeyPage> {
    const [row] = await this.h.query<{ total: string; keys: string[] }>(
      `SELECT (SELECT count(*) FROM ${this.K} WHERE owner = $1) AS total,
         coalesce((SELECT array_agg(recipient ORDER BY recipient) FROM
           (SELECT recipient FROM ${this.K} WHERE owner = $1 ORDER BY recipient LIMIT $2 OFFSET $3) s), '{}') AS keys`,
      [ownerDid, limit, offset],
    );
    return { keys: row!.keys, total: Number(row!.total) };
  }

  protected async doRevoke(ownerDid: string): Promise<number> {
    return this.h.tx('mediation revoke', async (q) => {
      await q(`SELECT 1 FROM ${this.G} WHERE owner = $1 FOR UPDATE`, [ownerDid]);
      const gone = await q(`DELETE FROM ${this.K} WHERE owner = $1 RETURNING 1`, [ownerDid]);
      await q(`DELETE FROM ${this.G} WHERE owner = $1`, [ownerDid]);
      return gone.length;
    });
  }

  protected async shutdown(): Promise<void> {
    await this.h.release();
  }
}
