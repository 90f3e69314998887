/**
 * The store factory: URL parsing, one shared backend for mailbox + mediation, typed errors for bad
 * URLs and unreachable servers, and lazy loading (a memory-store user never loads a driver).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openKvStore, openStores, parseStoreUrl } from '../../src/store/open.js';
import { codeOf, tempDir } from './helpers.js';
import { DATABASE_URL, pgSchema, REDIS_URL, redisPrefix } from './services.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('parseStoreUrl', () => {
  it('recognizes every scheme and strips our own parameters', () => {
    expect(parseStoreUrl('memory:')).toEqual({ backend: 'memory', target: '', params: {} });
    expect(parseStoreUrl('sqlite:./data/m.db').target).toBe('./data/m.db');
    expect(parseStoreUrl('sqlite::memory:').target).toBe(':memory:');
    expect(parseStoreUrl('sqlite:///var/lib/m.db').target).toBe('/var/lib/m.db');
    expect(parseStoreUrl('postgresql://u@h:5/db?schema=s1&tablePrefix=p_&sslmode=disable')).toEqual({
      backend: 'postgres',
      target: 'postgresql://u@h:5/db?sslmode=disable',
      params: { schema: 's1', tablePrefix: 'p_' },
    });
    expect(parseStoreUrl('redis://h:1/2?keyPrefix=x:')).toEqual({ backend: 'redis', target: 'redis://h:1/2', params: { keyPrefix: 'x:' } });
  });

  it('rejects bad URLs with typed errors', async () => {
    expect(await codeOf(() => parseStoreUrl(''))).toBe('ERR_ARGUMENT');
    expect(await codeOf(() => parseStoreUrl('nothing'))).toBe('ERR_ARGUMENT');
    expect(await codeOf(() => parseStoreUrl('sqlite:'))).toBe('ERR_ARGUMENT');
    expect(await codeOf(() => parseStoreUrl('mongodb://h/db'))).toBe('ERR_UNSUPPORTED');
    expect(await codeOf(() => parseStoreUrl('postgres://[bad'))).toBe('ERR_ARGUMENT');
    expect(await codeOf(openKvStore('redis://127.0.0.1:1'))).toBe('ERR_UNSUPPORTED');
  });
});

describe('openStores', () => {
  it('memory: gives working, independent stores', async () => {
    const s = await openStores('memory:', { maxKeysPerOwner: 1 });
    expect(s.backend).toBe('memory');
    await s.mediation.grant('did:example:o', 'did:example:r');
    expect((await s.mediation.addKeys('did:example:o', ['did:key:1', 'did:key:2'])).map((r) => r.result)).toEqual(['success', 'limit']);
    await s.mailbox.enqueue('did:key:1', { bytes: new Uint8Array([1]) });
    expect((await s.mailbox.status('did:key:1')).messageCount).toBe(1);
    await s.close();
    expect(await codeOf(s.mailbox.fetch('did:key:1', 1))).toBe('ERR_STORE');
  });

  it('sqlite: both stores share one file that outlives close', async () => {
    const tmp = tempDir();
    try {
      const url = `sqlite:${join(tmp.dir, 'mediator.db')}`;
      const s = await openStores(url);
      await s.mediation.grant('did:example:o', 'did:example:r');
      await s.mailbox.enqueue('did:example:o', { bytes: new Uint8Array([5]) });
      await s.close();
      const again = await openStores(url);
      expect(await again.mediation.isGranted('did:example:o')).toBe(true);
      expect((await again.mailbox.fetch('did:example:o', 5)).map((m) => m.bytes)).toEqual([new Uint8Array([5])]);
      await again.close();
      const kv = await openKvStore(url);
      await kv.put('k', new Uint8Array([1]));
      await kv.close();
    } finally {
      tmp.remove();
    }
  });

  it('wraps unreachable servers as ERR_STORE, not raw driver errors', async () => {
    expect(await codeOf(openStores('postgres://postgres@127.0.0.1:1/test'))).toBe('ERR_STORE');
    expect(await codeOf(openStores('redis://127.0.0.1:1'))).toBe('ERR_STORE');
  });

  it('never loads a native driver for memory:, and loads better-sqlite3 only for sqlite:', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/store/fixtures/lazy-load.ts'], { cwd: root, encoding: 'utf8' });
    expect(out.trim().split('\n').map((l) => JSON.parse(l))).toEqual([[], ['better-sqlite3']]);
  });

  it.skipIf(!DATABASE_URL)('postgres: honours ?schema= and tablePrefix', async () => {
    const { schema, drop } = pgSchema();
    try {
      const s = await openStores(`${DATABASE_URL}?schema=${schema}&tablePrefix=mx_`);
      await s.mediation.grant('did:example:o', 'did:example:r');
      await s.mailbox.enqueue('did:example:o', { bytes: new Uint8Array([1]) });
      await s.close();
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      const { rows } = await c.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema]);
      await c.end();
      expect(rows.map((r: { table_name: string }) => r.table_name)).toEqual([
        'mx_mailbox_messages',
        'mx_mailbox_recipients',
        'mx_mediation_grants',
        'mx_mediation_keys',
      ]);
    } finally {
      await drop();
    }
  });

  it.skipIf(!REDIS_URL)('redis: honours ?keyPrefix=', async () => {
    const { keyPrefix, drop } = redisPrefix();
    try {
      const s = await openStores(`${REDIS_URL}?keyPrefix=${encodeURIComponent(keyPrefix)}`);
      await s.mailbox.enqueue('did:example:o', { bytes: new Uint8Array([1]) });
      expect(await s.mailbox.recipients()).toEqual(['did:example:o']);
      await s.close();
      const again = await openStores(REDIS_URL!, { keyPrefix });
      expect((await again.mailbox.status('did:example:o')).messageCount).toBe(1);
      await again.close();
    } finally {
      await drop();
    }
  });
});
