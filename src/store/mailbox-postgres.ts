/**
 * PostgresMailboxStore: the server-backed mailbox store for several mediator processes sharing one
 * PostgreSQL database (see postgres.ts for tables, durability and LISTEN/NOTIFY).
 *
 * Enqueues are group-committed: per group one transaction of four round trips —
 * BEGIN; lock (upsert) the per-recipient totals rows in code point order; insert the accepted
 * messages, write the totals and `pg_notify` in one statement; COMMIT. Locking totals rows in one
 * global order means concurrent groups from different processes never deadlock, and serializes
 * writers per recipient so quotas hold across processes and FIFO (a bigserial) follows commit
 * order. `ack` and `purgeExpired` lock the totals rows first as well, then delete messages.
 */
import { GroupCommit } from './group-commit.js';
import { MailboxStoreBase } from './mailbox-base.js';
import {
  planQuotas,
  rejectedRecipients,
  unitRecipients,
  type EnqueueUnit,
  type MailboxCounter,
  type MailboxStatus,
  type MailboxStoreOptions,
  type StoredMessage,
} from './mailbox.js';
import { notifyPayloads, postgresHandleFor, type PgQuery, type PostgresHandle, type PostgresOptions } from './postgres.js';
import { sortedUnique } from './validate.js';
import type { DidcommError } from '../errors.js';

export interface PostgresMailboxStoreOptions extends MailboxStoreOptions, PostgresOptions {
  /** LISTEN for live notifications from other processes (default true; uses one more connection). */
  live?: boolean;
}

/** Recipients whose expired mail one purge transaction removes. */
const PURGE_RECIPIENTS = 50;

type Row = { id: string; bytes: Uint8Array; received_at: string; expires_at: string | null };

function toMessage(r: Row): StoredMessage {
  const m: StoredMessage = { id: r.id, bytes: new Uint8Array(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength), receivedAt: Number(r.received_at) };
  if (r.expires_at !== null) m.expiresAt = Number(r.expires_at);
  return m;
}

function cloneCounters(m: Map<string, MailboxCounter>): Map<string, MailboxCounter> {
  return new Map([...m].map(([k, v]) => [k, { ...v }]));
}

export class PostgresMailboxStore extends MailboxStoreBase {
  private readonly h: PostgresHandle;
  private readonly group: GroupCommit<EnqueueUnit, void>;
  private readonly M: string;
  private readonly R: string;

  private constructor(handle: PostgresHandle, options: PostgresMailboxStoreOptions) {
    super(options, handle.notifier);
    this.h = handle;
    this.M = handle.table('mailbox_messages');
    this.R = handle.table('mailbox_recipients');
    this.group = new GroupCommit<EnqueueUnit, void>((units) => this.commitGroup(units), options.groupCommit);
  }

  /** Opens the store on a connection string or a shared handle; creates its tables if missing. */
  static async open(urlOrHandle: string | PostgresHandle, options: PostgresMailboxStoreOptions = {}): Promise<PostgresMailboxStore> {
    const h = await postgresHandleFor(urlOrHandle, options);
    try {
      await h.migrate([
        `CREATE TABLE IF NOT EXISTS ${h.table('mailbox_messages')} (
          seq BIGSERIAL PRIMARY KEY,
          id TEXT NOT NULL UNIQUE,
          recipient TEXT COLLATE "C" NOT NULL,
          bytes BYTEA NOT NULL,
          size INTEGER NOT NULL,
          received_at BIGINT NOT NULL,
          expires_at BIGINT)`,
        `CREATE INDEX IF NOT EXISTS ${h.ident('mailbox_messages_recipient')} ON ${h.table('mailbox_messages')} (recipient, seq)`,
        `CREATE INDEX IF NOT EXISTS ${h.ident('mailbox_messages_expiry')} ON ${h.table('mailbox_messages')} (expires_at)
           WHERE expires_at IS NOT NULL`,
        `CREATE TABLE IF NOT EXISTS ${h.table('mailbox_recipients')} (
          recipient TEXT COLLATE "C" PRIMARY KEY,
          message_count INTEGER NOT NULL,
          total_bytes BIGINT NOT NULL)`,
      ]);
      if (options.live !== false) await h.listen();
      return new PostgresMailboxStore(h, options);
    } catch (e) {
      await h.release().catch(() => {});
      throw e;
    }
  }

  /** Number of group commits so far. */
  get commits(): number {
    return this.group.commits;
  }

  /** Locks (creating at zero) the totals rows of `recipients`, in code point order. */
  private async lockCounters(q: PgQuery, recipients: string[]): Promise<Map<string, MailboxCounter>> {
    const rows = await q<{ recipient: string; message_count: number; total_bytes: string }>(
      `INSERT INTO ${this.R} AS c (recipient, message_count, total_bytes)
         SELECT r, 0, 0 FROM unnest($1::text[]) WITH ORDINALITY AS t(r, o) ORDER BY o
       ON CONFLICT (recipient) DO UPDATE SET message_count = c.message_count
       RETURNING recipient, message_count, total_bytes`,
      [recipients],
    );
    return new Map(rows.map((r) => [r.recipient, { count: r.message_count, bytes: Number(r.total_bytes) }]));
  }

  /** Deletes expired mail of (already locked) recipients and subtracts it from `base`. */
  private async purgeLocked(q: PgQuery, recipients: string[], now: number, base: Map<string, MailboxCounter>): Promise<number> {
    const rows = await q<{ recipient: string; size: number }>(
      `DELETE FROM ${this.M} WHERE recipient = ANY($1::text[]) AND expires_at <= $2 RETURNING recipient, size`,
      [recipients, now],
    );
    for (const r of rows) {
      const c = base.get(r.recipient)!;
      c.count -= 1;
      c.bytes -= r.size;
    }
    return rows.length;
  }

  /** Writes totals (deleting rows that reached zero), inserts `messages`, notifies `notify`. */
  private async write(q: PgQuery, counters: Map<string, MailboxCounter>, messages: EnqueueUnit['messages'], notify: string[]): Promise<void> {
    const keep = [...counters].filter(([, c]) => c.count > 0);
    const drop = [...counters].filter(([, c]) => c.count <= 0).map(([r]) => r);
    await q(
      `WITH ins AS (
         INSERT INTO ${this.M} (id, recipient, bytes, size, received_at, expires_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::int[], $5::bigint[], $6::bigint[]) RETURNING 1),
       upd AS (
         UPDATE ${this.R} AS c SET message_count = v.n, total_bytes = v.b
         FROM unnest($7::text[], $8::int[], $9::bigint[]) AS v(r, n, b) WHERE c.recipient = v.r RETURNING 1),
       del AS (DELETE FROM ${this.R} WHERE recipient = ANY($10::text[]) RETURNING 1)
       SELECT pg_notify($11, p) FROM unnest($12::text[]) AS p`,
      [
        messages.map((m) => m.id),
        messages.map((m) => m.recipient),
        messages.map((m) => m.bytes),
        messages.map((m) => m.bytes.length),
        messages.map((m) => m.receivedAt),
        messages.map((m) => m.expiresAt ?? null),
        keep.map(([r]) => r),
        keep.map(([, c]) => c.count),
        keep.map(([, c]) => c.bytes),
        drop,
        this.h.channel,
        notifyPayloads(notify),
      ],
    );
  }

  private async commitGroup(units: readonly EnqueueUnit[]): Promise<Array<void | DidcommError>> {
    const recipients = sortedUnique(unitRecipients(units));
    const now = this.clock.now();
    return this.h.tx('mailbox enqueue', async (q) => {
      const base = await this.lockCounters(q, recipients);
      let counters = cloneCounters(base);
      let plan = planQuotas(units, counters);
      const retry = sortedUnique(rejectedRecipients(units, plan));
      if (retry.length > 0 && (await this.purgeLocked(q, retry, now, base)) > 0) {
        counters = cloneCounters(base);
        plan = planQuotas(units, counters);
      }
      const accepted = units.filter((_, i) => plan[i] === true);
      await this.write(q, counters, accepted.flatMap((u) => u.messages), sortedUnique(unitRecipients(accepted)));
      return plan.map((p) => (p === true ? undefined : p));
    });
  }

  protected async store(unit: EnqueueUnit): Promise<void> {
    await this.group.submit(unit);
  }

  protected async doFetch(recipient: string, limit: number, now: number): Promise<StoredMessage[]> {
    const rows = await this.h.query<Row>(
      `SELECT id, bytes, received_at, expires_at FROM ${this.M}
       WHERE recipient = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY seq LIMIT $3`,
      [recipient, now, limit],
    );
    return rows.map(toMessage);
  }

  protected async doAck(recipient: string, ids: string[]): Promise<number> {
    return this.h.tx('mailbox ack', async (q) => {
      const locked = await q(`SELECT 1 FROM ${this.R} WHERE recipient = $1 FOR UPDATE`, [recipient]);
      if (locked.length === 0) return 0; // no mail at all
      const rows = await q<{ n: string; b: string | null }>(
        `WITH d AS (DELETE FROM ${this.M} WHERE recipient = $1 AND id = ANY($2::text[]) RETURNING size)
         SELECT count(*) AS n, sum(size) AS b FROM d`,
        [recipient, ids],
      );
      const n = Number(rows[0]!.n);
      if (n > 0) {
        await q(
          `WITH u AS (UPDATE ${this.R} SET message_count = message_count - $2, total_bytes = total_bytes - $3
             WHERE recipient = $1 RETURNING recipient, message_count)
           DELETE FROM ${this.R} WHERE recipient IN (SELECT recipient FROM u WHERE message_count <= 0)`,
          [recipient, n, Number(rows[0]!.b)],
        );
      }
      return n;
    });
  }

  protected async doStatus(recipient: string, now: number): Promise<MailboxStatus> {
    const live = `recipient = $1 AND (expires_at IS NULL OR expires_at > $2)`;
    const [row] = await this.h.query<{ n: string; b: string; oldest: string | null; newest: string | null }>(
      `SELECT count(*) AS n, coalesce(sum(size), 0) AS b,
         (SELECT received_at FROM ${this.M} WHERE ${live} ORDER BY seq ASC LIMIT 1) AS oldest,
         (SELECT received_at FROM ${this.M} WHERE ${live} ORDER BY seq DESC LIMIT 1) AS newest
       FROM ${this.M} WHERE ${live}`,
      [recipient, now],
    );
    const status: MailboxStatus = { messageCount: Number(row!.n), totalBytes: Number(row!.b) };
    if (row!.oldest !== null) status.oldestReceivedAt = Number(row!.oldest);
    if (row!.newest !== null) status.newestReceivedAt = Number(row!.newest);
    return status;
  }

  protected async doPurge(nowMs: number): Promise<number> {
    let total = 0;
    for (;;) {
      const found = await this.h.query<{ recipient: string }>(
        `SELECT DISTINCT recipient FROM (SELECT recipient FROM ${this.M} WHERE expires_at <= $1 LIMIT 10000) e LIMIT ${PURGE_RECIPIENTS}`,
        [nowMs],
      );
      if (found.length === 0) return total;
      const recipients = sortedUnique(found.map((r) => r.recipient));
      total += await this.h.tx('mailbox purge', async (q) => {
        const base = await this.lockCounters(q, recipients);
        const n = await this.purgeLocked(q, recipients, nowMs, base);
        await this.write(q, base, [], []);
        return n;
      });
    }
  }

  protected async doRecipients(limit: number, after: string | undefined): Promise<string[]> {
    const rows = await this.h.query<{ recipient: string }>(
      `SELECT recipient FROM ${this.R} WHERE message_count > 0 AND ($1::text IS NULL OR recipient > $1::text)
       ORDER BY recipient LIMIT $2`,
      [after ?? null, limit],
    );
    return rows.map((r) => r.recipient);
  }

  protected async shutdown(): Promise<void> {
    try {
      await this.group.close();
    } finally {
      await this.h.release();
    }
  }
}
