/**
 * The shared KvStore contract (MQTT.js abstract-store style): every KvStore implementation calls
 * `kvStoreContract(name, make)` from its test file. `make(limits)` returns a fresh, empty store
 * configured with `limits`, optionally a `reopen` that closes nothing itself but opens the same
 * data again after the test closed the store (persistent backends), and a `cleanup`.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { KvStore, KvStoreLimits } from '../../src/store/kv.js';
import { codeOf, utf8Order } from './helpers.js';

export interface KvHarness {
  store: KvStore;
  reopen?: () => Promise<KvStore>;
  cleanup?: () => Promise<void>;
}

const b = (...xs: number[]): Uint8Array => new Uint8Array(xs);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

export function kvStoreContract(name: string, make: (limits?: KvStoreLimits) => Promise<KvHarness>): void {
  describe(`KvStore contract: ${name}`, () => {
    const open: KvHarness[] = [];
    const fresh = async (limits?: KvStoreLimits): Promise<KvHarness> => {
      const h = await make(limits);
      open.push(h);
      return h;
    };
    afterEach(async () => {
      for (const h of open.splice(0)) {
        await h.store.close();
        await h.cleanup?.();
      }
    });

    it('puts, gets, overwrites and deletes', async () => {
      const { store } = await fresh();
      expect(await store.get('a')).toBeUndefined();
      await store.put('a', b(1, 2, 3));
      expect(await store.get('a')).toEqual(b(1, 2, 3));
      await store.put('a', b(9));
      expect(await store.get('a')).toEqual(b(9));
      await store.put('empty', b());
      expect(await store.get('empty')).toEqual(b());
      expect(await store.delete('a')).toBe(true);
      expect(await store.delete('a')).toBe(false);
      expect(await store.get('a')).toBeUndefined();
      expect(await store.usage()).toEqual({ keys: 1, bytes: 5 });
    });

    it('copies values in and out', async () => {
      const { store } = await fresh();
      const v = b(1, 2);
      await store.put('k', v);
      v[0] = 99;
      const got = (await store.get('k'))!;
      expect(got).toEqual(b(1, 2));
      expect(Object.getPrototypeOf(got)).toBe(Uint8Array.prototype);
      got[1] = 77;
      expect(await store.get('k')).toEqual(b(1, 2));
    });

    it('lists and counts in UTF-8 byte (= code point) order with prefix and paging', async () => {
      const { store } = await fresh();
      const keys = ['b', 'a', 'ab', 'a/2', 'a/10', 'Z', 'é', '\uffff', '\u{1F600}', '\ue000', 'a\u0000', 'a/1'];
      for (const [i, k] of keys.entries()) await store.put(k, b(i));
      const all = await store.list('');
      expect(all.map((e) => e.key)).toEqual([...keys].sort(utf8Order));
      expect(all.find((e) => e.key === 'é')!.value).toEqual(b(keys.indexOf('é')));
      expect((await store.list('a/')).map((e) => e.key)).toEqual(['a/1', 'a/10', 'a/2']);
      expect((await store.list('a/', { limit: 2 })).map((e) => e.key)).toEqual(['a/1', 'a/10']);
      expect((await store.list('a/', { after: 'a/10' })).map((e) => e.key)).toEqual(['a/2']);
      expect((await store.list('a/', { after: 'a' })).map((e) => e.key)).toEqual(['a/1', 'a/10', 'a/2']);
      expect(await store.list('a/', { after: 'b' })).toEqual([]);
      expect((await store.list('', { after: '\uffff' })).map((e) => e.key)).toEqual(['\u{1F600}']);
      expect(await store.list('nothing')).toEqual([]);
      expect(await store.count('')).toBe(keys.length);
      expect(await store.count('a')).toBe(6);
      expect(await store.count('a/1')).toBe(2);
      expect(await store.count('\u{1F600}')).toBe(1);
      expect(await store.count('q')).toBe(0);
    });

    it('applies a batch atomically, in order', async () => {
      const { store } = await fresh({ maxKeys: 3 });
      await store.batch([
        { type: 'put', key: 'x', value: b(1) },
        { type: 'put', key: 'y', value: b(2) },
        { type: 'delete', key: 'x' },
        { type: 'put', key: 'y', value: b(3) },
      ]);
      expect(await store.list('')).toEqual([{ key: 'y', value: b(3) }]);
      // A later invalid op rejects the whole batch before anything is written.
      expect(await codeOf(store.batch([{ type: 'put', key: 'z', value: b(1) }, { type: 'put', key: '', value: b() }]))).toBe('ERR_ARGUMENT');
      // A batch that ends over the limit writes nothing.
      const over = ['p', 'q', 'r'].map((key) => ({ type: 'put' as const, key, value: b(0) }));
      expect(await codeOf(store.batch([{ type: 'delete', key: 'y' }, ...over, { type: 'put', key: 's', value: b() }]))).toBe('ERR_STORE_FULL');
      expect(await store.list('')).toEqual([{ key: 'y', value: b(3) }]);
      await store.batch([]);
      expect(await store.count('')).toBe(1);
    });

    it('enforces maxKeys and maxBytes with ERR_STORE_FULL, never dropping data', async () => {
      const { store } = await fresh({ maxKeys: 2, maxBytes: 10 });
      await store.put('a', b(1, 2)); // 3 bytes
      await store.put('b', b(1, 2)); // 6 bytes
      expect(await codeOf(store.put('c', b()))).toBe('ERR_STORE_FULL');
      await store.put('a', b(1, 2, 3, 4, 5, 6)); // overwrite: 2 keys, 10 bytes
      expect(await codeOf(store.put('b', b(1, 2, 3)))).toBe('ERR_STORE_FULL'); // would be 11 bytes
      expect(await store.get('b')).toEqual(b(1, 2));
      expect(await store.usage()).toEqual({ keys: 2, bytes: 10 });
      await store.delete('b');
      await store.put('c', b());
      expect((await store.list('')).map((e) => e.key)).toEqual(['a', 'c']);
    });

    it('refuses oversized keys and values with ERR_TOO_LARGE', async () => {
      const { store } = await fresh({ maxValueBytes: 4 });
      expect(await codeOf(store.put('v', b(1, 2, 3, 4, 5)))).toBe('ERR_TOO_LARGE');
      expect(await codeOf(store.put('k'.repeat(1025), b()))).toBe('ERR_TOO_LARGE');
      expect(await codeOf(store.put('é'.repeat(513), b()))).toBe('ERR_TOO_LARGE'); // 1026 UTF-8 bytes
      await store.put('é'.repeat(512), b(1, 2, 3, 4));
      expect(await store.count('')).toBe(1);
    });

    it('rejects bad arguments with ERR_ARGUMENT', async () => {
      const { store } = await fresh();
      const bad = store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      expect(await codeOf(() => bad.put!(42, b()))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.put!('', b()))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.put!('\ud800x', b()))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.put!('k', 'text'))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.get!(undefined))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.batch!('ops'))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.batch!([{ type: 'merge', key: 'k' }]))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.list!('', { limit: 0 }))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.list!('', { limit: 1.5 }))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.count!(null))).toBe('ERR_ARGUMENT');
      expect(await store.count('')).toBe(0);
    });

    it('fails with ERR_STORE after close', async () => {
      const h = await make();
      await h.store.put('k', b(1));
      await h.store.close();
      expect(await codeOf(h.store.get('k'))).toBe('ERR_STORE');
      expect(await codeOf(h.store.put('k', b(2)))).toBe('ERR_STORE');
      await h.store.close(); // idempotent
      await h.cleanup?.();
    });

    it('keeps everything across close and reopen (persistent backends)', async (ctx) => {
      const h = await make();
      if (!h.reopen) {
        await h.store.close();
        await h.cleanup?.();
        ctx.skip();
        return;
      }
      await h.store.put('a', text('alpha'));
      await h.store.batch([
        { type: 'put', key: 'b', value: text('beta') },
        { type: 'put', key: 'c', value: text('gamma') },
      ]);
      await h.store.delete('c');
      await h.store.close();
      const again = await h.reopen();
      open.push({ store: again, ...(h.cleanup ? { cleanup: h.cleanup } : {}) });
      expect(await again.list('')).toEqual([
        { key: 'a', value: text('alpha') },
        { key: 'b', value: text('beta') },
      ]);
      expect(await again.usage()).toEqual({ keys: 2, bytes: 11 });
    });

    it('agrees with a model under random operation sequences', async () => {
      const keyArb = fc.constantFrom('a', 'b', 'ab', 'a/1', 'a/2', 'é', '\u{1F600}', '\uffff', 'z');
      const opArb = fc.oneof(
        fc.record({ type: fc.constant('put' as const), key: keyArb, value: fc.uint8Array({ maxLength: 4 }) }),
        fc.record({ type: fc.constant('delete' as const), key: keyArb }),
      );
      const stepArb = fc.array(opArb, { minLength: 1, maxLength: 4 });
      await fc.assert(
        fc.asyncProperty(fc.array(stepArb, { maxLength: 12 }), async (steps) => {
          const h = await make({ maxKeys: 5, maxBytes: 24 });
          const store = h.store;
          try {
            const model = new Map<string, Uint8Array>();
            for (const ops of steps) {
              const next = new Map(model);
              for (const op of ops) {
                if (op.type === 'put') next.set(op.key, op.value);
                else next.delete(op.key);
              }
              const bytes = [...next].reduce((n, [k, v]) => n + Buffer.byteLength(k) + v.length, 0);
              const oldBytes = [...model].reduce((n, [k, v]) => n + Buffer.byteLength(k) + v.length, 0);
              const full = (next.size > 5 && next.size > model.size) || (bytes > 24 && bytes > oldBytes);
              if (full) expect(await codeOf(store.batch(ops))).toBe('ERR_STORE_FULL');
              else {
                await store.batch(ops);
                model.clear();
                for (const [k, v] of next) model.set(k, v);
              }
            }
            const expected = [...model.keys()].sort(utf8Order).map((key) => ({ key, value: model.get(key)! }));
            expect(await store.list('')).toEqual(expected);
            expect(await store.count('a')).toBe(expected.filter((e) => e.key.startsWith('a')).length);
          } finally {
            await store.close();
            await h.cleanup?.();
          }
        }),
        { numRuns: 40 },
      );
    });
  });
}
