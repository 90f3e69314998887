/**
 * The embedded SQLite connection shared by the SQLite stores (better-sqlite3, loaded lazily so
 * users of the memory stores never load a native module).
 *
 * Durability: WAL journal with `synchronous=FULL` — every committed transaction is fsynced to the
 * WAL before the call returns (SQLite "Write-Ahead Logging" §"Performance considerations": in WAL
 * mode FULL syncs the WAL on every commit), so a resolved write survives `kill -9` and power loss.
 * A new database file is created with mode 0600 (and its directory fsynced) before SQLite opens
 * it; SQLite gives its `-wal` and `-shm` files the same mode. `busy_timeout` lets several processes share one file.
 *
 * Handles are reference-counted so one file can back the mailbox and the mediation store together
 * (`openStores('sqlite:…')`); the database closes when the last store releases it. Stores opened on
 * the same file path in one process share one notifier, so live notifications reach them all
 * (SQLite has no cross-process notification: other processes see new rows, not events).
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { DidcommError, err } from '../errors.js';
import { RecipientNotifier } from './notify.js';

export type SqliteDatabase = BetterSqlite3.Database;

export interface SqliteHandle {
  readonly db: SqliteDatabase;
  /** Absolute file path, or ':memory:'. */
  readonly path: string;
  /** In-process notifier shared by every handle on the same file. */
  readonly notifier: RecipientNotifier;
  acquire(): void;
  /** Drops one reference; the database closes when none remain. */
  release(): void;
  readonly closed: boolean;
}

export interface SqliteOpenOptions {
  /** Milliseconds to wait for another connection's write lock (default 5000). */
  busyTimeoutMs?: number;
}

/** Maps a driver error to a DidcommError (SQLITE_FULL → ERR_STORE_FULL, anything else ERR_STORE). */
export function sqliteError(e: unknown, what: string): DidcommError {
  if (e instanceof DidcommError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  if (code === 'SQLITE_FULL') return err('ERR_STORE_FULL', `${what}: disk full (${message})`, { cause: e });
  return err('ERR_STORE', `${what}: ${typeof code === 'string' ? code + ': ' : ''}${message}`, { cause: e });
}

/** Runs `fn`, rethrowing any failure as a DidcommError. */
export function sqliteCall<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw sqliteError(e, what);
  }
}

/** Zero-copy view of a driver Buffer as a plain Uint8Array. */
export function asBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

const sharedNotifiers = new Map<string, { notifier: RecipientNotifier; refs: number }>();

function takeNotifier(path: string): RecipientNotifier {
  if (path === ':memory:') return new RecipientNotifier();
  let entry = sharedNotifiers.get(path);
  if (!entry) {
    entry = { notifier: new RecipientNotifier(), refs: 0 };
    sharedNotifiers.set(path, entry);
  }
  entry.refs++;
  return entry.notifier;
}

function dropNotifier(path: string): void {
  const entry = sharedNotifiers.get(path);
  if (!entry) return;
  if (--entry.refs === 0) sharedNotifiers.delete(path);
}

/**
 * Creates the database file with mode 0600 if it does not exist yet, and fsyncs its directory so
 * the new entry itself survives a power loss (SQLite does this for the WAL, not the main file).
 */
function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (e) {
    if ((e as { code?: unknown }).code === 'EEXIST') return;
    throw sqliteError(e, `create ${path}`);
  }
  try {
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Directories cannot be opened/fsynced on every platform (Windows); the file exists either way.
  }
}

/**
 * Opens (creating if needed) a SQLite database at `path` (file path or ':memory:') with WAL and
 * synchronous=FULL. The returned handle has one reference held by the caller.
 */
export async function openSqlite(path: string, options: SqliteOpenOptions = {}): Promise<SqliteHandle> {
  if (typeof path !== 'string' || path.length === 0) throw err('ERR_ARGUMENT', 'sqlite path: expected a non-empty string');
  const busy = options.busyTimeoutMs ?? 5000;
  if (!Number.isSafeInteger(busy) || busy < 0) throw err('ERR_ARGUMENT', 'busyTimeoutMs: expected a non-negative integer');
  let Database: typeof BetterSqlite3;
  try {
    Database = (await import('better-sqlite3')).default;
  } catch (e) {
    throw err('ERR_UNSUPPORTED', 'the SQLite store needs the better-sqlite3 package', { cause: e });
  }
  const memory = path === ':memory:';
  const full = memory ? path : resolve(path);
  if (!memory) createPrivateFile(full);
  const db = sqliteCall(`open ${full}`, () => new Database(full, { timeout: busy }));
  try {
    sqliteCall('configure sqlite', () => {
      if (!memory) {
        const mode = db.pragma('journal_mode = WAL', { simple: true });
        if (String(mode).toLowerCase() !== 'wal') throw err('ERR_STORE', `sqlite: could not enable WAL (got ${String(mode)})`);
      }
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
    });
  } catch (e) {
    db.close();
    throw e;
  }
  const notifier = takeNotifier(full);
  let refs = 1;
  let closed = false;
  return {
    db,
    path: full,
    notifier,
    get closed() {
      return closed;
    },
    acquire() {
      if (closed) throw err('ERR_STORE', 'sqlite database is closed');
      refs++;
    },
    release() {
      if (closed || --refs > 0) return;
      closed = true;
      dropNotifier(full);
      sqliteCall('close sqlite', () => db.close());
    },
  };
}

/**
 * Accepts either a path (opens a handle owned by the store) or an existing handle (takes one more
 * reference on it). Either way the store calls `release()` once on close.
 */
export async function sqliteHandleFor(pathOrHandle: string | SqliteHandle, options?: SqliteOpenOptions): Promise<SqliteHandle> {
  if (typeof pathOrHandle === 'string') return openSqlite(pathOrHandle, options);
  pathOrHandle.acquire();
  return pathOrHandle;
}
