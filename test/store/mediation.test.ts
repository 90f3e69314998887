/**
 * MediationStore implementations against the shared contract: memory, SQLite (memory and file),
 * PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set.
 */
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { MemoryMediationStore } from '../../src/store/mediation-memory.js';
import { PostgresMediationStore } from '../../src/store/mediation-postgres.js';
import { RedisMediationStore } from '../../src/store/mediation-redis.js';
import { SqliteMediationStore } from '../../src/store/mediation-sqlite.js';
import { mediationStoreContract } from './mediation-contract.js';
import { tempDir } from './helpers.js';
import { DATABASE_URL, pgSchema, REDIS_URL, redisPrefix } from './services.js';

mediationStoreContract('memory', async (options) => ({ store: new MemoryMediationStore(options) }));

mediationStoreContract('sqlite :memory:', async (options) => ({ store: await SqliteMediationStore.open(':memory:', options) }));

mediationStoreContract('sqlite file', async (options) => {
  const tmp = tempDir();
  const path = join(tmp.dir, 'mediation.db');
  const open = () => SqliteMediationStore.open(path, options);
  return { store: await open(), peer: open, cleanup: async () => tmp.remove() };
});

if (DATABASE_URL) {
  const url = DATABASE_URL;
  mediationStoreContract('postgres', async (options) => {
    const { schema, drop } = pgSchema();
    const open = () => PostgresMediationStore.open(url, { ...options, schema, poolSize: 3 });
    return { store: await open(), peer: open, cleanup: drop };
  });
} else {
  describe.skipIf(!DATABASE_URL)('MediationStore contract: postgres (set DATABASE_URL)', () => it('skipped', () => {}));
}

if (REDIS_URL) {
  const url = REDIS_URL;
  mediationStoreContract('redis', async (options) => {
    const { keyPrefix, drop } = redisPrefix();
    const open = () => RedisMediationStore.open(url, { ...options, keyPrefix });
    return { store: await open(), peer: open, cleanup: drop };
  });
} else {
  describe.skipIf(!REDIS_URL)('MediationStore contract: redis (set REDIS_URL)', () => it('skipped', () => {}));
}
