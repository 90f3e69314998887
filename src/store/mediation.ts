/**
 * MediationStore: the mediator's coordinate-mediation 2.0 state — who was granted mediation
 * (`mediate-grant`, with the routing DID handed out) and which recipient DIDs each owner routes
 * through us (`keylist-update` add/remove, `keylist-query` with paginate limit/offset).
 *
 * Contract (every implementation passes `test/store/mediation-contract.ts`):
 * - A recipient DID belongs to at most one owner. `addKeys` reports per key: 'success',
 *   'no_change' (already the caller's), 'conflict' (another owner's) or 'limit' (the owner already
 *   has `maxKeysPerOwner` keys); one bad key never fails the batch. `removeKeys` reports 'success'
 *   or 'no_change' (absent, or another owner's: never revealed, never touched). The mediator maps
 *   'conflict'/'limit' to keylist-update-response `client_error` (coordinate-mediation 2.0).
 * - `addKeys`/`removeKeys` for an owner without a grant → ERR_NOT_AUTHORIZED.
 * - `listKeys` pages in code point order of the recipient DID, with the owner's total.
 * - `revoke` removes the grant and every key of the owner; returns how many keys went.
 * - Each call is atomic (one transaction / Lua script), also across processes.
 */
import { err } from '../errors.js';
import { systemClock, type Clock } from '../util/clock.js';
import { checkArray, checkDid, checkCount, checkPageLimit } from './validate.js';

export type KeyUpdateOutcome = 'success' | 'no_change' | 'conflict' | 'limit';

export interface KeyUpdateResult {
  recipientDid: string;
  result: KeyUpdateOutcome;
}

export interface MediationGrant {
  routingDid: string;
  grantedAt: number;
}

export interface KeyPage {
  keys: string[];
  /** All keys of the owner (not just this page). */
  total: number;
}

export interface KeyListOptions {
  /** 1..MAX_KEYS_PER_CALL (default 100). */
  limit?: number;
  offset?: number;
}

export interface MediationStore {
  /** Grants (or re-grants, replacing the routing DID) mediation to `ownerDid`; keys are kept. */
  grant(ownerDid: string, routingDid: string): Promise<void>;
  getGrant(ownerDid: string): Promise<MediationGrant | undefined>;
  isGranted(ownerDid: string): Promise<boolean>;
  addKeys(ownerDid: string, recipientDids: readonly string[]): Promise<KeyUpdateResult[]>;
  removeKeys(ownerDid: string, recipientDids: readonly string[]): Promise<KeyUpdateResult[]>;
  /** The owner a recipient DID is routed for (forward handling), if any. */
  ownerOf(recipientDid: string): Promise<string | undefined>;
  listKeys(ownerDid: string, options?: KeyListOptions): Promise<KeyPage>;
  revoke(ownerDid: string): Promise<number>;
  close(): Promise<void>;
}

export interface MediationStoreOptions {
  /** Time source for `grantedAt` (default: system clock). */
  clock?: Clock;
  /** Most recipient DIDs one owner may register (default 1000). */
  maxKeysPerOwner?: number;
}

export const DEFAULT_MAX_KEYS_PER_OWNER = 1000;
/** Most keys one addKeys/removeKeys/listKeys call handles. */
export const MAX_KEYS_PER_CALL = 1000;

/**
 * Decides addKeys outcomes given each key's current owner and the owner's key count.
 * Returns the results and the keys to insert (in order).
 */
export function planAdds(
  ownerDid: string,
  keys: readonly string[],
  ownerOfKey: ReadonlyMap<string, string>,
  count: number,
  max: number,
): { results: KeyUpdateResult[]; insert: string[] } {
  const insert: string[] = [];
  const taken = new Set<string>();
  let n = count;
  const results = keys.map((k): KeyUpdateResult => {
    const owner = taken.has(k) ? ownerDid : ownerOfKey.get(k);
    if (owner === ownerDid) return { recipientDid: k, result: 'no_change' };
    if (owner !== undefined) return { recipientDid: k, result: 'conflict' };
    if (n >= max) return { recipientDid: k, result: 'limit' };
    n++;
    taken.add(k);
    insert.push(k);
    return { recipientDid: k, result: 'success' };
  });
  return { results, insert };
}

/** Decides removeKeys outcomes; returns the keys to delete (the owner's own, once each). */
export function planRemoves(ownerDid: string, keys: readonly string[], ownerOfKey: ReadonlyMap<string, string>): { results: KeyUpdateResult[]; remove: string[] } {
  const remove: string[] = [];
  const gone = new Set<string>();
  const results = keys.map((k): KeyUpdateResult => {
    if (gone.has(k) || ownerOfKey.get(k) !== ownerDid) return { recipientDid: k, result: 'no_change' };
    gone.add(k);
    remove.push(k);
    return { recipientDid: k, result: 'success' };
  });
  return { results, remove };
}

export abstract class MediationStoreBase implements MediationStore {
  protected readonly clock: Clock;
  protected readonly maxKeysPerOwner: number;
  private isClosed = false;

  protected constructor(options: MediationStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxKeysPerOwner = options.maxKeysPerOwner === undefined ? DEFAULT_MAX_KEYS_PER_OWNER : checkCount(options.maxKeysPerOwner, 'maxKeysPerOwner');
  }

  protected abstract doGrant(ownerDid: string, routingDid: string, now: number): Promise<void>;
  protected abstract doGetGrant(ownerDid: string): Promise<MediationGrant | undefined>;
  /** Must throw ERR_NOT_AUTHORIZED (via `notGranted`) when the owner has no grant. */
  protected abstract doAddKeys(ownerDid: string, keys: string[]): Promise<KeyUpdateResult[]>;
  protected abstract doRemoveKeys(ownerDid: string, keys: string[]): Promise<KeyUpdateResult[]>;
  protected abstract doOwnerOf(recipientDid: string): Promise<string | undefined>;
  protected abstract doListKeys(ownerDid: string, limit: number, offset: number): Promise<KeyPage>;
  protected abstract doRevoke(ownerDid: string): Promise<number>;
  protected abstract shutdown(): Promise<void>;

  protected checkOpen(): void {
    if (this.isClosed) throw err('ERR_STORE', 'mediation store is closed');
  }

  protected static notGranted(): never {
    throw err('ERR_NOT_AUTHORIZED', 'mediation not granted to this DID');
  }

  private keys(recipientDids: unknown): string[] {
    const list = checkArray(recipientDids, 'recipientDids', MAX_KEYS_PER_CALL);
    return list.map((k, i) => checkDid(k, `recipientDids[${i}]`));
  }

  async grant(ownerDid: string, routingDid: string): Promise<void> {
    this.checkOpen();
    await this.doGrant(checkDid(ownerDid, 'ownerDid'), checkDid(routingDid, 'routingDid'), this.clock.now());
  }

  async getGrant(ownerDid: string): Promise<MediationGrant | undefined> {
    this.checkOpen();
    return this.doGetGrant(checkDid(ownerDid, 'ownerDid'));
  }

  async isGranted(ownerDid: string): Promise<boolean> {
    return (await this.getGrant(ownerDid)) !== undefined;
  }

  async addKeys(ownerDid: string, recipientDids: readonly string[]): Promise<KeyUpdateResult[]> {
    this.checkOpen();
    const owner = checkDid(ownerDid, 'ownerDid');
    return this.doAddKeys(owner, this.keys(recipientDids));
  }

  async removeKeys(ownerDid: string, recipientDids: readonly string[]): Promise<KeyUpdateResult[]> {
    this.checkOpen();
    const owner = checkDid(ownerDid, 'ownerDid');
    return this.doRemoveKeys(owner, this.keys(recipientDids));
  }

  async ownerOf(recipientDid: string): Promise<string | undefined> {
    this.checkOpen();
    return this.doOwnerOf(checkDid(recipientDid, 'recipientDid'));
  }

  async listKeys(ownerDid: string, options: KeyListOptions = {}): Promise<KeyPage> {
    this.checkOpen();
    if (typeof options !== 'object' || options === null) throw err('ERR_ARGUMENT', 'options: expected an object');
    const limit = checkPageLimit(options.limit, 'limit', 100, MAX_KEYS_PER_CALL);
    const offset = options.offset === undefined ? 0 : checkCount(options.offset, 'offset');
    return this.doListKeys(checkDid(ownerDid, 'ownerDid'), limit, offset);
  }

  async revoke(ownerDid: string): Promise<number> {
    this.checkOpen();
    return this.doRevoke(checkDid(ownerDid, 'ownerDid'));
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.shutdown();
  }
}
