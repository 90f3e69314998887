/**
 * Store factory: one URL picks the backend for the mediator's mailbox and mediation stores (one
 * shared file / pool / connection) or for an agent's KvStore.
 *
 *   memory:                       in-process, not durable
 *   sqlite:PATH | sqlite::memory: embedded default (sqlite:///abs/path also accepted)
 *   postgres://… | postgresql://… ?schema=NAME&tablePrefix=PFX (others go to pg)
 *   redis://… | rediss://…        ?keyPrefix=PFX
 *
 * Backend modules and their drivers (better-sqlite3, pg, ioredis) are imported only when their
 * scheme is used, so a memory-store user never loads a native module. Explicit options win over
 * URL parameters. Every failure is a DidcommError (ERR_ARGUMENT for a bad URL, ERR_UNSUPPORTED for
 * an unknown scheme, ERR_STORE/ERR_STORE_FULL from the backend).
 */
import { err } from '../errors.js';
import type { KvStore, KvStoreLimits } from './kv.js';
import { MemoryKvStore } from './kv-memory.js';
import type { MailboxStore, MailboxStoreOptions } from './mailbox.js';
import { MemoryMailboxStore } from './mailbox-memory.js';
import type { MediationStore } from './mediation.js';
import { MemoryMediationStore } from './mediation-memory.js';

export type StoreBackend = 'memory' | 'sqlite' | 'postgres' | 'redis';

export interface Stores {
  readonly backend: StoreBackend;
  readonly mailbox: MailboxStore;
  readonly mediation: MediationStore;
  /** Closes both stores and their shared connection. */
  close(): Promise<void>;
}

export interface OpenStoresOptions extends MailboxStoreOptions {
  /** Mediation: most recipient DIDs per owner. */
  maxKeysPerOwner?: number;
  /** SQLite: wait for another process's write lock (ms). */
  busyTimeoutMs?: number;
  /** PostgreSQL: schema and table prefix, pool size. */
  schema?: string;
  tablePrefix?: string;
  poolSize?: number;
  /** Redis: key prefix. */
  keyPrefix?: string;
  /** PostgreSQL/Redis: listen for other processes' notifications (default true). */
  live?: boolean;
}

export interface ParsedStoreUrl {
  backend: StoreBackend;
  /** SQLite path, or the driver URL without our own parameters. */
  target: string;
  params: Record<string, string>;
}

const OWN_PARAMS: Record<string, readonly string[]> = { postgres: ['schema', 'tablePrefix'], redis: ['keyPrefix'] };

/** Parses a store URL (see the module comment). */
export function parseStoreUrl(url: string): ParsedStoreUrl {
  if (typeof url !== 'string' || url.length === 0) throw err('ERR_ARGUMENT', 'store url: expected a non-empty string');
  const colon = url.indexOf(':');
  if (colon <= 0) throw err('ERR_ARGUMENT', 'store url: missing scheme (memory:, sqlite:, postgres://, redis://)');
  const scheme = url.slice(0, colon).toLowerCase();
  if (scheme === 'memory') return { backend: 'memory', target: '', params: {} };
  if (scheme === 'sqlite') {
    let path = url.slice(colon + 1);
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '') throw err('ERR_ARGUMENT', 'store url: sqlite needs a path (sqlite:./data.db or sqlite::memory:)');
    return { backend: 'sqlite', target: path, params: {} };
  }
  const backend: StoreBackend | undefined =
    scheme === 'postgres' || scheme === 'postgresql' ? 'postgres' : scheme === 'redis' || scheme === 'rediss' ? 'redis' : undefined;
  if (!backend) throw err('ERR_UNSUPPORTED', `store url: unknown scheme '${scheme}'`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (e) {
    throw err('ERR_ARGUMENT', 'store url: not a valid URL', { cause: e });
  }
  const params: Record<string, string> = {};
  for (const name of OWN_PARAMS[backend]!) {
    const v = parsed.searchParams.get(name);
    if (v !== null) params[name] = v;
    parsed.searchParams.delete(name);
  }
  return { backend, target: parsed.toString(), params };
}

/** Opens the mediator's mailbox + mediation stores on one backend, sharing its connection. */
export async function openStores(url: string, options: OpenStoresOptions = {}): Promise<Stores> {
  const { backend, target, params } = parseStoreUrl(url);
  const mediationOptions = { ...(options.clock ? { clock: options.clock } : {}), ...(options.maxKeysPerOwner !== undefined ? { maxKeysPerOwner: options.maxKeysPerOwner } : {}) };
  const pair = async <H>(
    handle: H,
    release: () => unknown,
    openMailbox: (h: H) => Promise<MailboxStore>,
    openMediation: (h: H) => Promise<MediationStore>,
  ): Promise<Stores> => {
    // The stores take their own references; ours is dropped once both exist (or one failed).
    let mailbox: MailboxStore | undefined;
    try {
      mailbox = await openMailbox(handle);
      const mediation = await openMediation(handle);
      return { backend, mailbox, mediation, close: async () => void (await Promise.all([mailbox!.close(), mediation.close()])) };
    } catch (e) {
      await mailbox?.close();
      throw e;
    } finally {
      await release();
    }
  };
  switch (backend) {
    case 'memory': {
      const mailbox = new MemoryMailboxStore(options);
      const mediation = new MemoryMediationStore(mediationOptions);
      return { backend, mailbox, mediation, close: async () => void (await Promise.all([mailbox.close(), mediation.close()])) };
    }
    case 'sqlite': {
      const [{ openSqlite }, { SqliteMailboxStore }, { SqliteMediationStore }] = await Promise.all([
        import('./sqlite.js'),
        import('./mailbox-sqlite.js'),
        import('./mediation-sqlite.js'),
      ]);
      const h = await openSqlite(target === ':memory:' ? ':memory:' : target, options);
      return pair(h, () => h.release(), (x) => SqliteMailboxStore.open(x, options), (x) => SqliteMediationStore.open(x, mediationOptions));
    }
    case 'postgres': {
      const [{ openPostgres }, { PostgresMailboxStore }, { PostgresMediationStore }] = await Promise.all([
        import('./postgres.js'),
        import('./mailbox-postgres.js'),
        import('./mediation-postgres.js'),
      ]);
      const pgOptions = {
        ...(options.schema ?? params.schema ? { schema: options.schema ?? params.schema } : {}),
        ...(options.tablePrefix ?? params.tablePrefix ? { tablePrefix: options.tablePrefix ?? params.tablePrefix } : {}),
        ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
      };
      const h = await openPostgres(target, pgOptions);
      return pair(h, () => h.release(), (x) => PostgresMailboxStore.open(x, options), (x) => PostgresMediationStore.open(x, mediationOptions));
    }
    case 'redis': {
      const [{ openRedis }, { RedisMailboxStore }, { RedisMediationStore }] = await Promise.all([
        import('./redis.js'),
        import('./mailbox-redis.js'),
        import('./mediation-redis.js'),
      ]);
      const keyPrefix = options.keyPrefix ?? params.keyPrefix;
      const h = await openRedis(target, keyPrefix !== undefined ? { keyPrefix } : {});
      return pair(h, () => h.release(), (x) => RedisMailboxStore.open(x, options), (x) => RedisMediationStore.open(x, mediationOptions));
    }
  }
}

/** Opens an agent's KvStore: `memory:` or `sqlite:PATH` / `sqlite::memory:`. */
export async function openKvStore(url: string, options: KvStoreLimits & { busyTimeoutMs?: number } = {}): Promise<KvStore> {
  const { backend, target } = parseStoreUrl(url);
  if (backend === 'memory') return new MemoryKvStore(options);
  if (backend === 'sqlite') {
    const { SqliteKvStore } = await import('./kv-sqlite.js');
    return SqliteKvStore.open(target, options);
  }
  throw err('ERR_UNSUPPORTED', `store url: no KvStore for ${backend} (use memory: or sqlite:)`);
}
