/**
 * Builds the envelope context (crypto, offline resolver, secrets) from the CLI's key material:
 * `--secrets FILE` (a `did new` file, a JSON array of private JWKs with `kid`, or an object with a
 * `secrets` array; its own `didDocument` is provisioned too), `--dids FILE` (an array of DID
 * documents, an object mapping DID → document, one document, or a `did new` file) and `--peer DID`
 * (a DID the receiver knows, resolved offline: needed to resolve short hints and pairwise frames).
 */
import { err } from '../errors.js';
import { defaultCrypto } from '../crypto/default.js';
import type { CryptoBackend } from '../crypto/types.js';
import { OfflineResolver } from '../did/resolver.js';
import { SecretsStore } from '../did/secrets.js';
import { didOf, isDid, type DidDocument } from '../did/document.js';
import { isJsonObject, type JsonValue } from '../util/json.js';
import type { EnvelopeContext } from '../envelope/types.js';
import { readPublicJson, readSecretsJson } from './files.js';
import type { CliIo } from './io.js';

export interface KeyMaterialOptions {
  secrets: string[];
  dids: string[];
  peers?: string[];
  crypto?: CryptoBackend;
}

export interface LoadedSecretsFile {
  /** The path as given on the command line. */
  path: string;
  /** DIDs whose private keys this file holds. */
  dids: string[];
}

export interface LoadedContext {
  ctx: EnvelopeContext;
  resolver: OfflineResolver;
  secretsFiles: LoadedSecretsFile[];
}

function looksLikeDocument(v: JsonValue): boolean {
  return isJsonObject(v) && typeof v.id === 'string' && isDid(v.id);
}

/** The documents in a `--dids` file, in any accepted shape. */
export function documentsOf(value: JsonValue, path: string): DidDocument[] {
  if (Array.isArray(value)) {
    if (!value.every(isJsonObject)) throw err('ERR_MALFORMED', `DID documents file ${path}: every array item must be a DID document object`);
    return value as unknown as DidDocument[];
  }
  if (!isJsonObject(value)) throw err('ERR_MALFORMED', `DID documents file ${path}: expected an array of DID documents or an object mapping DID to document`);
  if (isJsonObject(value.didDocument ?? null)) return [value.didDocument as unknown as DidDocument];
  if (looksLikeDocument(value)) return [value as unknown as DidDocument];
  const docs: DidDocument[] = [];
  for (const [did, doc] of Object.entries(value)) {
    if (!isDid(did) || !isJsonObject(doc)) throw err('ERR_MALFORMED', `DID documents file ${path}: "${did.slice(0, 60)}" does not map a DID to a document`);
    if (doc.id !== undefined && doc.id !== did) throw err('ERR_MALFORMED', `DID documents file ${path}: the document under ${did.slice(0, 60)} has id ${String(doc.id).slice(0, 60)}`);
    docs.push({ ...(doc as unknown as DidDocument), id: did });
  }
  return docs;
}

export async function loadKeyMaterial(io: CliIo, o: KeyMaterialOptions): Promise<LoadedContext> {
  const crypto = o.crypto ?? defaultCrypto;
  const resolver = new OfflineResolver({ crypto });
  const secrets = new SecretsStore(crypto);
  const secretsFiles: LoadedSecretsFile[] = [];

  for (const path of o.secrets) {
    const value = await readSecretsJson(io, path);
    if (isJsonObject(value) && value.didDocument !== undefined) {
      if (!isJsonObject(value.didDocument)) throw err('ERR_MALFORMED', `secrets file ${path}: "didDocument" must be an object`);
      resolver.add(value.didDocument as unknown as DidDocument);
    }
    const before = new Set(secrets.kids());
    secrets.addFromJson(value);
    const added = secrets.kids().filter((k) => !before.has(k));
    secretsFiles.push({ path, dids: [...new Set(added.map(didOf))] });
  }
  for (const path of o.dids) {
    for (const doc of documentsOf(await readPublicJson(io, path, 'DID documents file'), path)) resolver.add(doc);
  }
  for (const did of o.peers ?? []) {
    if (!isDid(did)) throw err('ERR_USAGE', `--peer needs a DID (got "${String(did).slice(0, 60)}")`);
    resolver.document(did);
  }
  return { ctx: { crypto, resolver, secrets }, resolver, secretsFiles };
}
