/**
 * Mailbox accept throughput (not a test, never a timed assertion): how many durable enqueues per
 * second one process gets with group commit. Run:
 *
 *   node --import tsx test/store/mailbox-throughput.ts [sqlite] [postgres] [redis] [memory]
 *
 * PostgreSQL/Redis use DATABASE_URL / REDIS_URL, in a private schema / key prefix removed at the
 * end. Environment: MESSAGES (default 30000), CONCURRENCY (default 256), SIZE bytes (default 300),
 * DELAY_MS (group-commit window; default: the store's).
 */
import { join } from 'node:path';
import type { MailboxStore } from '../../src/store/mailbox.js';
import { MemoryMailboxStore } from '../../src/store/mailbox-memory.js';
import { PostgresMailboxStore } from '../../src/store/mailbox-postgres.js';
import { RedisMailboxStore } from '../../src/store/mailbox-redis.js';
import { SqliteMailboxStore } from '../../src/store/mailbox-sqlite.js';
import { tempDir } from './helpers.js';
import { DATABASE_URL, pgSchema, REDIS_URL, redisPrefix } from './services.js';

const MESSAGES = Number(process.env.MESSAGES ?? 30_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 256);
const SIZE = Number(process.env.SIZE ?? 300);
const RECIPIENTS = 100;
const limits = { maxMessages: 1_000_000, maxBytes: 1 << 30 };
const groupCommit = process.env.DELAY_MS === undefined ? {} : { maxDelayMs: Number(process.env.DELAY_MS) };

interface Target {
  open(): Promise<{ store: MailboxStore & { commits?: number }; cleanup(): Promise<void> }>;
}

const targets: Record<string, Target> = {
  memory: { open: async () => ({ store: new MemoryMailboxStore({ limits, groupCommit }), cleanup: async () => {} }) },
  sqlite: {
    open: async () => {
      const tmp = tempDir();
      return { store: await SqliteMailboxStore.open(join(tmp.dir, 'bench.db'), { limits, groupCommit }), cleanup: async () => tmp.remove() };
    },
  },
  postgres: {
    open: async () => {
      if (!DATABASE_URL) throw new Error('set DATABASE_URL');
      const { schema, drop } = pgSchema();
      return { store: await PostgresMailboxStore.open(DATABASE_URL, { limits, schema, groupCommit }), cleanup: drop };
    },
  },
  redis: {
    open: async () => {
      if (!REDIS_URL) throw new Error('set REDIS_URL');
      const { keyPrefix, drop } = redisPrefix();
      return { store: await RedisMailboxStore.open(REDIS_URL, { limits, keyPrefix, groupCommit }), cleanup: drop };
    },
  },
};

async function run(name: string): Promise<void> {
  const { store, cleanup } = await targets[name]!.open();
  try {
    const body = new Uint8Array(SIZE).fill(0x42);
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < MESSAGES; i = next++) await store.enqueue(`did:example:device${i % RECIPIENTS}`, { bytes: body });
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const commits = store.commits;
    const rate = Math.round(MESSAGES / seconds);
    const perCommit = commits ? (MESSAGES / commits).toFixed(1) : '-';
    console.log(`${name.padEnd(9)} ${String(rate).padStart(8)} accepts/s  ${MESSAGES} × ${SIZE} B, ${CONCURRENCY} concurrent, ${commits ?? '-'} commits (${perCommit}/commit)`);
  } finally {
    await store.close();
    await cleanup();
  }
}

const chosen = process.argv.slice(2);
for (const name of chosen.length > 0 ? chosen : ['memory', 'sqlite', ...(DATABASE_URL ? ['postgres'] : []), ...(REDIS_URL ? ['redis'] : [])]) {
  if (!targets[name]) throw new Error(`unknown backend ${name}`);
  await run(name);
}
