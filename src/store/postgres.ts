/**
 * The PostgreSQL connection shared by the PostgreSQL stores (`pg`, loaded lazily).
 *
 * - Tables live in a configurable schema (default `public`) under a table prefix (default
 *   `didcomm_`), created if missing. DDL runs under a transaction-scoped advisory lock so several
 *   processes starting at once do not race on `CREATE TABLE IF NOT EXISTS`.
 * - Durability is PostgreSQL's: a committed transaction is flushed to the WAL before COMMIT returns
 *   (with the default `synchronous_commit = on`).
 * - Live notifications: one dedicated connection LISTENs on `<schema>_<prefix>mail`; writers call
 *   `pg_notify` inside their transaction (delivered on commit) with the recipients, one per line. If
 *   that connection drops it reconnects and fires every local listener once, since notifications
 *   may have been missed in between.
 * - Transactions that fail with deadlock_detected / serialization_failure are retried (3 attempts).
 * - Driver errors become DidcommError: disk_full → ERR_STORE_FULL, anything else ERR_STORE.
 */
import type { Client, Pool, PoolClient } from 'pg';
import { DidcommError, err } from '../errors.js';
import { RecipientNotifier } from './notify.js';

export interface PostgresOptions {
  /** Schema for the tables (default 'public'; created if missing). */
  schema?: string;
  /** Prefix of every table name (default 'didcomm_'). */
  tablePrefix?: string;
  /** Pool size (default 10). */
  poolSize?: number;
}

export type PgQuery = <T = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;

export interface PostgresHandle {
  readonly schema: string;
  readonly prefix: string;
  /** Quoted, schema-qualified name of table `prefix + name`. */
  table(name: string): string;
  /** Quoted name `prefix + name` (indexes). */
  ident(name: string): string;
  readonly notifier: RecipientNotifier;
  readonly channel: string;
  query: PgQuery;
  /** Runs `fn` in a transaction (retried on deadlock / serialization failure). */
  tx<T>(what: string, fn: (q: PgQuery) => Promise<T>): Promise<T>;
  /** Runs DDL statements once per process start, under an advisory lock. */
  migrate(statements: string[]): Promise<void>;
  /** Starts the LISTEN connection (idempotent). */
  listen(): Promise<void>;
  acquire(): void;
  release(): Promise<void>;
}

const IDENT = /^[a-z_][a-z0-9_]*$/;
const RETRYABLE = new Set(['40P01', '40001']);
/** Largest NOTIFY payload we send (PostgreSQL's limit is 8000 bytes). */
const MAX_PAYLOAD = 7900;

/** Maps a driver error to a DidcommError. */
export function pgError(e: unknown, what: string): DidcommError {
  if (e instanceof DidcommError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  if (code === '53100') return err('ERR_STORE_FULL', `${what}: disk full (${message})`, { cause: e });
  return err('ERR_STORE', `${what}: ${typeof code === 'string' ? code + ': ' : ''}${message}`, { cause: e });
}

function checkIdent(v: string, label: string, max: number): string {
  if (typeof v !== 'string' || !IDENT.test(v) || v.length > max) {
    throw err('ERR_ARGUMENT', `${label}: expected lowercase letters, digits and _ (at most ${max})`);
  }
  return v;
}

function quote(id: string): string {
  return `"${id}"`;
}

/** Splits recipients into NOTIFY payloads of at most MAX_PAYLOAD bytes. */
export function notifyPayloads(recipients: Iterable<string>): string[] {
  const out: string[] = [];
  let cur = '';
  for (const r of recipients) {
    const next = cur === '' ? r : `${cur}\n${r}`;
    if (Buffer.byteLength(next) > MAX_PAYLOAD && cur !== '') {
      out.push(cur);
      cur = r;
    } else cur = next;
  }
  if (cur !== '') out.push(cur);
  return out;
}

/** Opens a pool on `connectionString`; the caller holds one reference. */
export async function openPostgres(connectionString: string, options: PostgresOptions = {}): Promise<PostgresHandle> {
  if (typeof connectionString !== 'string' || connectionString === '') throw err('ERR_ARGUMENT', 'postgres url: expected a string');
  const schema = checkIdent(options.schema ?? 'public', 'schema', 30);
  const prefix = options.tablePrefix ?? 'didcomm_';
  if (prefix !== '') checkIdent(prefix, 'tablePrefix', 24);
  const poolSize = options.poolSize ?? 10;
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) throw err('ERR_ARGUMENT', 'poolSize: expected a positive integer');
  let pg: typeof import('pg');
  try {
    // pg is CommonJS: its namespace is on `default` under Node's ESM loader
    const mod = (await import('pg')) as typeof import('pg') & { default?: typeof import('pg') };
    pg = mod.default ?? mod;
  } catch (e) {
    throw err('ERR_UNSUPPORTED', 'the PostgreSQL store needs the pg package', { cause: e });
  }
  const pool: Pool = new pg.Pool({ connectionString, max: poolSize });
  pool.on('error', () => {
    // An idle client died (server restart); the pool replaces it. Queries report their own errors.
  });
  const runOn =
    (c: Pool | PoolClient | Client): PgQuery =>
    async <T>(text: string, params?: unknown[]) =>
      (await c.query(text, params)).rows as T[];
  const query: PgQuery = async (text, params) => {
    try {
      return await runOn(pool)(text, params);
    } catch (e) {
      throw pgError(e, 'postgres query');
    }
  };
  const notifier = new RecipientNotifier();
  const channel = `${schema}_${prefix}mail`;
  let refs = 1;
  let closed = false;
  let listener: Client | undefined;
  let listening: Promise<void> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const connectListener = async (): Promise<void> => {
    const client = new pg.Client({ connectionString });
    client.on('notification', (n: { channel: string; payload?: string }) => {
      if (n.channel !== channel || !n.payload) return;
      for (const r of n.payload.split('\n')) notifier.notify(r);
    });
    const lost = (): void => {
      if (listener !== client) return;
      listener = undefined;
      client.removeAllListeners('end');
      client.end().catch(() => {});
      scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      await client.query(`LISTEN ${quote(channel)}`);
    } catch (e) {
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      throw pgError(e, 'postgres listen');
    }
    if (closed) {
      await client.end().catch(() => {});
      return;
    }
    listener = client;
  };
  const scheduleReconnect = (): void => {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connectListener().then(
        () => notifier.notifyAll(), // events may have been missed while disconnected
        () => scheduleReconnect(),
      );
    }, 1000);
    retryTimer.unref();
  };

  const handle: PostgresHandle = {
    schema,
    prefix,
    table: (name) => `${quote(schema)}.${quote(prefix + name)}`,
    ident: (name) => quote(prefix + name),
    notifier,
    channel,
    query,
    async tx(what, fn) {
      for (let attempt = 1; ; attempt++) {
        let client: PoolClient;
        try {
          client = await pool.connect();
        } catch (e) {
          throw pgError(e, what);
        }
        const q = runOn(client);
        try {
          await client.query('BEGIN');
          const result = await fn(q);
          await client.query('COMMIT');
          client.release();
          return result;
        } catch (e) {
          await client.query('ROLLBACK').catch(() => {});
          client.release();
          const code = (e as { code?: unknown } | null)?.code;
          if (attempt < 3 && typeof code === 'string' && RETRYABLE.has(code)) continue;
          throw pgError(e, what);
        }
      }
    },
    async migrate(statements) {
      await handle.tx('postgres migrate', async (q) => {
        await q('SELECT pg_advisory_xact_lock(hashtext($1))', [`didcomm-store:${schema}.${prefix}`]);
        if (schema !== 'public') await q(`CREATE SCHEMA IF NOT EXISTS ${quote(schema)}`);
        for (const s of statements) await q(s);
      });
    },
    listen() {
      listening ??= connectListener().catch((e: unknown) => {
        listening = undefined;
        throw e;
      });
      return listening;
    },
    acquire() {
      if (closed) throw err('ERR_STORE', 'postgres connection is closed');
      refs++;
    },
    async release() {
      if (closed || --refs > 0) return;
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      notifier.clear();
      const l = listener;
      listener = undefined;
      if (l) {
        l.removeAllListeners('end');
        await l.end().catch(() => {});
      }
      await pool.end().catch((e: unknown) => {
        throw pgError(e, 'postgres close');
      });
    },
  };
  return handle;
}

/** A path or a handle (takes one more reference); the store releases it once on close. */
export async function postgresHandleFor(urlOrHandle: string | PostgresHandle, options?: PostgresOptions): Promise<PostgresHandle> {
  if (typeof urlOrHandle === 'string') return openPostgres(urlOrHandle, options);
  urlOrHandle.acquire();
  return urlOrHandle;
}
