/**
 * KvStore implementations against the shared contract, plus SQLite specifics: file mode 0600, WAL
 * with synchronous=FULL, and the UTF-8 key order helper checked against Buffer.compare.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryKvStore } from '../../src/store/kv-memory.js';
import { SqliteKvStore } from '../../src/store/kv-sqlite.js';
import { openSqlite } from '../../src/store/sqlite.js';
import { compareKeys, utf8Length } from '../../src/store/validate.js';
import { kvStoreContract } from './kv-contract.js';
import { codeOf, tempDir, utf8Order } from './helpers.js';

kvStoreContract('memory', async (limits) => ({ store: new MemoryKvStore(limits) }));

kvStoreContract('sqlite :memory:', async (limits) => ({ store: await SqliteKvStore.open(':memory:', limits) }));

kvStoreContract('sqlite file', async (limits) => {
  const tmp = tempDir();
  const path = join(tmp.dir, 'kv.db');
  return {
    store: await SqliteKvStore.open(path, limits),
    reopen: () => SqliteKvStore.open(path, limits),
    cleanup: async () => tmp.remove(),
  };
});

describe('key order', () => {
  it('compareKeys is UTF-8 byte order and utf8Length is the UTF-8 length', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(utf8Order(a, b)));
        expect(utf8Length(a)).toBe(Buffer.byteLength(a));
      }),
      { numRuns: 2000 },
    );
    expect(compareKeys('\uffff', '\u{10000}')).toBeLessThan(0); // JS `<` says the opposite
    expect('\uffff' < '\u{10000}').toBe(false);
  });
});

describe('SqliteKvStore specifics', () => {
  it('creates the database 0600, in WAL mode with synchronous=FULL', async () => {
    const tmp = tempDir();
    try {
      const path = join(tmp.dir, 'state.db');
      const store = await SqliteKvStore.open(path);
      await store.put('k', new Uint8Array([1]));
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
      await store.close();
      const h = await openSqlite(path);
      expect(h.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(h.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
      h.release();
    } finally {
      tmp.remove();
    }
  });

  it('wraps driver failures as ERR_STORE (unopenable path)', async () => {
    expect(await codeOf(SqliteKvStore.open('/proc/definitely/not/here.db'))).toBe('ERR_STORE');
  });

  it('shares one handle between stores and closes it with the last one', async () => {
    const h = await openSqlite(':memory:');
    const a = await SqliteKvStore.open(h);
    h.release(); // the store holds its own reference now
    expect(h.closed).toBe(false);
    await a.put('k', new Uint8Array([7]));
    await a.close();
    expect(h.closed).toBe(true);
  });
});
