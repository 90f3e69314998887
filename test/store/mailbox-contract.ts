/**
 * The shared MailboxStore contract (message pickup 3.0 semantics). Every implementation calls
 * `mailboxStoreContract(name, make)`. `make(options)` must build a fresh, empty store from
 * `options` (which carry a ManualClock, limits and maxItemBytes). Optional harness parts:
 * `peer()` opens a second instance on the same backend with its own connection (as another
 * process would), `reopen()` opens the same data after the test closed the store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MailboxStore, MailboxStoreOptions } from '../../src/store/mailbox.js';
import { ManualClock } from '../../src/util/clock.js';
import { codeOf, notificationCounter, utf8Order } from './helpers.js';

export interface MailboxHarness {
  store: MailboxStore;
  peer?: () => Promise<MailboxStore>;
  reopen?: () => Promise<MailboxStore>;
  cleanup?: () => Promise<void>;
}

export type MailboxContractOptions = MailboxStoreOptions & { clock: ManualClock };

const bytes = (...xs: number[]): Uint8Array => new Uint8Array(xs);
const R1 = 'did:example:alice';
const R2 = 'did:example:bob';

export function mailboxStoreContract(name: string, make: (options: MailboxContractOptions) => Promise<MailboxHarness>): void {
  describe(`MailboxStore contract: ${name}`, () => {
    const opened: Array<{ close: () => Promise<unknown> }> = [];
    let cleanups: Array<() => Promise<void>> = [];
    const fresh = async (options: Partial<MailboxStoreOptions> = {}) => {
      const clock = new ManualClock();
      const h = await make({ ...options, clock });
      opened.push(h.store);
      if (h.cleanup) cleanups.push(h.cleanup);
      const peer = h.peer
        ? async () => {
            const p = await h.peer!();
            opened.push(p);
            return p;
          }
        : undefined;
      return { ...h, clock, peer };
    };
    afterEach(async () => {
      for (const s of opened.splice(0).reverse()) await s.close();
      for (const c of cleanups) await c();
      cleanups = [];
    });

    it('stores, fetches oldest first without deleting, and acks', async () => {
      const { store, clock } = await fresh();
      const a = await store.enqueue(R1, { bytes: bytes(1) });
      await clock.advance(10);
      const b = await store.enqueue(R1, { bytes: bytes(2, 2) });
      const c = await store.enqueue(R1, { bytes: bytes(3), expiresAt: clock.now() + 1000 });
      for (const { id } of [a, b, c]) expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect(new Set([a.id, b.id, c.id]).size).toBe(3);
      const got = await store.fetch(R1, 10);
      expect(got.map((m) => m.id)).toEqual([a.id, b.id, c.id]);
      expect(got[0]).toEqual({ id: a.id, bytes: bytes(1), receivedAt: clock.now() - 10 });
      expect(got[2]).toEqual({ id: c.id, bytes: bytes(3), receivedAt: clock.now(), expiresAt: clock.now() + 1000 });
      expect(Object.getPrototypeOf(got[0]!.bytes)).toBe(Uint8Array.prototype);
      expect((await store.fetch(R1, 2)).map((m) => m.id)).toEqual([a.id, b.id]);
      expect(await store.ack(R1, [a.id, c.id, a.id, 'not-an-id', '\u0000', b.id.toUpperCase()])).toBe(2);
      expect(await store.ack(R1, [a.id])).toBe(0);
      expect(await store.ack(R1, [])).toBe(0);
      expect((await store.fetch(R1, 10)).map((m) => m.id)).toEqual([b.id]);
    });

    it('keeps ids and times whole on a fractional clock (radio airtime), so acks still work', async () => {
      // A clock that reports fractional milliseconds, as simulated airtime produces.
      const h = await make({ clock: Object.assign(new ManualClock(), { now: () => 1767225600000.625 }) as unknown as ManualClock });
      opened.push(h.store);
      if (h.cleanup) cleanups.push(h.cleanup);
      const { id } = await h.store.enqueue(R1, { bytes: bytes(1) });
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect((await h.store.fetch(R1, 1))[0]!.receivedAt).toBe(1767225600000);
      expect(await h.store.ack(R1, [id])).toBe(1);
    });

    it("never lets a recipient ack (delete) another recipient's mail", async () => {
      const { store } = await fresh();
      const { id } = await store.enqueue(R1, { bytes: bytes(1) });
      expect(await store.ack(R2, [id])).toBe(0);
      expect((await store.fetch(R1, 10)).map((m) => m.id)).toEqual([id]);
      expect(await store.fetch(R2, 10)).toEqual([]);
    });

    it('reports status of unexpired mail', async () => {
      const { store, clock } = await fresh();
      expect(await store.status(R1)).toEqual({ messageCount: 0, totalBytes: 0 });
      const t0 = clock.now();
      await store.enqueue(R1, { bytes: bytes(1, 2, 3), expiresAt: t0 + 50 });
      await clock.advance(20);
      await store.enqueue(R1, { bytes: bytes(4) });
      await clock.advance(20);
      const { id } = await store.enqueue(R1, { bytes: bytes(5, 6) });
      await store.enqueue(R2, { bytes: bytes(9) });
      expect(await store.status(R1)).toEqual({ messageCount: 3, totalBytes: 6, oldestReceivedAt: t0, newestReceivedAt: t0 + 40 });
      await clock.advance(10); // the first message expires (expiresAt <= now)
      expect(await store.status(R1)).toEqual({ messageCount: 2, totalBytes: 3, oldestReceivedAt: t0 + 20, newestReceivedAt: t0 + 40 });
      await store.ack(R1, [id]);
      expect(await store.status(R1)).toEqual({ messageCount: 1, totalBytes: 1, oldestReceivedAt: t0 + 20, newestReceivedAt: t0 + 20 });
    });

    it('hides expired mail and purges it', async () => {
      const { store, clock } = await fresh();
      const now = clock.now();
      await store.enqueue(R1, { bytes: bytes(1), expiresAt: now + 100 });
      const keep = await store.enqueue(R1, { bytes: bytes(2), expiresAt: now + 300 });
      await store.enqueue(R2, { bytes: bytes(3), expiresAt: now + 200 });
      const forever = await store.enqueue(R2, { bytes: bytes(4) });
      await clock.advance(100);
      expect((await store.fetch(R1, 10)).map((m) => m.id)).toEqual([keep.id]);
      expect(await store.purgeExpired(now + 200)).toBe(2);
      expect(await store.purgeExpired(now + 200)).toBe(0);
      expect((await store.fetch(R2, 10)).map((m) => m.id)).toEqual([forever.id]);
      expect(await store.purgeExpired(now + 10_000)).toBe(1);
      expect(await store.recipients()).toEqual([R2]);
      expect(await codeOf(store.enqueue(R1, { bytes: bytes(1), expiresAt: clock.now() }))).toBe('ERR_EXPIRED');
    });

    it('enforces per-recipient quotas with ERR_STORE_FULL, per call or store-wide', async () => {
      const { store } = await fresh({ limits: { maxMessages: 2, maxBytes: 10 } });
      await store.enqueue(R1, { bytes: bytes(1) });
      await store.enqueue(R1, { bytes: bytes(2) });
      expect(await codeOf(store.enqueue(R1, { bytes: bytes(3) }))).toBe('ERR_STORE_FULL');
      await store.enqueue(R2, { bytes: new Uint8Array(10) }); // quotas are per recipient
      expect(await codeOf(store.enqueue(R2, { bytes: bytes(1) }, { maxMessages: 5 }))).toBe('ERR_STORE_FULL'); // bytes
      await store.enqueue(R1, { bytes: bytes(3) }, { maxMessages: 3 });
      expect((await store.status(R1)).messageCount).toBe(3);
      const ids = (await store.fetch(R1, 10)).map((m) => m.id);
      await store.ack(R1, ids.slice(0, 2));
      await store.enqueue(R1, { bytes: bytes(4) }); // room again after ack
      expect((await store.status(R1)).messageCount).toBe(2);
    });

    it('purges the recipient’s expired mail before refusing for quota', async () => {
      const { store, clock } = await fresh({ limits: { maxMessages: 2, maxBytes: 1000 } });
      await store.enqueue(R1, { bytes: bytes(1), expiresAt: clock.now() + 5 });
      await store.enqueue(R1, { bytes: bytes(2), expiresAt: clock.now() + 5 });
      await clock.advance(5);
      const { id } = await store.enqueue(R1, { bytes: bytes(3) });
      expect((await store.fetch(R1, 10)).map((m) => m.id)).toEqual([id]);
      expect(await store.status(R1)).toMatchObject({ messageCount: 1, totalBytes: 1 });
    });

    it('refuses items over maxItemBytes with ERR_TOO_LARGE', async () => {
      const { store } = await fresh({ maxItemBytes: 8 });
      await store.enqueue(R1, { bytes: new Uint8Array(8) });
      expect(await codeOf(store.enqueue(R1, { bytes: new Uint8Array(9) }))).toBe('ERR_TOO_LARGE');
      expect(await codeOf(store.enqueueMany([{ recipient: R2, bytes: new Uint8Array(9) }]))).toBe('ERR_TOO_LARGE');
      expect(await store.recipients()).toEqual([R1]);
    });

    it('enqueueMany stores all items or none', async () => {
      const { store } = await fresh({ limits: { maxMessages: 3, maxBytes: 1000 } });
      const ids = await store.enqueueMany([
        { recipient: R1, bytes: bytes(1) },
        { recipient: R2, bytes: bytes(2) },
        { recipient: R1, bytes: bytes(3) },
      ]);
      expect(ids).toHaveLength(3);
      expect((await store.fetch(R1, 10)).map((m) => m.id)).toEqual([ids[0]!.id, ids[2]!.id]);
      // R2 would fit, R1 would overflow: nothing is stored.
      const overflow = [R2, R1, R1].map((recipient) => ({ recipient, bytes: bytes(9) }));
      expect(await codeOf(store.enqueueMany(overflow))).toBe('ERR_STORE_FULL');
      expect((await store.status(R1)).messageCount).toBe(2);
      expect((await store.status(R2)).messageCount).toBe(1);
      expect(await store.enqueueMany([])).toEqual([]);
    });

    it('accepts concurrent enqueues (group commit), each rejected or stored on its own, in order', async () => {
      const { store } = await fresh({ limits: { maxMessages: 150, maxBytes: 1 << 20 } });
      const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => store.enqueue(R1, { bytes: bytes(i & 0xff, i >> 8) })));
      const ok = results.filter((r) => r.status === 'fulfilled');
      expect(ok).toHaveLength(150);
      for (const r of results.slice(150)) expect(r.status === 'rejected' && (r.reason as { code: string }).code).toBe('ERR_STORE_FULL');
      const got = await store.fetch(R1, 1000);
      expect(got.map((m) => m.id)).toEqual(ok.map((r) => (r as PromiseFulfilledResult<{ id: string }>).value.id));
      expect(got.map((m) => m.bytes[0]! + m.bytes[1]! * 256)).toEqual(Array.from({ length: 150 }, (_, i) => i));
    });

    it('lists recipients with mail in code point order, paged', async () => {
      const { store } = await fresh();
      const names = ['did:example:b', 'did:example:a', 'did:example:\u{1F600}', 'did:example:\uffff', 'did:example:é'];
      for (const r of names) await store.enqueue(r, { bytes: bytes(1) });
      const sorted = [...names].sort(utf8Order);
      expect(await store.recipients()).toEqual(sorted);
      expect(await store.recipients({ limit: 2 })).toEqual(sorted.slice(0, 2));
      expect(await store.recipients({ after: sorted[1]!, limit: 2 })).toEqual(sorted.slice(2, 4));
      const [m] = await store.fetch(sorted[0]!, 1);
      await store.ack(sorted[0]!, [m!.id]);
      expect(await store.recipients()).toEqual(sorted.slice(1));
    });

    it('notifies subscribers of new mail and stops after unsubscribe or close', async () => {
      const { store } = await fresh();
      const n1 = notificationCounter();
      const n2 = notificationCounter();
      const off1 = store.subscribe(R1, n1.listener);
      const off2 = store.subscribe(R2, n2.listener);
      await store.enqueue(R1, { bytes: bytes(1) });
      await n1.reach(1);
      await store.enqueue(R2, { bytes: bytes(2) });
      await n2.reach(1);
      expect(n1.count()).toBe(1);
      off1();
      off1();
      await store.enqueue(R1, { bytes: bytes(3) });
      await store.enqueue(R2, { bytes: bytes(4) });
      await n2.reach(2);
      expect(n1.count()).toBe(1);
      off2();
    });

    it('lets a second instance see the mail, acks and notifications (shared backends)', async (ctx) => {
      const { store, peer } = await fresh();
      if (!peer) return ctx.skip();
      const other = await peer();
      const n = notificationCounter();
      other.subscribe(R1, n.listener);
      const { id } = await store.enqueue(R1, { bytes: bytes(7) });
      await n.reach(1);
      expect((await other.fetch(R1, 10)).map((m) => m.id)).toEqual([id]);
      const back = notificationCounter();
      store.subscribe(R2, back.listener);
      await other.enqueue(R2, { bytes: bytes(8) });
      await back.reach(1);
      expect(await other.ack(R1, [id])).toBe(1);
      expect(await store.fetch(R1, 10)).toEqual([]);
      expect((await store.status(R2)).messageCount).toBe(1);
    });

    it('keeps mail across close and reopen (persistent backends)', async (ctx) => {
      const { store, reopen } = await fresh();
      if (!reopen) return ctx.skip();
      const { id } = await store.enqueue(R1, { bytes: bytes(1, 2) });
      await store.close();
      const again = await reopen();
      opened.push(again);
      expect((await again.fetch(R1, 10)).map((m) => m.id)).toEqual([id]);
      expect((await again.status(R1)).totalBytes).toBe(2);
    });

    it('copies bytes and validates arguments', async () => {
      const { store } = await fresh();
      const b = bytes(1, 2);
      await store.enqueue(R1, { bytes: b });
      b[0] = 9;
      const [m] = await store.fetch(R1, 1);
      expect(m!.bytes).toEqual(bytes(1, 2));
      const bad = store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      expect(await codeOf(() => bad.enqueue!('', { bytes: b }))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.enqueue!('did:x\ny', { bytes: b }))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.enqueue!('did:' + 'x'.repeat(3000), { bytes: b }))).toBe('ERR_TOO_LARGE');
      expect(await codeOf(() => bad.enqueue!(R1, { bytes: 'text' }))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.enqueue!(R1, { bytes: b, expiresAt: 1.5 }))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.enqueue!(R1, { bytes: b }, { maxMessages: -1 }))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.enqueueMany!('x'))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.fetch!(R1, 0))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.fetch!(R1, 1001))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.ack!(R1, 'id'))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.ack!(R1, [42]))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.ack!(R1, new Array(1001).fill('x')))).toBe('ERR_TOO_LARGE');
      expect(await codeOf(() => bad.purgeExpired!(-1))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.recipients!({ limit: 0 }))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.recipients!({ after: 'x\u0000' }))).toBe('ERR_ARGUMENT');
      expect(() => store.subscribe(R1, 'nope' as unknown as () => void)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
      expect((await store.status(R1)).messageCount).toBe(1);
    });

    it('fails with ERR_STORE after close', async () => {
      const { store } = await fresh();
      await store.close();
      await store.close();
      expect(await codeOf(store.enqueue(R1, { bytes: bytes(1) }))).toBe('ERR_STORE');
      expect(await codeOf(store.fetch(R1, 1))).toBe('ERR_STORE');
      expect(() => store.subscribe(R1, () => {})).toThrow(expect.objectContaining({ code: 'ERR_STORE' }));
    });
  });
}
