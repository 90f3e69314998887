/**
 * Offline DID resolution (DESIGN §1: devices never resolve online). `OfflineResolver` resolves
 * did:key and did:peer:2 from the DID itself and any other method from provisioned documents
 * (e.g. `did:example` in the spec vectors), caches parsed documents, and answers the key
 * questions the envelope layer asks: which keyAgreement keys does a DID have, which key is this
 * kid, is it an authentication key of its DID.
 */
import { err } from '../errors.js';
import { defaultCrypto } from '../crypto/default.js';
import type { CryptoBackend } from '../crypto/types.js';
import { didOf, indexDocument, isDid, type DidDocument, type IndexedDocument, type ResolvedKey } from './document.js';
import { resolveDidKey } from './did-key.js';
import { isPeerDid2, resolvePeerDid2 } from './did-peer.js';

/** Resolves a DID to its document, or undefined when unknown. Synchronous: resolution is offline. */
export interface DidResolver {
  resolve(did: string): DidDocument | undefined;
}

/** What the envelope layer needs from DIDs. */
export interface KeyResolver {
  /** The parsed document of `did`; ERR_DID_NOT_RESOLVED when unknown. */
  document(did: string): IndexedDocument;
  /** The key with this absolute DID URL; ERR_KEY_NOT_FOUND when absent. */
  key(kid: string): ResolvedKey;
  /** keyAgreement keys of `did`, in document order. */
  keyAgreementKeys(did: string): ResolvedKey[];
  /** The key `kid` if it is in its DID's `authentication`; else ERR_KEY_NOT_FOUND. */
  authenticationKey(kid: string): ResolvedKey;
  /** Every DID this resolver has a document for (provisioned or already resolved). */
  knownDids(): string[];
  /** Changes whenever `knownDids()` may have changed (lets callers cache derived indexes). */
  readonly version?: number;
}

export interface OfflineResolverOptions {
  crypto?: CryptoBackend;
  /** Provisioned documents: an array, or an object mapping DID → document. */
  documents?: DidDocument[] | Record<string, DidDocument>;
  /** Bound on cached parsed documents (did:key / did:peer computed on demand). Default 10,000. */
  cacheSize?: number;
}

export class OfflineResolver implements DidResolver, KeyResolver {
  private readonly crypto: CryptoBackend;
  private readonly provisioned = new Map<string, DidDocument>();
  private readonly cache = new Map<string, IndexedDocument>();
  private readonly cacheSize: number;
  private generation = 0;

  get version(): number {
    return this.generation;
  }

  constructor(options: OfflineResolverOptions = {}) {
    this.crypto = options.crypto ?? defaultCrypto;
    this.cacheSize = options.cacheSize ?? 10_000;
    const docs = options.documents;
    if (Array.isArray(docs)) for (const d of docs) this.add(d);
    else if (docs) for (const [did, d] of Object.entries(docs)) this.add(d.id === undefined ? { ...d, id: did } : d);
  }

  /** Provisions a document (validated now, so a bad document fails at provisioning time). */
  add(doc: DidDocument): void {
    const indexed = indexDocument(doc, this.crypto);
    this.provisioned.set(indexed.did, doc);
    this.cache.delete(indexed.did);
    this.generation++;
  }

  resolve(did: string): DidDocument | undefined {
    if (!isDid(did)) return undefined;
    const p = this.provisioned.get(did);
    if (p) return p;
    try {
      if (did.startsWith('did:key:')) return resolveDidKey(did, this.crypto);
      if (isPeerDid2(did)) return resolvePeerDid2(did, this.crypto);
    } catch {
      return undefined;
    }
    return undefined;
  }

  document(did: string): IndexedDocument {
    const hit = this.cache.get(did);
    if (hit) return hit;
    let doc: DidDocument | undefined;
    if (this.provisioned.has(did)) doc = this.provisioned.get(did);
    else if (did.startsWith('did:key:')) doc = resolveDidKey(did, this.crypto);
    else if (isPeerDid2(did)) doc = resolvePeerDid2(did, this.crypto);
    if (!doc) throw err('ERR_DID_NOT_RESOLVED', `cannot resolve ${did.length > 80 ? did.slice(0, 80) + '…' : did} offline`);
    const indexed = indexDocument(doc, this.crypto);
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(did, indexed);
    this.generation++;
    return indexed;
  }

  key(kid: string): ResolvedKey {
    if (typeof kid !== 'string' || !kid.includes('#')) throw err('ERR_KEY_NOT_FOUND', 'key id must be a DID URL with a fragment');
    const k = this.document(didOf(kid)).methods.get(kid);
    if (!k) throw err('ERR_KEY_NOT_FOUND', `no usable key ${kid}`);
    return k;
  }

  keyAgreementKeys(did: string): ResolvedKey[] {
    const doc = this.document(did);
    return doc.keyAgreement.map((kid) => doc.methods.get(kid)).filter((k): k is ResolvedKey => k !== undefined);
  }

  authenticationKey(kid: string): ResolvedKey {
    const doc = this.document(didOf(kid));
    const k = doc.methods.get(kid);
    if (!k || !doc.authentication.includes(kid)) throw err('ERR_KEY_NOT_FOUND', `${kid} is not an authentication key of its DID`);
    return k;
  }

  knownDids(): string[] {
    return [...new Set([...this.provisioned.keys(), ...this.cache.keys()])];
  }
}
