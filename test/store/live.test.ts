/**
 * Live notifications survive a lost listener connection (PostgreSQL LISTEN, Redis SUBSCRIBE): the
 * store reconnects, fires every local listener once (events may have been missed while it was
 * down), and delivers later notifications again. Runs only with DATABASE_URL / REDIS_URL.
 */
import pg from 'pg';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { PostgresMailboxStore } from '../../src/store/mailbox-postgres.js';
import { RedisMailboxStore } from '../../src/store/mailbox-redis.js';
import { notificationCounter } from './helpers.js';
import { DATABASE_URL, pgSchema, REDIS_URL, redisPrefix } from './services.js';

const R = 'did:example:live';

describe('live notifications after a lost connection', () => {
  it.skipIf(!DATABASE_URL)('postgres: reconnects LISTEN and tells listeners to re-check', async () => {
    const { schema, drop } = pgSchema();
    const store = await PostgresMailboxStore.open(DATABASE_URL!, { schema, poolSize: 2 });
    const writer = await PostgresMailboxStore.open(DATABASE_URL!, { schema, poolSize: 2, live: false });
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    try {
      const n = notificationCounter(8000);
      store.subscribe(R, n.listener);
      await writer.enqueue(R, { bytes: new Uint8Array([1]) });
      await n.reach(1);
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()`,
        [`LISTEN "${schema}_didcomm_mail"`],
      );
      expect(killed.rowCount).toBe(1);
      await n.reach(2); // the reconnect fires every listener once
      await writer.enqueue(R, { bytes: new Uint8Array([2]) });
      await n.reach(3);
    } finally {
      await admin.end();
      await writer.close();
      await store.close();
      await drop();
    }
  });

  it.skipIf(!REDIS_URL)('redis: resubscribes and tells listeners to re-check', async () => {
    const { keyPrefix, drop } = redisPrefix();
    const store = await RedisMailboxStore.open(REDIS_URL!, { keyPrefix });
    const writer = await RedisMailboxStore.open(REDIS_URL!, { keyPrefix, live: false });
    const admin = new Redis(REDIS_URL!);
    try {
      const n = notificationCounter(8000);
      store.subscribe(R, n.listener);
      await writer.enqueue(R, { bytes: new Uint8Array([1]) });
      await n.reach(1);
      const clients = (await admin.client('LIST')) as string;
      const line = clients.split('\n').find((l) => l.includes(` name=${keyPrefix}notify `));
      expect(line).toBeDefined();
      const id = /(?:^| )id=(\d+)/.exec(line!)![1]!;
      await admin.client('KILL', 'ID', id);
      await n.reach(2);
      await writer.enqueue(R, { bytes: new Uint8Array([2]) });
      await n.reach(3);
    } finally {
      admin.disconnect();
      await writer.close();
      await store.close();
      await drop();
    }
  });
});
