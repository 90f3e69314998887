/**
 * Key selection for packing (DIDComm v2.1 §DID Document Keys): which recipient keys to encrypt to
 * (all keyAgreement keys of one curve per DID, or the one named by a DID URL), which sender key
 * authenticates (a keyAgreement key of `from` on the same curve that we hold), which key signs (an
 * authentication key of `from` that we hold). Shared by the JSON and compact formats.
 */
import { err } from '../errors.js';
import { didOf, type ResolvedKey } from '../did/document.js';
import type { Secret } from '../did/secrets.js';
import { isKeyAgreementCurve, type KeyAgreementCurve } from '../crypto/types.js';
import type { EnvelopeContext } from './types.js';

function agreementKeysOf(ctx: EnvelopeContext, target: string): ResolvedKey[] {
  if (target.includes('#')) {
    const did = didOf(target);
    const doc = ctx.resolver.document(did);
    if (!doc.keyAgreement.includes(target)) throw err('ERR_KEY_NOT_FOUND', `${target} is not a keyAgreement key`);
    return [ctx.resolver.key(target)];
  }
  const keys = ctx.resolver.keyAgreementKeys(target);
  if (keys.length === 0) throw err('ERR_KEY_NOT_FOUND', `${target} has no keyAgreement keys`);
  return keys;
}

export interface RecipientSelection {
  curve: KeyAgreementCurve;
  keys: ResolvedKey[];
  /** The DID of each recipient, in `to` order. */
  dids: string[];
}

/**
 * Picks one curve that every recipient (and, when given, the sender) has, then every recipient
 * key on that curve. Curves are tried in the order the first recipient lists them.
 */
export function selectRecipients(ctx: EnvelopeContext, to: string[], senderCurves?: ReadonlySet<string>): RecipientSelection {
  if (to.length === 0) throw err('ERR_ARGUMENT', 'at least one recipient is required');
  const perRecipient = to.map((t) => agreementKeysOf(ctx, t));
  const candidates = [...new Set(perRecipient[0]!.map((k) => k.curve))].filter(isKeyAgreementCurve);
  for (const curve of candidates) {
    if (senderCurves && !senderCurves.has(curve)) continue;
    if (!perRecipient.every((keys) => keys.some((k) => k.curve === curve))) continue;
    return { curve, keys: perRecipient.flatMap((keys) => keys.filter((k) => k.curve === curve)), dids: to.map(didOf) };
  }
  throw err('ERR_UNSUPPORTED', senderCurves ? 'sender and recipients share no key-agreement curve' : 'recipients share no key-agreement curve');
}

/** The keyAgreement secrets we hold for `from` (a DID, or a DID URL naming one key). */
export function senderAgreementSecrets(ctx: EnvelopeContext, from: string): Secret[] {
  const did = didOf(from);
  const doc = ctx.resolver.document(did);
  const kids = from.includes('#') ? [from] : doc.keyAgreement;
  const out = kids.filter((k) => doc.keyAgreement.includes(k)).map((k) => ctx.secrets.get(k)).filter((s): s is Secret => s !== undefined);
  if (out.length === 0) throw err('ERR_SECRET_NOT_FOUND', `no keyAgreement secret for ${from}`);
  return out;
}

/** An authentication key of `from` (DID or DID URL) that we hold the secret for. */
export function signerSecret(ctx: EnvelopeContext, from: string): Secret {
  const did = didOf(from);
  const doc = ctx.resolver.document(did);
  const kids = from.includes('#') ? [from] : doc.authentication;
  for (const kid of kids) {
    if (!doc.authentication.includes(kid)) continue;
    const s = ctx.secrets.get(kid);
    if (s) return s;
  }
  throw err('ERR_SECRET_NOT_FOUND', `no authentication secret for ${from}`);
}

/** Checks that `kid` is a keyAgreement key of its DID and returns it. */
export function senderAgreementKey(ctx: EnvelopeContext, kid: string): ResolvedKey {
  const doc = ctx.resolver.document(didOf(kid));
  const key = doc.methods.get(kid);
  if (!key || !doc.keyAgreement.includes(kid)) throw err('ERR_KEY_NOT_FOUND', `${kid} is not a keyAgreement key of its DID`);
  return key;
}
