/**
 * Adapter to SICPA's didcomm-node (didcomm-rust in WASM), the peer we interoperate with: our DID
 * documents and secrets in the shapes its resolvers expect (JsonWebKey2020 + publicKeyJwk).
 */
import * as didcommNode from 'didcomm-node';
import type { DidDocument } from '../../src/did/document.js';
import { indexDocument } from '../../src/did/document.js';
import { publicKeyToJwk, type Jwk } from '../../src/did/keys.js';
import { nodeBackend } from '../../src/crypto/node.js';

export const { Message: PeerMessage } = didcommNode as any;

export function toPeerDoc(doc: DidDocument): any {
  const ix = indexDocument(doc, nodeBackend);
  const vms = [...ix.methods.values()].map((k) => ({ id: k.kid, type: 'JsonWebKey2020', controller: ix.did, publicKeyJwk: publicKeyToJwk(k) }));
  return { id: ix.did, keyAgreement: ix.keyAgreement, authentication: ix.authentication, verificationMethod: vms, service: [] };
}

export function peerResolvers(docs: DidDocument[], secrets: Jwk[]): { didResolver: any; secretsResolver: any } {
  const byDid = new Map(docs.map((d) => [d.id, toPeerDoc(d)]));
  const byKid = new Map(secrets.map((s) => [s.kid as string, { id: s.kid, type: 'JsonWebKey2020', privateKeyJwk: stripKid(s) }]));
  return {
    didResolver: { resolve: async (did: string) => byDid.get(did) ?? null },
    secretsResolver: {
      get_secret: async (id: string) => byKid.get(id) ?? null,
      find_secrets: async (ids: string[]) => ids.filter((i) => byKid.has(i)),
    },
  };
}

function stripKid(jwk: Jwk): Record<string, unknown> {
  const out: Record<string, unknown> = { ...jwk };
  delete out.kid;
  return out;
}
