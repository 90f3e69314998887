/**
 * Isolation for tests on the shared PostgreSQL and Redis services (used only when DATABASE_URL /
 * REDIS_URL are set): every run gets its own schema or key prefix, dropped afterwards.
 */
import pg from 'pg';
import { Redis } from 'ioredis';
import { uniqueName } from './helpers.js';

export const DATABASE_URL = process.env.DATABASE_URL;
export const REDIS_URL = process.env.REDIS_URL;

/** A fresh schema name and a function that drops it. */
export function pgSchema(): { schema: string; drop: () => Promise<void> } {
  const schema = uniqueName('didcomm_t').toLowerCase();
  return {
    schema,
    drop: async () => {
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A fresh key prefix and a function that deletes every key under it. */
export function redisPrefix(): { keyPrefix: string; drop: () => Promise<void> } {
  const keyPrefix = `${uniqueName('didcomm-test')}:`;
  return {
    keyPrefix,
    drop: async () => {
      const r = new Redis(REDIS_URL!, { lazyConnect: true });
      await r.connect();
      try {
        let cursor = '0';
        do {
          const [next, keys] = await r.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
          cursor = next;
          if (keys.length > 0) await r.del(...keys);
        } while (cursor !== '0');
      } finally {
        r.disconnect();
      }
    },
  };
}
