/** Loads the DIDComm v2 spec vectors (Appendix A/B/C) into a resolver and secrets. */
import { readFileSync } from 'node:fs';
import { OfflineResolver } from '../../src/did/resolver.js';
import { SecretsStore } from '../../src/did/secrets.js';
import type { CryptoBackend } from '../../src/crypto/types.js';
import type { DidDocument } from '../../src/did/document.js';
import type { EnvelopeContext } from '../../src/envelope/types.js';

const dir = new URL('../vectors/didcomm-v2/', import.meta.url);

export function loadVector(name: string): any {
  return JSON.parse(readFileSync(new URL(name, dir), 'utf8'));
}

export const specKeys = loadVector('keys.json');

export interface SpecVector {
  file: string;
  name: string;
  kind: string;
  alg: string;
  enc: string | null;
  message: string;
  expected_plaintext: string;
  recipient_kids: string[];
  sender_kid?: string;
  signer_kid?: string;
}

export function specVectors(): SpecVector[] {
  const index = loadVector('index.json');
  return index.files
    .filter((f: any) => f.kind !== 'keys' && f.kind !== 'plaintext')
    .map((f: any) => ({ file: f.file, ...loadVector(f.file) }));
}

/** A context holding the given secrets (verbatim JSON, so A.2's "kid " typo is exercised). */
export function specContext(crypto: CryptoBackend, secretJwks: unknown[]): EnvelopeContext {
  const resolver = new OfflineResolver({ crypto, documents: specKeys.did_docs as Record<string, DidDocument> });
  const secrets = new SecretsStore(crypto);
  secrets.addFromJson(secretJwks);
  return { crypto, resolver, secrets };
}

export const allSpecSecrets: unknown[] = [...specKeys.sender_secrets, ...specKeys.recipient_secrets];

export function secretFor(kid: string): unknown {
  return allSpecSecrets.find((s: any) => (s.kid ?? s['kid ']) === kid);
}
