/** Fixed did:key parties for the compact test vectors (deterministic from published seeds). */
import { nodeBackend } from '../../src/crypto/node.js';
import { didKeyFromPublicKey, ed25519ToX25519Private, ed25519ToX25519Public, resolveDidKey } from '../../src/did/did-key.js';
import { privateKeyToJwk, toMultibase } from '../../src/did/keys.js';
import type { SecretsFile } from '../../src/did/create.js';
import { utf8 } from '../../src/util/bytes.js';

export const VECTOR_PARTIES = ['alice', 'bob', 'carol', 'mediator'] as const;

/** Ed25519 seed = SHA-256("didcomm-compact test vector " + name). */
export function fixedParty(name: string): SecretsFile & { name: string } {
  const seed = nodeBackend.sha256(utf8(`didcomm-compact test vector ${name}`));
  const pub = nodeBackend.publicKeyFromPrivate('Ed25519', seed);
  const did = didKeyFromPublicKey({ curve: 'Ed25519', bytes: pub });
  const xpub = ed25519ToX25519Public(pub);
  return {
    name,
    did,
    didDocument: resolveDidKey(did, nodeBackend),
    secrets: [
      privateKeyToJwk('Ed25519', seed, pub, `${did}#${toMultibase({ curve: 'Ed25519', bytes: pub })}`),
      privateKeyToJwk('X25519', ed25519ToX25519Private(seed), xpub, `${did}#${toMultibase({ curve: 'X25519', bytes: xpub })}`),
    ],
  };
}
