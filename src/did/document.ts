/**
 * DID documents (W3C DID Core §5) as DIDComm uses them: verification methods, the
 * `authentication` and `keyAgreement` relationships (DIDComm v2.1 §Key IDs: a recipient `kid` is
 * a keyAgreement key, a signer `kid` an authentication key) and `DIDCommMessaging` services
 * (§Service Endpoint, v2.1 object-or-array form). Relative ids (`#key-1`) are made absolute.
 */
import { err } from '../errors.js';
import { isJsonObject } from '../util/json.js';
import type { CryptoBackend } from '../crypto/types.js';
import { fromMultibase, publicKeyFromJwk, type Jwk, type PublicKey } from './keys.js';
import { fromBase58 } from '../util/base58.js';

export interface VerificationMethod {
  id: string;
  type: string;
  controller: string;
  publicKeyJwk?: Jwk;
  publicKeyMultibase?: string;
  publicKeyBase58?: string;
}

export interface ServiceEndpoint {
  uri: string;
  accept?: string[];
  routingKeys?: string[];
}

export interface Service {
  id: string;
  type: string | string[];
  serviceEndpoint: ServiceEndpoint | ServiceEndpoint[] | string;
}

export interface DidDocument {
  '@context'?: unknown;
  id: string;
  alsoKnownAs?: string[];
  verificationMethod?: VerificationMethod[];
  authentication?: Array<string | VerificationMethod>;
  assertionMethod?: Array<string | VerificationMethod>;
  keyAgreement?: Array<string | VerificationMethod>;
  capabilityInvocation?: Array<string | VerificationMethod>;
  capabilityDelegation?: Array<string | VerificationMethod>;
  service?: Service[];
}

/** A key taken from a DID document, ready for crypto. */
export interface ResolvedKey extends PublicKey {
  /** Absolute DID URL of the verification method. */
  kid: string;
  /** The DID that controls it (the document id). */
  did: string;
}

/** A DID document with absolute ids, embedded methods pulled into `methods`, keys parsed. */
export interface IndexedDocument {
  document: DidDocument;
  did: string;
  methods: Map<string, ResolvedKey>;
  authentication: string[];
  keyAgreement: string[];
  services: Array<{ id: string; endpoints: ServiceEndpoint[] }>;
}

/** `did:example:123#key-1` → `did:example:123`. */
export function didOf(didUrl: string): string {
  const i = didUrl.search(/[#?/]/u);
  const base = i < 0 ? didUrl : didUrl.slice(0, i);
  // did:peer:2 and did:key contain no '/', but a path may follow the method-specific id.
  return base;
}

/** Checks the DID syntax (did:method:msid), bounded in length. */
export function isDid(s: unknown): s is string {
  return typeof s === 'string' && s.length <= 4096 && /^did:[a-z0-9]+:[A-Za-z0-9._:%-]+$/u.test(s);
}

export function isDidUrl(s: unknown): s is string {
  return typeof s === 'string' && s.length <= 4096 && /^did:[a-z0-9]+:[A-Za-z0-9._:%-]+([/?#].*)?$/u.test(s);
}

function absolute(did: string, id: string): string {
  return id.startsWith('#') ? did + id : id;
}

const BASE58_TYPES: Record<string, PublicKey['curve']> = {
  Ed25519VerificationKey2018: 'Ed25519',
  X25519KeyAgreementKey2019: 'X25519',
};

function keyOf(vm: VerificationMethod, crypto: CryptoBackend): PublicKey {
  if (vm.publicKeyJwk !== undefined) return publicKeyFromJwk(vm.publicKeyJwk, crypto);
  if (typeof vm.publicKeyMultibase === 'string') return fromMultibase(vm.publicKeyMultibase, crypto);
  if (typeof vm.publicKeyBase58 === 'string') {
    const curve = BASE58_TYPES[vm.type];
    if (!curve) throw err('ERR_UNSUPPORTED', `publicKeyBase58 with type ${vm.type}`);
    return { curve, bytes: crypto.validatePublicKey(curve, fromBase58(vm.publicKeyBase58)) };
  }
  throw err('ERR_UNSUPPORTED', `verification method ${vm.id} has no supported key material`);
}

function endpointsOf(s: Service): ServiceEndpoint[] {
  const e = s.serviceEndpoint;
  const list = Array.isArray(e) ? e : [e];
  const out: ServiceEndpoint[] = [];
  for (const item of list) {
    if (typeof item === 'string') out.push({ uri: item });
    else if (isJsonObject(item) && typeof item.uri === 'string') {
      out.push({
        uri: item.uri,
        ...(Array.isArray(item.accept) ? { accept: item.accept.filter((a): a is string => typeof a === 'string') } : {}),
        ...(Array.isArray(item.routingKeys) ? { routingKeys: item.routingKeys.filter((a): a is string => typeof a === 'string') } : {}),
      });
    }
  }
  return out;
}

/**
 * Validates and indexes a DID document. Methods whose key material is unsupported or invalid are
 * left out (a document may carry keys we don't use); a document with a bad shape is ERR_MALFORMED.
 */
export function indexDocument(doc: unknown, crypto: CryptoBackend): IndexedDocument {
  if (!isJsonObject(doc) || !isDid(doc.id)) throw err('ERR_MALFORMED', 'DID document must be an object with a DID "id"');
  const d = doc as unknown as DidDocument;
  const did = d.id;
  const methods = new Map<string, ResolvedKey>();
  const addMethod = (vm: unknown): string | undefined => {
    if (!isJsonObject(vm) || typeof vm.id !== 'string') return undefined;
    const kid = absolute(did, vm.id);
    if (!methods.has(kid)) {
      try {
        const key = keyOf(vm as unknown as VerificationMethod, crypto);
        methods.set(kid, { ...key, kid, did });
      } catch {
        return kid;
      }
    }
    return kid;
  };
  if (d.verificationMethod !== undefined && !Array.isArray(d.verificationMethod)) throw err('ERR_MALFORMED', 'verificationMethod must be an array');
  for (const vm of d.verificationMethod ?? []) addMethod(vm);
  const relationship = (rel: unknown): string[] => {
    if (rel === undefined) return [];
    if (!Array.isArray(rel)) throw err('ERR_MALFORMED', 'verification relationship must be an array');
    const out: string[] = [];
    for (const r of rel) {
      const kid = typeof r === 'string' ? absolute(did, r) : addMethod(r);
      if (kid !== undefined) out.push(kid);
    }
    return out;
  };
  const services: IndexedDocument['services'] = [];
  if (d.service !== undefined && !Array.isArray(d.service)) throw err('ERR_MALFORMED', 'service must be an array');
  for (const s of d.service ?? []) {
    if (!isJsonObject(s)) continue;
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.includes('DIDCommMessaging')) continue;
    services.push({ id: absolute(did, String(s.id ?? '')), endpoints: endpointsOf(s as unknown as Service) });
  }
  return { document: d, did, methods, authentication: relationship(d.authentication), keyAgreement: relationship(d.keyAgreement), services };
}
