/**
 * The Redis connection shared by the Redis stores (ioredis, loaded lazily).
 *
 * - Every key starts with a configurable prefix (default `didcomm:`), so several deployments or
 *   test runs can share one Redis. Multi-key updates run as Lua scripts (atomic in Redis; loaded
 *   with `defineCommand`, which reloads them after a Redis restart). Scripts build key names from
 *   the prefix, so this targets a single Redis (or a primary with replicas), not Redis Cluster.
 * - Durability is Redis's own: a write is acknowledged once it is in Redis's memory; it survives a
 *   Redis crash only as far as its persistence is configured (AOF with `appendfsync always` for
 *   no loss; `everysec` may lose ~1 s; with persistence off, as on this project's CI machine,
 *   everything is lost with the Redis process).
 * - Live notifications: a second connection SUBSCRIBEs to `<prefix>notify`; writers PUBLISH the
 *   recipients that got mail (one per line). After that connection reconnects, every local
 *   listener fires once (events may have been missed).
 * - Driver errors become DidcommError: Redis OOM → ERR_STORE_FULL, anything else ERR_STORE.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { DidcommError, err } from '../errors.js';
import { RecipientNotifier } from './notify.js';

export interface RedisStoreOptions {
  /** Prefix of every key (default 'didcomm:'). */
  keyPrefix?: string;
}

export type ScriptArg = string | number | Buffer;
export type ScriptFn = (...args: ScriptArg[]) => Promise<unknown>;

export interface RedisHandle {
  readonly client: Redis;
  readonly prefix: string;
  readonly notifier: RecipientNotifier;
  readonly channel: string;
  /** Registers a Lua script as a command (idempotent per name) and returns its caller. */
  script(name: string, lua: string): { call: ScriptFn; callBuffer: ScriptFn };
  /** Runs `fn`, mapping failures to DidcommError. */
  run<T>(what: string, fn: (client: Redis) => Promise<T>): Promise<T>;
  /** Starts the subscriber connection (idempotent). */
  listen(): Promise<void>;
  acquire(): void;
  release(): Promise<void>;
}

const PREFIX = /^[A-Za-z0-9_:.\-{}]{0,64}$/;

/** Maps a driver error to a DidcommError. */
export function redisError(e: unknown, what: string): DidcommError {
  if (e instanceof DidcommError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (message.startsWith('OOM')) return err('ERR_STORE_FULL', `${what}: redis out of memory (${message})`, { cause: e });
  return err('ERR_STORE', `${what}: ${message}`, { cause: e });
}

/** A Uint8Array as the Buffer ioredis needs (no copy). */
export function toBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Opens a connection to `url` (redis:// or rediss://); the caller holds one reference. */
export async function openRedis(url: string, options: RedisStoreOptions = {}): Promise<RedisHandle> {
  if (typeof url !== 'string' || url === '') throw err('ERR_ARGUMENT', 'redis url: expected a string');
  const prefix = options.keyPrefix ?? 'didcomm:';
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) throw err('ERR_ARGUMENT', 'keyPrefix: expected up to 64 of [A-Za-z0-9_:.-{}]');
  let RedisCtor: typeof Redis;
  try {
    RedisCtor = (await import('ioredis')).Redis;
  } catch (e) {
    throw err('ERR_UNSUPPORTED', 'the Redis store needs the ioredis package', { cause: e });
  }
  const connectionOptions: RedisOptions = { lazyConnect: true, maxRetriesPerRequest: 2 };
  const client = new RedisCtor(url, connectionOptions);
  let lastError: unknown;
  client.on('error', (e: unknown) => {
    lastError = e; // ioredis reconnects by itself; commands report their own failures
  });
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    throw redisError(lastError ?? e, `redis connect ${url.replace(/\/\/[^@/]*@/, '//***@')}`);
  }
  const notifier = new RecipientNotifier();
  const channel = `${prefix}notify`;
  const defined = new Map<string, { call: ScriptFn; callBuffer: ScriptFn }>();
  let subscriber: Redis | undefined;
  let listening: Promise<void> | undefined;
  let refs = 1;
  let closed = false;

  const handle: RedisHandle = {
    client,
    prefix,
    notifier,
    channel,
    script(name, lua) {
      let s = defined.get(name);
      if (!s) {
        client.defineCommand(name, { numberOfKeys: 0, lua });
        const fns = client as unknown as Record<string, ScriptFn>;
        s = { call: fns[name]!.bind(client), callBuffer: fns[`${name}Buffer`]!.bind(client) };
        defined.set(name, s);
      }
      return s;
    },
    async run(what, fn) {
      if (closed) throw err('ERR_STORE', 'redis connection is closed');
      try {
        return await fn(client);
      } catch (e) {
        throw redisError(e, what);
      }
    },
    listen() {
      listening ??= (async () => {
        const sub = client.duplicate({ connectionName: `${prefix.replace(/[^A-Za-z0-9_:.-]/g, '_')}notify` });
        sub.on('error', () => {});
        sub.on('message', (ch: string, message: string) => {
          if (ch === channel) for (const r of message.split('\n')) notifier.notify(r);
        });
        let first = true;
        sub.on('ready', () => {
          if (!first) notifier.notifyAll(); // resubscribed after a reconnect: events may be lost
          first = false;
        });
        try {
          await sub.subscribe(channel);
        } catch (e) {
          sub.disconnect();
          listening = undefined;
          throw redisError(e, 'redis subscribe');
        }
        subscriber = sub;
      })();
      return listening;
    },
    acquire() {
      if (closed) throw err('ERR_STORE', 'redis connection is closed');
      refs++;
    },
    async release() {
      if (closed || --refs > 0) return;
      closed = true;
      notifier.clear();
      subscriber?.disconnect();
      await client.quit().catch(() => client.disconnect());
    },
  };
  return handle;
}

/** A URL or a handle (takes one more reference); the store releases it once on close. */
export async function redisHandleFor(urlOrHandle: string | RedisHandle, options?: RedisStoreOptions): Promise<RedisHandle> {
  if (typeof urlOrHandle === 'string') return openRedis(urlOrHandle, options);
  urlOrHandle.acquire();
  return urlOrHandle;
}
