/**
 * The shared MediationStore contract (coordinate-mediation 2.0 state). Every implementation calls
 * `mediationStoreContract(name, make)`; `make(options)` builds a fresh, empty store from `options`
 * (ManualClock, maxKeysPerOwner). `peer()` opens a second instance on the same data with its own
 * connection, as another mediator process would.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MediationStore, MediationStoreOptions } from '../../src/store/mediation.js';
import { ManualClock } from '../../src/util/clock.js';
import { codeOf, utf8Order } from './helpers.js';

export interface MediationHarness {
  store: MediationStore;
  peer?: () => Promise<MediationStore>;
  cleanup?: () => Promise<void>;
}

export type MediationContractOptions = MediationStoreOptions & { clock: ManualClock };

const ALICE = 'did:example:alice';
const BOB = 'did:example:bob';
const ROUTING = 'did:peer:2.Ez6LSroutingkey';

export function mediationStoreContract(name: string, make: (options: MediationContractOptions) => Promise<MediationHarness>): void {
  describe(`MediationStore contract: ${name}`, () => {
    const opened: MediationStore[] = [];
    let cleanups: Array<() => Promise<void>> = [];
    const fresh = async (options: Partial<MediationStoreOptions> = {}) => {
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
      return { store: h.store, clock, peer };
    };
    afterEach(async () => {
      for (const s of opened.splice(0).reverse()) await s.close();
      for (const c of cleanups) await c();
      cleanups = [];
    });

    it('grants, re-grants and reports grants', async () => {
      const { store, clock } = await fresh();
      expect(await store.isGranted(ALICE)).toBe(false);
      expect(await store.getGrant(ALICE)).toBeUndefined();
      await store.grant(ALICE, ROUTING);
      expect(await store.isGranted(ALICE)).toBe(true);
      expect(await store.getGrant(ALICE)).toEqual({ routingDid: ROUTING, grantedAt: clock.now() });
      await store.addKeys(ALICE, ['did:key:z1']);
      await clock.advance(1000);
      await store.grant(ALICE, 'did:example:other-routing');
      expect(await store.getGrant(ALICE)).toEqual({ routingDid: 'did:example:other-routing', grantedAt: clock.now() });
      expect(await store.ownerOf('did:key:z1')).toBe(ALICE);
      expect(await store.isGranted(BOB)).toBe(false);
    });

    it('adds keys with a per-key outcome: success, no_change, conflict', async () => {
      const { store } = await fresh();
      await store.grant(ALICE, ROUTING);
      await store.grant(BOB, ROUTING);
      expect(await store.addKeys(ALICE, ['did:key:a', 'did:key:b', 'did:key:a'])).toEqual([
        { recipientDid: 'did:key:a', result: 'success' },
        { recipientDid: 'did:key:b', result: 'success' },
        { recipientDid: 'did:key:a', result: 'no_change' },
      ]);
      expect(await store.addKeys(BOB, ['did:key:b', 'did:key:c'])).toEqual([
        { recipientDid: 'did:key:b', result: 'conflict' },
        { recipientDid: 'did:key:c', result: 'success' },
      ]);
      expect(await store.ownerOf('did:key:a')).toBe(ALICE);
      expect(await store.ownerOf('did:key:b')).toBe(ALICE);
      expect(await store.ownerOf('did:key:c')).toBe(BOB);
      expect(await store.ownerOf('did:key:nobody')).toBeUndefined();
      expect(await store.addKeys(ALICE, [])).toEqual([]);
    });

    it('stops at maxKeysPerOwner with a per-key "limit" outcome', async () => {
      const { store } = await fresh({ maxKeysPerOwner: 2 });
      await store.grant(ALICE, ROUTING);
      expect((await store.addKeys(ALICE, ['did:key:1', 'did:key:2', 'did:key:3', 'did:key:1'])).map((r) => r.result)).toEqual([
        'success',
        'success',
        'limit',
        'no_change',
      ]);
      await store.removeKeys(ALICE, ['did:key:1']);
      expect((await store.addKeys(ALICE, ['did:key:3'])).map((r) => r.result)).toEqual(['success']);
      expect((await store.listKeys(ALICE)).total).toBe(2);
    });

    it('removes only the caller’s own keys', async () => {
      const { store } = await fresh();
      await store.grant(ALICE, ROUTING);
      await store.grant(BOB, ROUTING);
      await store.addKeys(ALICE, ['did:key:a']);
      await store.addKeys(BOB, ['did:key:b']);
      expect(await store.removeKeys(ALICE, ['did:key:a', 'did:key:b', 'did:key:none', 'did:key:a'])).toEqual([
        { recipientDid: 'did:key:a', result: 'success' },
        { recipientDid: 'did:key:b', result: 'no_change' },
        { recipientDid: 'did:key:none', result: 'no_change' },
        { recipientDid: 'did:key:a', result: 'no_change' },
      ]);
      expect(await store.ownerOf('did:key:a')).toBeUndefined();
      expect(await store.ownerOf('did:key:b')).toBe(BOB);
    });

    it('refuses key updates without a grant (ERR_NOT_AUTHORIZED)', async () => {
      const { store } = await fresh();
      expect(await codeOf(store.addKeys(ALICE, ['did:key:a']))).toBe('ERR_NOT_AUTHORIZED');
      expect(await codeOf(store.removeKeys(ALICE, ['did:key:a']))).toBe('ERR_NOT_AUTHORIZED');
      expect(await store.ownerOf('did:key:a')).toBeUndefined();
    });

    it('lists keys in code point order with limit/offset and the total', async () => {
      const { store } = await fresh();
      await store.grant(ALICE, ROUTING);
      const keys = ['did:key:b', 'did:key:a', 'did:key:\u{1F600}', 'did:key:\uffff', 'did:key:é'];
      await store.addKeys(ALICE, keys);
      const sorted = [...keys].sort(utf8Order);
      expect(await store.listKeys(ALICE)).toEqual({ keys: sorted, total: 5 });
      expect(await store.listKeys(ALICE, { limit: 2, offset: 1 })).toEqual({ keys: sorted.slice(1, 3), total: 5 });
      expect(await store.listKeys(ALICE, { offset: 10 })).toEqual({ keys: [], total: 5 });
      expect(await store.listKeys(BOB)).toEqual({ keys: [], total: 0 });
    });

    it('revokes a grant with all its keys, freeing them for others', async () => {
      const { store } = await fresh();
      await store.grant(ALICE, ROUTING);
      await store.grant(BOB, ROUTING);
      await store.addKeys(ALICE, ['did:key:a', 'did:key:b']);
      await store.addKeys(BOB, ['did:key:c']);
      expect(await store.revoke(ALICE)).toBe(2);
      expect(await store.isGranted(ALICE)).toBe(false);
      expect(await store.ownerOf('did:key:a')).toBeUndefined();
      expect(await store.listKeys(ALICE)).toEqual({ keys: [], total: 0 });
      expect(await store.ownerOf('did:key:c')).toBe(BOB);
      expect((await store.addKeys(BOB, ['did:key:a'])).map((r) => r.result)).toEqual(['success']);
      expect(await store.revoke(ALICE)).toBe(0);
    });

    it('shares state with a second instance, and a contested key gets exactly one owner', async (ctx) => {
      const { store, peer } = await fresh();
      if (!peer) return ctx.skip();
      const other = await peer();
      await store.grant(ALICE, ROUTING);
      await other.grant(BOB, ROUTING);
      expect(await other.isGranted(ALICE)).toBe(true);
      const contested = Array.from({ length: 20 }, (_, i) => `did:key:contested${i}`);
      const [a, b] = await Promise.all([store.addKeys(ALICE, contested), other.addKeys(BOB, contested)]);
      for (let i = 0; i < contested.length; i++) {
        expect([a[i]!.result, b[i]!.result].sort()).toEqual(['conflict', 'success']);
        expect(await store.ownerOf(contested[i]!)).toBe(a[i]!.result === 'success' ? ALICE : BOB);
      }
      expect((await store.listKeys(ALICE)).total + (await other.listKeys(BOB)).total).toBe(20);
    });

    it('validates arguments and fails with ERR_STORE after close', async () => {
      const { store } = await fresh();
      const bad = store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      expect(await codeOf(() => bad.grant!('', ROUTING))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.grant!(ALICE, 42))).toBe('ERR_ARGUMENT');
      await store.grant(ALICE, ROUTING);
      expect(await codeOf(() => bad.addKeys!(ALICE, 'did:key:a'))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.addKeys!(ALICE, ['did:key:\u0007']))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.addKeys!(ALICE, new Array(1001).fill('did:key:x')))).toBe('ERR_TOO_LARGE');
      expect(await codeOf(() => bad.listKeys!(ALICE, { limit: 0 }))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.listKeys!(ALICE, { offset: -1 }))).toBe('ERR_ARGUMENT');
      expect(await codeOf(() => bad.ownerOf!(null))).toBe('ERR_ARGUMENT');
      await store.close();
      expect(await codeOf(store.isGranted(ALICE))).toBe('ERR_STORE');
      expect(await codeOf(store.addKeys(ALICE, ['did:key:a']))).toBe('ERR_STORE');
    });
  });
}
