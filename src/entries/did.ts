/**
 * Public entry `didcomm-iot/did`: static DIDs (did:key, did:peer:2), offline resolution from the
 * DID itself or provisioned documents, JWK/multibase key codecs and the secrets store.
 */
export { createDid, type CreateDidOptions, type SecretsFile } from '../did/create.js';
export { didKeyFromPublicKey, publicKeyFromDidKey, resolveDidKey, ed25519ToX25519Private, ed25519ToX25519Public } from '../did/did-key.js';
export { createPeerDid, isPeerDid2, resolvePeerDid2, type PeerDidInput } from '../did/did-peer.js';
export { didOf, isDid, isDidUrl, indexDocument, type DidDocument, type IndexedDocument, type ResolvedKey, type Service, type ServiceEndpoint, type VerificationMethod } from '../did/document.js';
export { privateKeyFromJwk, privateKeyToJwk, publicKeyFromJwk, publicKeyToJwk, toMultibase, fromMultibase, toMulticodec, fromMulticodec, type Jwk, type PublicKey } from '../did/keys.js';
export { OfflineResolver, type DidResolver, type KeyResolver, type OfflineResolverOptions } from '../did/resolver.js';
export { SecretsStore, type Secret, type SecretsResolver } from '../did/secrets.js';
