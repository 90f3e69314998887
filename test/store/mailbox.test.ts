/**
 * MailboxStore implementations against the shared contract (memory, SQLite in memory and on a
 * file, PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set), plus group-commit behaviour:
 * concurrent enqueues share one transaction and a failing commit rejects its whole group.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DidcommError, err } from '../../src/errors.js';
import { GroupCommit } from '../../src/store/group-commit.js';
import { MemoryMailboxStore } from '../../src/store/mailbox-memory.js';
import { PostgresMailboxStore } from '../../src/store/mailbox-postgres.js';
import { RedisMailboxStore } from '../../src/store/mailbox-redis.js';
import { SqliteMailboxStore } from '../../src/store/mailbox-sqlite.js';
import { mailboxStoreContract } from './mailbox-contract.js';
import { codeOf, tempDir } from './helpers.js';
import { DATABASE_URL, pgSchema, REDIS_URL, redisPrefix } from './services.js';

mailboxStoreContract('memory', async (options) => ({ store: new MemoryMailboxStore(options) }));

mailboxStoreContract('sqlite :memory:', async (options) => ({ store: await SqliteMailboxStore.open(':memory:', options) }));

mailboxStoreContract('sqlite file', async (options) => {
  const tmp = tempDir();
  const path = join(tmp.dir, 'mailbox.db');
  return {
    store: await SqliteMailboxStore.open(path, options),
    // Same file, own connection: sees the rows; notifications are shared within this process.
    peer: () => SqliteMailboxStore.open(path, options),
    reopen: () => SqliteMailboxStore.open(path, options),
    cleanup: async () => tmp.remove(),
  };
});

describe('group commit', () => {
  it('coalesces concurrent submissions into one commit and resolves each with its own outcome', async () => {
    const seen: number[][] = [];
    const gc = new GroupCommit<number, number>((units) => {
      seen.push([...units]);
      return units.map((u) => (u % 5 === 0 ? err('ERR_STORE_FULL', 'full') : u * 2));
    });
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => gc.submit(i + 1)));
    expect(seen).toEqual([Array.from({ length: 20 }, (_, i) => i + 1)]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: 2 });
    expect(results[4]!.status).toBe('rejected');
    expect(gc.commits).toBe(1);
  });

  it('flushes at maxItems, queues while a commit runs, and fails a whole group on a thrown error', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const groups: number[] = [];
    const gc = new GroupCommit<number, number>(
      async (units) => {
        groups.push(units.length);
        if (groups.length === 1) await gate;
        if (units.includes(-1)) throw new Error('disk on fire');
        return units;
      },
      { maxItems: 3, maxDelayMs: 50 },
    );
    const first = [1, 2, 3].map((i) => gc.submit(i)); // fills a group: commits at once
    const later = [4, 5, -1].map((i) => gc.submit(i)); // waits for the running commit
    expect(groups).toEqual([3]);
    expect(gc.queued).toBe(3);
    release();
    expect(await Promise.all(first)).toEqual([1, 2, 3]);
    for (const p of later) expect(await codeOf(p)).toBe('ERR_STORE');
    expect(groups).toEqual([3, 3]);
    await gc.close();
    expect(await codeOf(gc.submit(9))).toBe('ERR_STORE');
  });

  it('bounds the queue with ERR_STORE_FULL', async () => {
    const gc = new GroupCommit<number, number>((u) => u, { maxPending: 2, maxDelayMs: 5 });
    const a = gc.submit(1);
    const b = gc.submit(2);
    expect(await codeOf(gc.submit(3))).toBe('ERR_STORE_FULL');
    expect(await Promise.all([a, b])).toEqual([1, 2]);
  });

  it('SQLite: 500 concurrent enqueues take a handful of commits, not 500', async () => {
    const store = await SqliteMailboxStore.open(':memory:');
    await Promise.all(Array.from({ length: 500 }, (_, i) => store.enqueue(`did:example:${i % 7}`, { bytes: new Uint8Array(8) })));
    expect(store.commits).toBeLessThanOrEqual(2);
    expect(store.commits).toBeGreaterThanOrEqual(1);
    await store.close();
  });

  it('rejects a bad option with ERR_ARGUMENT', () => {
    expect(() => new GroupCommit((u) => u, { maxItems: 0 })).toThrow(DidcommError);
  });
});

if (DATABASE_URL) {
  const url = DATABASE_URL;
  mailboxStoreContract('postgres', async (options) => {
    const { schema, drop } = pgSchema();
    const open = () => PostgresMailboxStore.open(url, { ...options, schema, poolSize: 4 });
    return { store: await open(), peer: open, reopen: open, cleanup: drop };
  });
} else {
  describe.skipIf(!DATABASE_URL)('MailboxStore contract: postgres (set DATABASE_URL)', () => it('skipped', () => {}));
}

if (REDIS_URL) {
  const url = REDIS_URL;
  mailboxStoreContract('redis', async (options) => {
    const { keyPrefix, drop } = redisPrefix();
    const open = () => RedisMailboxStore.open(url, { ...options, keyPrefix });
    return { store: await open(), peer: open, reopen: open, cleanup: drop };
  });
} else {
  describe.skipIf(!REDIS_URL)('MailboxStore contract: redis (set REDIS_URL)', () => it('skipped', () => {}));
}
