/**
 * Creating a device's static DID at provisioning time: a did:key (one Ed25519 key that signs, its
 * X25519 twin for key agreement — or one P-256/P-384 key) or a did:peer:2 (separate Ed25519 and
 * X25519 keys plus DIDComm service endpoints). Returns the secrets-file shape the CLI writes:
 * `{did, didDocument, secrets: [private JWK with kid...]}`.
 */
import { err } from '../errors.js';
import { defaultCrypto } from '../crypto/default.js';
import type { CryptoBackend } from '../crypto/types.js';
import type { DidDocument, ServiceEndpoint } from './document.js';
import { didKeyFromPublicKey, ed25519ToX25519Private, ed25519ToX25519Public, resolveDidKey } from './did-key.js';
import { createPeerDid, resolvePeerDid2 } from './did-peer.js';
import { privateKeyToJwk, toMultibase, type Jwk } from './keys.js';

export interface SecretsFile {
  did: string;
  didDocument: DidDocument;
  secrets: Jwk[];
}

export interface CreateDidOptions {
  method?: 'key' | 'peer';
  /** did:key key type. Default Ed25519. */
  keyType?: 'Ed25519' | 'P-256' | 'P-384';
  /** did:peer only: DIDComm service endpoints (URIs or full endpoint objects). */
  services?: Array<string | ServiceEndpoint>;
  crypto?: CryptoBackend;
}

export function createDid(options: CreateDidOptions = {}): SecretsFile {
  const crypto = options.crypto ?? defaultCrypto;
  const method = options.method ?? 'key';
  if (method === 'key') {
    if (options.services?.length) throw err('ERR_ARGUMENT', 'did:key cannot carry a service endpoint; use did:peer');
    const keyType = options.keyType ?? 'Ed25519';
    const kp = crypto.generateKeyPair(keyType);
    const did = didKeyFromPublicKey({ curve: keyType, bytes: kp.publicKey });
    const doc = resolveDidKey(did, crypto);
    const main = `${did}#${toMultibase({ curve: keyType, bytes: kp.publicKey })}`;
    const secrets: Jwk[] = [privateKeyToJwk(keyType, kp.privateKey, kp.publicKey, main)];
    if (keyType === 'Ed25519') {
      const xpub = ed25519ToX25519Public(kp.publicKey);
      const xkid = `${did}#${toMultibase({ curve: 'X25519', bytes: xpub })}`;
      secrets.push(privateKeyToJwk('X25519', ed25519ToX25519Private(kp.privateKey), xpub, xkid));
    }
    return { did, didDocument: doc, secrets };
  }
  if (method !== 'peer') throw err('ERR_ARGUMENT', `unknown DID method ${String(method)}`);
  const sign = crypto.generateKeyPair('Ed25519');
  const agree = crypto.generateKeyPair('X25519');
  const services = (options.services ?? []).map((s) => (typeof s === 'string' ? { uri: s, accept: ['didcomm/v2'] } : s));
  const did = createPeerDid({
    authentication: [{ curve: 'Ed25519', bytes: sign.publicKey }],
    keyAgreement: [{ curve: 'X25519', bytes: agree.publicKey }],
    services,
  });
  const doc = resolvePeerDid2(did, crypto);
  return {
    did,
    didDocument: doc,
    secrets: [privateKeyToJwk('Ed25519', sign.privateKey, sign.publicKey, `${did}#key-1`), privateKeyToJwk('X25519', agree.privateKey, agree.publicKey, `${did}#key-2`)],
  };
}
