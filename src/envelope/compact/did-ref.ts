/**
 * Compact DID and key references (docs/compact.md §4.6). A DID travels as
 *   - the binary did:key (multicodec key bytes, ≥ 9 bytes) instead of its base58 text,
 *   - a short hint (1–8 bytes: the first bytes of SHA-256 of the DID or key id) for peers the
 *     receiver already knows,
 *   - or its text, for every other method.
 * A key reference is a DID reference (meaning "the first key of that DID for this purpose") or a
 * full key id (DID URL text), or a hint of the key id. Hints resolve against the DIDs the receiver
 * knows; ambiguity or no match is ERR_DID_NOT_RESOLVED / ERR_KEY_NOT_FOUND, never a guess —
 * except where the caller can disambiguate cryptographically (trial verification/decryption).
 */
import { err } from '../../errors.js';
import { toHex, utf8 } from '../../util/bytes.js';
import { fromBase58, toBase58 } from '../../util/base58.js';
import { didOf, isDid, isDidUrl } from '../../did/document.js';
import type { CborValue } from '../../cbor/types.js';
import type { EnvelopeContext } from '../types.js';

const DID_KEY = 'did:key:z';
export const MAX_HINT = 8;

export function hintOf(ctx: EnvelopeContext, s: string, length: number): Uint8Array {
  return ctx.crypto.sha256(utf8(s)).slice(0, length);
}

/** The multicodec bytes of a canonical did:key, or undefined for anything else. */
export function didKeyBytes(did: string): Uint8Array | undefined {
  if (!did.startsWith(DID_KEY) || did.includes('#')) return undefined;
  let b: Uint8Array;
  try {
    b = fromBase58(did.slice(DID_KEY.length));
  } catch {
    return undefined;
  }
  if (b.length <= MAX_HINT || DID_KEY + toBase58(b) !== did) return undefined;
  return b;
}

export function encodeDidRef(ctx: EnvelopeContext, did: string, hintLength = 0): CborValue {
  if (hintLength > 0) return hintOf(ctx, did, Math.min(hintLength, MAX_HINT));
  return didKeyBytes(did) ?? did;
}

/** Every DID the receiver can name: provisioned/resolved documents and its own keys' DIDs. */
export function knownDids(ctx: EnvelopeContext): string[] {
  return [...new Set([...ctx.resolver.knownDids(), ...ctx.secrets.kids().map(didOf)])];
}

interface HintIndex {
  stamp: string;
  /** `${kind}:${length}` → hint hex → matching DIDs or key ids. */
  tables: Map<string, Map<string, string[]>>;
}
const indexes = new WeakMap<object, HintIndex>();

/** Entries of `values()` whose hint of `hint.length` bytes equals `hint`, via a cached index. */
function lookupHint(ctx: EnvelopeContext, kind: string, hint: Uint8Array, values: () => string[]): string[] {
  const version = ctx.resolver.version;
  const stamp = `${version ?? ''}/${ctx.secrets.kids().length}`;
  let ix = indexes.get(ctx.resolver);
  if (!ix || ix.stamp !== stamp || version === undefined) {
    ix = { stamp, tables: new Map() };
    indexes.set(ctx.resolver, ix);
  }
  const tableKey = `${kind}:${hint.length}`;
  let table = ix.tables.get(tableKey);
  if (!table) {
    table = new Map();
    for (const v of values()) {
      const h = toHex(hintOf(ctx, v, hint.length));
      const list = table.get(h);
      if (list) list.push(v);
      else table.set(h, [v]);
    }
    ix.tables.set(tableKey, table);
  }
  return table.get(toHex(hint)) ?? [];
}

export function decodeDidRef(ctx: EnvelopeContext, v: CborValue, what: string): string {
  if (typeof v === 'string') {
    if (!isDid(v)) throw err('ERR_MALFORMED', `${what}: not a DID`);
    if (didKeyBytes(v)) throw err('ERR_MALFORMED', `${what}: a did:key must travel in binary form`);
    return v;
  }
  if (!(v instanceof Uint8Array) || v.length === 0) throw err('ERR_MALFORMED', `${what}: bad DID reference`);
  if (v.length > MAX_HINT) return DID_KEY + toBase58(v);
  const matches = lookupHint(ctx, 'did', v, () => knownDids(ctx));
  if (matches.length !== 1) {
    throw err('ERR_DID_NOT_RESOLVED', `${what}: hint ${toHex(v)} matches ${matches.length} known DIDs`);
  }
  return matches[0]!;
}

export type KeyPurpose = 'authentication' | 'keyAgreement';

function keysOf(ctx: EnvelopeContext, did: string, purpose: KeyPurpose): string[] {
  const doc = ctx.resolver.document(did);
  return purpose === 'authentication' ? doc.authentication : doc.keyAgreement;
}

/** Encodes a key id: the DID alone when it is that DID's first key for `purpose`. */
export function encodeKidRef(ctx: EnvelopeContext, kid: string, purpose: KeyPurpose, hintLength = 0): CborValue {
  if (hintLength > 0) return hintOf(ctx, kid, Math.min(hintLength, MAX_HINT));
  const did = didOf(kid);
  if (keysOf(ctx, did, purpose)[0] === kid) return encodeDidRef(ctx, did);
  return kid;
}

/**
 * Decodes a key reference into the candidate key ids (one, unless it is a hint matching several:
 * the caller then tries each — a wrong key can only fail verification or decryption).
 */
export function decodeKidRef(ctx: EnvelopeContext, v: CborValue, purpose: KeyPurpose, what: string): string[] {
  if (typeof v === 'string' && v.includes('#')) {
    if (!isDidUrl(v)) throw err('ERR_MALFORMED', `${what}: not a DID URL`);
    return [v];
  }
  if (v instanceof Uint8Array && v.length > 0 && v.length <= MAX_HINT) {
    const out = lookupHint(ctx, purpose, v, () =>
      knownDids(ctx).flatMap((did) => {
        try {
          return keysOf(ctx, did, purpose);
        } catch {
          return [];
        }
      }),
    );
    if (out.length === 0) throw err('ERR_KEY_NOT_FOUND', `${what}: hint ${toHex(v)} matches no known key`);
    return out;
  }
  const did = decodeDidRef(ctx, v, what);
  const first = keysOf(ctx, did, purpose)[0];
  if (!first) throw err('ERR_KEY_NOT_FOUND', `${what}: ${did} has no ${purpose} key`);
  return [first];
}
