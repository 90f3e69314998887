/**
 * MemoryMediationStore: the in-memory MediationStore (tests, simulations). Same semantics as the
 * persistent stores (coordinate-mediation 2.0 state; see mediation.ts), without durability.
 */
import {
  MediationStoreBase,
  planAdds,
  planRemoves,
  type KeyPage,
  type KeyUpdateResult,
  type MediationGrant,
  type MediationStoreOptions,
} from './mediation.js';
import { compareKeys } from './validate.js';

export class MemoryMediationStore extends MediationStoreBase {
  private readonly grants = new Map<string, MediationGrant>();
  private readonly keyOwner = new Map<string, string>();
  private readonly ownerKeys = new Map<string, Set<string>>();

  constructor(options: MediationStoreOptions = {}) {
    super(options);
  }

  protected async doGrant(ownerDid: string, routingDid: string, now: number): Promise<void> {
    this.grants.set(ownerDid, { routingDid, grantedAt: now });
  }

  protected async doGetGrant(ownerDid: string): Promise<MediationGrant | undefined> {
    const g = this.grants.get(ownerDid);
    return g && { ...g };
  }

  private owned(ownerDid: string): Set<string> {
    let set = this.ownerKeys.get(ownerDid);
    if (!set) this.ownerKeys.set(ownerDid, (set = new Set()));
    return set;
  }

  protected async doAddKeys(ownerDid: string, keys: string[]): Promise<KeyUpdateResult[]> {
    if (!this.grants.has(ownerDid)) MediationStoreBase.notGranted();
    const mine = this.owned(ownerDid);
    const { results, insert } = planAdds(ownerDid, keys, this.keyOwner, mine.size, this.maxKeysPerOwner);
    for (const k of insert) {
      this.keyOwner.set(k, ownerDid);
      mine.add(k);
    }
    return results;
  }

  protected async doRemoveKeys(ownerDid: string, keys: string[]): Promise<KeyUpdateResult[]> {
    if (!this.grants.has(ownerDid)) MediationStoreBase.notGranted();
    const { results, remove } = planRemoves(ownerDid, keys, this.keyOwner);
    const mine = this.owned(ownerDid);
    for (const k of remove) {
      this.keyOwner.delete(k);
      mine.delete(k);
    }
    return results;
  }

  protected async doOwnerOf(recipientDid: string): Promise<string | undefined> {
    return this.keyOwner.get(recipientDid);
  }

  protected async doListKeys(ownerDid: string, limit: number, offset: number): Promise<KeyPage> {
    const all = [...(this.ownerKeys.get(ownerDid) ?? [])].sort(compareKeys);
    return { keys: all.slice(offset, offset + limit), total: all.length };
  }

  protected async doRevoke(ownerDid: string): Promise<number> {
    const mine = this.ownerKeys.get(ownerDid);
    const n = mine?.size ?? 0;
    for (const k of mine ?? []) this.keyOwner.delete(k);
    this.ownerKeys.delete(ownerDid);
    this.grants.delete(ownerDid);
    return n;
  }

  protected async shutdown(): Promise<void> {
    this.grants.clear();
    this.keyOwner.clear();
    this.ownerKeys.clear();
  }
}
