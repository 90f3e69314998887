/**
 * SqliteMailboxStore: the embedded default mailbox store (better-sqlite3; WAL, synchronous=FULL,
 * file 0600 — see sqlite.ts). Concurrent enqueues are group-committed (group-commit.ts): one
 * `BEGIN IMMEDIATE` transaction and one WAL fsync per group, each enqueue resolving only after
 * that commit. Per-recipient totals live in `didcomm_mailbox_recipients`, updated in the same
 * transaction, so quotas hold even with several processes on one file (WAL + busy_timeout).
 * FIFO order is the rowid. Live notifications reach subscribers in this process only (every store
 * opened on the same file here shares one notifier); other processes must poll.
 */
import type BetterSqlite3 from 'better-sqlite3';
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
import { asBytes, sqliteCall, sqliteError, sqliteHandleFor, type SqliteHandle, type SqliteOpenOptions } from './sqlite.js';
import type { DidcommError } from '../errors.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS didcomm_mailbox_messages (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  recipient TEXT NOT NULL,
  bytes BLOB NOT NULL,
  received_at INTEGER NOT NULL,
  expires_at INTEGER);
CREATE INDEX IF NOT EXISTS didcomm_mailbox_messages_recipient ON didcomm_mailbox_messages (recipient, seq);
CREATE INDEX IF NOT EXISTS didcomm_mailbox_messages_expiry ON didcomm_mailbox_messages (expires_at)
  WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS didcomm_mailbox_recipients (
  recipient TEXT PRIMARY KEY, message_count INTEGER NOT NULL, total_bytes INTEGER NOT NULL) WITHOUT ROWID;
`;

/** Rows deleted per purge transaction (keeps each write lock short). */
const PURGE_CHUNK = 5000;

export interface SqliteMailboxStoreOptions extends MailboxStoreOptions, SqliteOpenOptions {}

type Stmt = BetterSqlite3.Statement;
type Row = { id: string; bytes: Uint8Array; received_at: number; expires_at: number | null };

function toMessage(r: Row): StoredMessage {
  const m: StoredMessage = { id: r.id, bytes: asBytes(r.bytes), receivedAt: r.received_at };
  if (r.expires_at !== null) m.expiresAt = r.expires_at;
  return m;
}

export class SqliteMailboxStore extends MailboxStoreBase {
  private readonly handle: SqliteHandle;
  private readonly group: GroupCommit<EnqueueUnit, void>;
  private readonly s: Record<
    'counter' | 'setCounter' | 'dropCounter' | 'insert' | 'fetch' | 'ackOne' | 'status' | 'purgeRecipient' | 'purgeChunk' | 'recipients' | 'recipientsAfter',
    Stmt
  >;

  private constructor(handle: SqliteHandle, options: SqliteMailboxStoreOptions) {
    super(options, handle.notifier);
    this.handle = handle;
    const db = handle.db;
    sqliteCall('create mailbox tables', () => db.exec(SCHEMA));
    const T = 'didcomm_mailbox_messages';
    const R = 'didcomm_mailbox_recipients';
    const unexpired = '(expires_at IS NULL OR expires_at > @now)';
    this.s = sqliteCall('prepare mailbox statements', () => ({
      counter: db.prepare(`SELECT message_count AS count, total_bytes AS bytes FROM ${R} WHERE recipient = ?`),
      setCounter: db.prepare(
        `INSERT INTO ${R} (recipient, message_count, total_bytes) VALUES (?, ?, ?)
         ON CONFLICT (recipient) DO UPDATE SET message_count = excluded.message_count, total_bytes = excluded.total_bytes`,
      ),
      dropCounter: db.prepare(`DELETE FROM ${R} WHERE recipient = ?`),
      insert: db.prepare(`INSERT INTO ${T} (id, recipient, bytes, received_at, expires_at) VALUES (?, ?, ?, ?, ?)`),
      fetch: db.prepare(`SELECT id, bytes, received_at, expires_at FROM ${T} WHERE recipient = @r AND ${unexpired} ORDER BY seq LIMIT @limit`),
      ackOne: db.prepare(`DELETE FROM ${T} WHERE id = ? AND recipient = ? RETURNING length(bytes) AS size`),
      status: db.prepare(
        `SELECT count(*) AS n, coalesce(sum(length(bytes)), 0) AS b,
           (SELECT received_at FROM ${T} WHERE recipient = @r AND ${unexpired} ORDER BY seq ASC LIMIT 1) AS oldest,
           (SELECT received_at FROM ${T} WHERE recipient = @r AND ${unexpired} ORDER BY seq DESC LIMIT 1) AS newest
         FROM ${T} WHERE recipient = @r AND ${unexpired}`,
      ),
      purgeRecipient: db.prepare(`DELETE FROM ${T} WHERE recipient = ? AND expires_at <= ? RETURNING length(bytes) AS size`),
      purgeChunk: db.prepare(
        `DELETE FROM ${T} WHERE seq IN (SELECT seq FROM ${T} WHERE expires_at <= ? LIMIT ${PURGE_CHUNK})
         RETURNING recipient, length(bytes) AS size`,
      ),
      recipients: db.prepare(`SELECT recipient FROM ${R} ORDER BY recipient LIMIT ?`).pluck(),
      recipientsAfter: db.prepare(`SELECT recipient FROM ${R} WHERE recipient > ? ORDER BY recipient LIMIT ?`).pluck(),
    }));
    const commitTx = db.transaction((units: readonly EnqueueUnit[]) => this.commitGroup(units));
    this.group = new GroupCommit<EnqueueUnit, void>((units) => {
      const results = sqliteCall('mailbox enqueue', () => commitTx.immediate(units));
      for (const r of unitRecipientsAccepted(units, results)) this.notifier.notify(r);
      return results;
    }, options.groupCommit);
  }

  /** Opens (creating if needed) the store on `path` (file or ':memory:') or on a shared handle. */
  static async open(pathOrHandle: string | SqliteHandle, options: SqliteMailboxStoreOptions = {}): Promise<SqliteMailboxStore> {
    const handle = await sqliteHandleFor(pathOrHandle, options);
    try {
      return new SqliteMailboxStore(handle, options);
    } catch (e) {
      handle.release();
      throw sqliteError(e, 'open mailbox store');
    }
  }

  /** Number of group commits so far (each is one transaction and one fsync). */
  get commits(): number {
    return this.group.commits;
  }

  private counters(recipients: Iterable<string>): Map<string, MailboxCounter> {
    const out = new Map<string, MailboxCounter>();
    for (const r of recipients) {
      const row = this.s.counter.get(r) as MailboxCounter | undefined;
      out.set(r, row ? { count: row.count, bytes: row.bytes } : { count: 0, bytes: 0 });
    }
    return out;
  }

  private writeCounter(recipient: string, c: MailboxCounter): void {
    if (c.count <= 0) this.s.dropCounter.run(recipient);
    else this.s.setCounter.run(recipient, c.count, c.bytes);
  }

  /** Deletes `recipient`'s expired messages and fixes its totals; returns how many. */
  private purgeRecipient(recipient: string, now: number): number {
    const rows = this.s.purgeRecipient.all(recipient, now) as Array<{ size: number }>;
    if (rows.length === 0) return 0;
    const c = this.counters([recipient]).get(recipient)!;
    for (const r of rows) {
      c.count -= 1;
      c.bytes -= r.size;
    }
    this.writeCounter(recipient, c);
    return rows.length;
  }

  /** Runs inside the group's transaction: plan quotas, purge on breach, insert the accepted units. */
  private commitGroup(units: readonly EnqueueUnit[]): Array<void | DidcommError> {
    const recipients = unitRecipients(units);
    let counters = this.counters(recipients);
    let plan = planQuotas(units, counters);
    const retry = rejectedRecipients(units, plan);
    if (retry.size > 0) {
      const now = this.clock.now();
      let purged = 0;
      for (const r of retry) purged += this.purgeRecipient(r, now);
      if (purged > 0) {
        counters = this.counters(recipients);
        plan = planQuotas(units, counters);
      }
    }
    units.forEach((u, i) => {
      if (plan[i] !== true) return;
      for (const m of u.messages) this.s.insert.run(m.id, m.recipient, m.bytes, m.receivedAt, m.expiresAt ?? null);
    });
    for (const [r, c] of counters) this.writeCounter(r, c);
    return plan.map((p) => (p === true ? undefined : p));
  }

  protected async store(unit: EnqueueUnit): Promise<void> {
    await this.group.submit(unit);
  }

  protected async doFetch(recipient: string, limit: number, now: number): Promise<StoredMessage[]> {
    const rows = sqliteCall('mailbox fetch', () => this.s.fetch.all({ r: recipient, now, limit }) as Row[]);
    return rows.map(toMessage);
  }

  protected async doAck(recipient: string, ids: string[]): Promise<number> {
    return sqliteCall('mailbox ack', () =>
      this.handle.db
        .transaction(() => {
          let n = 0;
          let bytes = 0;
          for (const id of ids) {
            const row = this.s.ackOne.get(id, recipient) as { size: number } | undefined;
            if (row) {
              n += 1;
              bytes += row.size;
            }
          }
          if (n > 0) {
            const c = this.counters([recipient]).get(recipient)!;
            this.writeCounter(recipient, { count: c.count - n, bytes: c.bytes - bytes });
          }
          return n;
        })
        .immediate(),
    );
  }

  protected async doStatus(recipient: string, now: number): Promise<MailboxStatus> {
    const row = sqliteCall('mailbox status', () => this.s.status.get({ r: recipient, now })) as {
      n: number;
      b: number;
      oldest: number | null;
      newest: number | null;
    };
    const status: MailboxStatus = { messageCount: row.n, totalBytes: row.b };
    if (row.oldest !== null) status.oldestReceivedAt = row.oldest;
    if (row.newest !== null) status.newestReceivedAt = row.newest;
    return status;
  }

  protected async doPurge(nowMs: number): Promise<number> {
    const chunk = this.handle.db.transaction((now: number) => {
      const rows = this.s.purgeChunk.all(now) as Array<{ recipient: string; size: number }>;
      const by = new Map<string, MailboxCounter>();
      for (const r of rows) {
        const d = by.get(r.recipient) ?? { count: 0, bytes: 0 };
        d.count += 1;
        d.bytes += r.size;
        by.set(r.recipient, d);
      }
      const current = this.counters(by.keys());
      for (const [r, d] of by) {
        const c = current.get(r)!;
        this.writeCounter(r, { count: c.count - d.count, bytes: c.bytes - d.bytes });
      }
      return rows.length;
    });
    let total = 0;
    for (;;) {
      const n = sqliteCall('mailbox purge', () => chunk.immediate(nowMs));
      total += n;
      if (n < PURGE_CHUNK) return total;
    }
  }

  protected async doRecipients(limit: number, after: string | undefined): Promise<string[]> {
    return sqliteCall('mailbox recipients', () =>
      (after === undefined ? this.s.recipients.all(limit) : this.s.recipientsAfter.all(after, limit)) as string[],
    );
  }

  protected async shutdown(): Promise<void> {
    try {
      await this.group.close();
    } finally {
      this.handle.release();
    }
  }
}

/** Recipients of the units a commit accepted (results[i] undefined = accepted). */
function unitRecipientsAccepted(units: readonly EnqueueUnit[], results: ReadonlyArray<void | DidcommError>): Set<string> {
  return unitRecipients(units.filter((_, i) => results[i] === undefined));
}
