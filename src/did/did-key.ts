/**
 * did:key (W3C CCG did:key method v0.7): a DID that is its own public key, resolved offline.
 * Ed25519 DIDs get a derived X25519 keyAgreement method (the birational map of RFC 7748 §4.1),
 * so one did:key signs and encrypts. P-256/P-384 keys serve both purposes; X25519 only
 * keyAgreement; secp256k1 only authentication.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { err } from '../errors.js';
import type { CryptoBackend, Curve } from '../crypto/types.js';
import type { DidDocument, VerificationMethod } from './document.js';
import { fromMultibase, toMultibase, type PublicKey } from './keys.js';

const PREFIX = 'did:key:';

export function didKeyFromPublicKey(key: PublicKey): string {
  return PREFIX + toMultibase(key);
}

/** Parses `did:key:z...` (no fragment) into its key, validating the point. */
export function publicKeyFromDidKey(did: string, crypto: CryptoBackend): PublicKey {
  if (typeof did !== 'string' || !did.startsWith(PREFIX)) throw err('ERR_DID_NOT_RESOLVED', 'not a did:key');
  const msid = did.slice(PREFIX.length);
  if (!/^z[1-9A-HJ-NP-Za-km-z]+$/u.test(msid)) throw err('ERR_DID_NOT_RESOLVED', 'did:key: malformed identifier');
  try {
    return fromMultibase(msid, crypto);
  } catch (e) {
    throw err('ERR_DID_NOT_RESOLVED', `did:key: ${e instanceof Error ? e.message : 'invalid key'}`, { cause: e });
  }
}

/** The X25519 public key of an Ed25519 public key. */
export function ed25519ToX25519Public(pub: Uint8Array): Uint8Array {
  return ed25519.utils.toMontgomery(pub);
}

/** The X25519 private key of an Ed25519 seed (clamped SHA-512 of the seed). */
export function ed25519ToX25519Private(seed: Uint8Array): Uint8Array {
  return ed25519.utils.toMontgomerySecret(seed);
}

const CAN_AGREE: ReadonlySet<Curve> = new Set<Curve>(['X25519', 'P-256', 'P-384', 'P-521']);
const CAN_SIGN: ReadonlySet<Curve> = new Set<Curve>(['Ed25519', 'P-256', 'P-384', 'P-521', 'secp256k1']);

export function resolveDidKey(did: string, crypto: CryptoBackend): DidDocument {
  const key = publicKeyFromDidKey(did, crypto);
  const mb = toMultibase(key);
  const vm = (multibase: string): VerificationMethod => ({
    id: `${did}#${multibase}`,
    type: 'Multikey',
    controller: did,
    publicKeyMultibase: multibase,
  });
  const main = vm(mb);
  const methods = [main];
  const doc: DidDocument = { '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'], id: did, verificationMethod: methods };
  if (CAN_SIGN.has(key.curve)) {
    doc.authentication = [main.id];
    doc.assertionMethod = [main.id];
  }
  if (CAN_AGREE.has(key.curve)) doc.keyAgreement = [main.id];
  if (key.curve === 'Ed25519') {
    const x: PublicKey = { curve: 'X25519', bytes: ed25519ToX25519Public(key.bytes) };
    const xvm = vm(toMultibase(x));
    methods.push(xvm);
    doc.keyAgreement = [xvm.id];
  }
  return doc;
}
