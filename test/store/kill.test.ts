/**
 * Crash safety of the SQLite stores (DESIGN.md §6: "a message accepted is never lost, across
 * kill -9"): a child process writes as fast as it can and is killed with SIGKILL mid-stream; after
 * reopening, every write it acknowledged is present, nothing appears twice, and no batch is half
 * applied. The internal totals (used for quotas) must still match the rows.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteKvStore } from '../../src/store/kv-sqlite.js';
import { SqliteMailboxStore } from '../../src/store/mailbox-sqlite.js';
import { runAndKill } from './fixtures/kill.js';
import { tempDir } from './helpers.js';

describe('SQLite stores survive SIGKILL', () => {
  it('KvStore: every acknowledged put and batch is there, no batch is partial', async () => {
    const tmp = tempDir();
    try {
      const path = join(tmp.dir, 'kv.db');
      const acked = await runAndKill('./kv-writer.ts', [path], 600);
      expect(acked.length).toBeGreaterThanOrEqual(600);
      const store = await SqliteKvStore.open(path);
      for (const line of acked) {
        const [kind, n] = line.split(' ');
        const i = Number(n);
        if (kind === 'P') {
          const v = await store.get(`p/${i}`);
          expect(v?.length).toBe(64);
          expect(v![5]).toBe((i * 31 + 5) & 0xff);
        } else {
          expect(await store.count(`b/${i}/`)).toBe(20);
        }
      }
      // Batches past the last acknowledged one: all or nothing.
      const batchKeys = await store.list('b/', { limit: 10_000 });
      const perBatch = new Map<string, number>();
      for (const { key } of batchKeys) {
        const id = key.split('/')[1]!;
        perBatch.set(id, (perBatch.get(id) ?? 0) + 1);
      }
      for (const [, n] of perBatch) expect(n).toBe(20);
      const usage = await store.usage();
      expect(usage.keys).toBe((await store.count('p/')) + batchKeys.length);
      await store.close();
    } finally {
      tmp.remove();
    }
  });

  it('MailboxStore: every acknowledged id is present exactly once after reopening', async () => {
    const tmp = tempDir();
    try {
      const path = join(tmp.dir, 'mailbox.db');
      const acked = await runAndKill('./mailbox-writer.ts', [path], 3000);
      expect(acked.length).toBeGreaterThanOrEqual(3000);
      const store = await SqliteMailboxStore.open(path);
      const recipients = await store.recipients();
      expect(recipients.length).toBeGreaterThan(0);
      const seen = new Map<string, string>();
      let counted = 0;
      for (const r of recipients) {
        counted += (await store.status(r)).messageCount;
        for (;;) {
          const batch = await store.fetch(r, 1000);
          if (batch.length === 0) break;
          for (const m of batch) {
            expect(seen.has(m.id)).toBe(false);
            seen.set(m.id, r);
          }
          expect(await store.ack(r, batch.map((m) => m.id))).toBe(batch.length);
        }
      }
      expect(counted).toBe(seen.size); // totals table agrees with the rows
      for (const line of acked) {
        const [recipient, id] = line.split(' ');
        expect(seen.get(id!)).toBe(recipient);
      }
      expect(await store.recipients()).toEqual([]);
      await store.close();
    } finally {
      tmp.remove();
    }
  });
});
