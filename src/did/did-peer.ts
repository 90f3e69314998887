/**
 * did:peer:2 (DIF Peer DID Method spec, numalgo 2): keys and DIDComm services inline in the DID,
 * resolved offline. Purpose codes V (authentication) and E (keyAgreement) for keys, S for services
 * (base64url JSON with the t/dm/s/r/a abbreviations). Resolution numbers the keys `#key-1`,
 * `#key-2`... in DID order and the services `#service`, `#service-1`... (absolute ids here).
 */
import { err } from '../errors.js';
import { fromBase64url, toBase64url } from '../util/base64url.js';
import { fromUtf8, utf8 } from '../util/bytes.js';
import { isJsonObject, parseJson, type JsonValue } from '../util/json.js';
import type { CryptoBackend } from '../crypto/types.js';
import type { DidDocument, Service, ServiceEndpoint, VerificationMethod } from './document.js';
import { fromMultibase, toMultibase, type PublicKey } from './keys.js';

const PREFIX = 'did:peer:2';
const MAX_DID_LENGTH = 8192;

export interface PeerDidInput {
  authentication: PublicKey[];
  keyAgreement: PublicKey[];
  /** DIDCommMessaging service endpoints, in preference order. */
  services?: ServiceEndpoint[];
}

const ABBREVIATIONS: Record<string, string> = {
  type: 't',
  DIDCommMessaging: 'dm',
  serviceEndpoint: 's',
  routingKeys: 'r',
  accept: 'a',
};
const EXPANSIONS: Record<string, string> = Object.fromEntries(Object.entries(ABBREVIATIONS).map(([k, v]) => [v, k]));

function transform(v: JsonValue, table: Record<string, string>): JsonValue {
  if (Array.isArray(v)) return v.map((x) => transform(x, table));
  if (isJsonObject(v)) {
    const out: Record<string, JsonValue> = {};
    for (const [k, val] of Object.entries(v)) {
      const key = table[k] ?? k;
      out[key] = key === 'type' || key === 't' ? (typeof val === 'string' ? (table[val] ?? val) : val) : transform(val, table);
    }
    return out;
  }
  return v;
}

export function createPeerDid(input: PeerDidInput): string {
  let did = PREFIX;
  for (const k of input.authentication) did += '.V' + toMultibase(k);
  for (const k of input.keyAgreement) did += '.E' + toMultibase(k);
  for (const s of input.services ?? []) {
    const service = { type: 'DIDCommMessaging', serviceEndpoint: s } as unknown as JsonValue;
    did += '.S' + toBase64url(utf8(JSON.stringify(transform(service, ABBREVIATIONS))));
  }
  return did;
}

export function isPeerDid2(did: string): boolean {
  return typeof did === 'string' && did.startsWith(PREFIX + '.');
}

export function resolvePeerDid2(did: string, crypto: CryptoBackend): DidDocument {
  if (!isPeerDid2(did) || did.length > MAX_DID_LENGTH) throw err('ERR_DID_NOT_RESOLVED', 'not a did:peer:2');
  const elements = did.slice(PREFIX.length + 1).split('.');
  const methods: VerificationMethod[] = [];
  const authentication: string[] = [];
  const keyAgreement: string[] = [];
  const services: Service[] = [];
  let keyNo = 0;
  for (const el of elements) {
    const purpose = el[0];
    const value = el.slice(1);
    if (!purpose || !value) throw err('ERR_DID_NOT_RESOLVED', 'did:peer:2: empty element');
    if (purpose === 'S') {
      let parsed: JsonValue;
      try {
        parsed = transform(parseJson(fromUtf8(fromBase64url(value, 'did:peer:2 service')), 'did:peer:2 service', { maxDepth: 8 }), EXPANSIONS);
      } catch (e) {
        throw err('ERR_DID_NOT_RESOLVED', 'did:peer:2: malformed service', { cause: e });
      }
      if (!isJsonObject(parsed)) throw err('ERR_DID_NOT_RESOLVED', 'did:peer:2: service must be an object');
      const id = typeof parsed.id === 'string' ? parsed.id : services.length === 0 ? '#service' : `#service-${services.length}`;
      services.push({ ...(parsed as unknown as Service), id: id.startsWith('#') ? did + id : id });
      continue;
    }
    if (!'AEVID'.includes(purpose)) throw err('ERR_DID_NOT_RESOLVED', `did:peer:2: unknown purpose code ${purpose}`);
    try {
      fromMultibase(value, crypto);
    } catch (e) {
      throw err('ERR_DID_NOT_RESOLVED', 'did:peer:2: invalid key', { cause: e });
    }
    keyNo++;
    const id = `${did}#key-${keyNo}`;
    methods.push({ id, type: 'Multikey', controller: did, publicKeyMultibase: value });
    if (purpose === 'V') authentication.push(id);
    if (purpose === 'E') keyAgreement.push(id);
  }
  const doc: DidDocument = {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
    id: did,
    verificationMethod: methods,
    authentication,
    keyAgreement,
  };
  if (services.length) doc.service = services;
  return doc;
}
