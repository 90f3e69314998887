/**
 * Compact anoncrypt and authcrypt (docs/compact.md §6): HPKE (RFC 9180) base / auth mode,
 * DHKEM(X25519, HKDF-SHA256), ChaCha20-Poly1305, laid out as COSE (draft-ietf-cose-hpke):
 *   one recipient:  COSE_Encrypt0-like [h'', {4: kid?, -3: sender kid?, -4: ek}, ciphertext]
 *   several:        COSE_Encrypt-like  [h'', {-3: sender kid?}, ciphertext, [[h'', {4: kid, -4: ek}, wrapped CEK]...]]
 * With several recipients the content is sealed once under a fresh CEK (ChaCha20-Poly1305, zero
 * nonce: the key is used once) and the CEK is HPKE-sealed per recipient with the content tag as
 * AAD, so one recipient cannot re-use the CEK to forge content "from" the sender to the others.
 */
import { err, decryptionFailed, isDidcommError } from '../../errors.js';
import { concatBytes, utf8 } from '../../util/bytes.js';
import { encodeCbor } from '../../cbor/encode.js';
import type { CborMap, CborValue } from '../../cbor/types.js';
import { hpkeOpen, hpkeSeal } from '../../crypto/hpke.js';
import type { ResolvedKey } from '../../did/document.js';
import type { Secret } from '../../did/secrets.js';
import type { EnvelopeContext } from '../types.js';
import { senderAgreementKey } from '../keys.js';
import { decodeKidRef, encodeKidRef } from './did-ref.js';
import { MARKER, withMarker } from './frame.js';

const KID = 4;
const SENDER_KID = -3;
const EK = -4;
const EMPTY = new Uint8Array(0);
const ZERO_NONCE = new Uint8Array(12);
/** Trial decryptions allowed per frame (hint collisions × own keys). */
const MAX_TRIALS = 32;

const info = (marker: number, suffix = ''): Uint8Array => concatBytes(utf8('didcomm-compact/1'), Uint8Array.of(marker), utf8(suffix));
/**
 * COSE Enc_structure with external_aad = marker ‖ sender key id. Binding the sender's key *id*
 * matters: HPKE auth mode authenticates the X25519 key only, and two DIDs can share one (an
 * Ed25519 did:key and its sign-flipped twin map to the same X25519 key).
 */
const encAad = (structure: 'Encrypt0' | 'Encrypt', marker: number, senderKid?: string): Uint8Array =>
  encodeCbor([structure, EMPTY, concatBytes(Uint8Array.of(marker), utf8(senderKid ?? ''))]);

export interface HpkeSealOptions {
  recipients: ResolvedKey[];
  sender?: Secret;
  /** Put a recipient key reference on single-recipient frames (default: omitted). */
  recipientKid?: boolean;
  /** Hint length for key references (0 = full reference). */
  hintLength?: number;
}

export function sealHpkeFrame(ctx: EnvelopeContext, inner: Uint8Array, o: HpkeSealOptions): Uint8Array {
  if (o.recipients.length === 0) throw err('ERR_ARGUMENT', 'at least one recipient is required');
  if (o.recipients.some((r) => r.curve !== 'X25519') || (o.sender && o.sender.curve !== 'X25519')) {
    throw err('ERR_UNSUPPORTED', 'compact anoncrypt/authcrypt uses X25519 keys (DHKEM(X25519))');
  }
  const hint = o.hintLength ?? 0;
  const auth = o.sender !== undefined;
  if (o.recipients.length === 1) {
    const marker = auth ? MARKER.AUTHCRYPT : MARKER.ANONCRYPT;
    const r = o.recipients[0]!;
    const { enc, ciphertext } = hpkeSeal(ctx.crypto, r.bytes, inner, { info: info(marker), aad: encAad('Encrypt0', marker, o.sender?.kid), ...(auth ? { senderPrivateKey: o.sender!.privateKey, senderPublicKey: o.sender!.publicKey } : {}) });
    const h: CborMap = new Map<CborValue, CborValue>([[EK, enc]]);
    if (o.recipientKid) h.set(KID, encodeKidRef(ctx, r.kid, 'keyAgreement', hint));
    if (auth) h.set(SENDER_KID, encodeKidRef(ctx, o.sender!.kid, 'keyAgreement', hint));
    return withMarker(marker, [EMPTY, h, ciphertext]);
  }
  const marker = auth ? MARKER.AUTHCRYPT_MULTI : MARKER.ANONCRYPT_MULTI;
  const cek = ctx.crypto.randomBytes(32);
  const ciphertext = ctx.crypto.chachaSeal(cek, ZERO_NONCE, inner, encAad('Encrypt', marker, o.sender?.kid));
  const tag = ciphertext.subarray(ciphertext.length - 16);
  const recipients = o.recipients.map((r) => {
    const sealed = hpkeSeal(ctx.crypto, r.bytes, cek, { info: info(marker, 'cek'), aad: tag, ...(auth ? { senderPrivateKey: o.sender!.privateKey, senderPublicKey: o.sender!.publicKey } : {}) });
    return [EMPTY, new Map<CborValue, CborValue>([[KID, encodeKidRef(ctx, r.kid, 'keyAgreement', hint)], [EK, sealed.enc]]), sealed.ciphertext];
  });
  const h: CborMap = new Map();
  if (auth) h.set(SENDER_KID, encodeKidRef(ctx, o.sender!.kid, 'keyAgreement', hint));
  return withMarker(marker, [EMPTY, h, ciphertext, recipients]);
}

export interface OpenedHpke {
  inner: Uint8Array;
  recipientKid: string;
  senderKid: string | undefined;
}

function ownX25519Secrets(ctx: EnvelopeContext): Secret[] {
  return ctx.secrets.kids().map((k) => ctx.secrets.get(k)!).filter((s) => s.curve === 'X25519');
}

function header(v: CborValue, allowed: number[], what: string): CborMap {
  if (!(v instanceof Map)) throw err('ERR_MALFORMED', `${what}: header must be a map`);
  for (const k of v.keys()) if (typeof k !== 'number' || !allowed.includes(k)) throw err('ERR_MALFORMED', `${what}: unexpected header ${String(k)}`);
  return v;
}

function ekOf(h: CborMap, what: string): Uint8Array {
  const ek = h.get(EK);
  if (!(ek instanceof Uint8Array) || ek.length !== 32) throw err('ERR_MALFORMED', `${what}: ek must be 32 bytes`);
  return ek;
}

function senderCandidates(ctx: EnvelopeContext, h: CborMap, auth: boolean): Array<{ kid: string; key: ResolvedKey } | undefined> {
  if (!auth) {
    if (h.has(SENDER_KID)) throw err('ERR_MALFORMED', 'anoncrypt frame names a sender');
    return [undefined];
  }
  const ref = h.get(SENDER_KID);
  if (ref === undefined) throw err('ERR_MALFORMED', 'authcrypt frame names no sender');
  return decodeKidRef(ctx, ref, 'keyAgreement', 'sender kid').map((kid) => ({ kid, key: senderAgreementKey(ctx, kid) })).filter((s) => s.key.curve === 'X25519');
}

function recipientCandidates(ctx: EnvelopeContext, ref: CborValue | undefined): Secret[] {
  const own = ownX25519Secrets(ctx);
  if (ref === undefined) return own;
  const kids = new Set(decodeKidRef(ctx, ref, 'keyAgreement', 'recipient kid'));
  return own.filter((s) => kids.has(s.kid));
}

/** Tries (recipient, sender) pairs until one opens; bounded, and opaque on failure. */
function trial<T>(pairs: Array<[Secret, { kid: string; key: ResolvedKey } | undefined]>, open: (r: Secret, s: { kid: string; key: ResolvedKey } | undefined) => T): T {
  if (pairs.length === 0) throw err('ERR_SECRET_NOT_FOUND', 'no private key for this frame');
  let last: unknown;
  for (const [r, s] of pairs.slice(0, MAX_TRIALS)) {
    try {
      return open(r, s);
    } catch (e) {
      if (isDidcommError(e) && e.code !== 'ERR_DECRYPTION_FAILED') throw e;
      last = e;
    }
  }
  throw decryptionFailed(last);
}

export function openHpkeFrame(ctx: EnvelopeContext, marker: number, body: CborValue): OpenedHpke {
  const auth = marker === MARKER.AUTHCRYPT || marker === MARKER.AUTHCRYPT_MULTI;
  const multi = marker === MARKER.ANONCRYPT_MULTI || marker === MARKER.AUTHCRYPT_MULTI;
  const what = auth ? 'authcrypt frame' : 'anoncrypt frame';
  if (!Array.isArray(body) || body.length !== (multi ? 4 : 3)) throw err('ERR_MALFORMED', `${what}: wrong structure`);
  const [prot, hdr, ciphertext] = body;
  if (!(prot instanceof Uint8Array) || prot.length !== 0) throw err('ERR_MALFORMED', `${what}: protected header must be empty`);
  if (!(ciphertext instanceof Uint8Array) || ciphertext.length < 16) throw err('ERR_MALFORMED', `${what}: bad ciphertext`);
  const senders = senderCandidates(ctx, header(hdr, multi ? [SENDER_KID] : [KID, SENDER_KID, EK], what), auth);
  const h = hdr as CborMap;
  const pk = (s: { key: ResolvedKey } | undefined) => (s ? { senderPublicKey: s.key.bytes } : {});
  if (!multi) {
    const ek = ekOf(h, what);
    const pairs = recipientCandidates(ctx, h.get(KID)).flatMap((r) => senders.map((s) => [r, s] as [Secret, typeof s]));
    return trial(pairs, (r, s) => ({
      inner: hpkeOpen(ctx.crypto, r.privateKey, ek, ciphertext, { info: info(marker), aad: encAad('Encrypt0', marker, s?.kid), recipientPublicKey: r.publicKey, ...pk(s) }),
      recipientKid: r.kid,
      senderKid: s?.kid,
    }));
  }
  const list = body[3];
  if (!Array.isArray(list) || list.length === 0 || list.length > 256) throw err('ERR_MALFORMED', `${what}: bad recipients`);
  const tag = ciphertext.subarray(ciphertext.length - 16);
  const pairs: Array<[Secret, { kid: string; key: ResolvedKey } | undefined, Uint8Array, Uint8Array]> = [];
  const own = ownX25519Secrets(ctx);
  for (const entry of list) {
    if (!Array.isArray(entry) || entry.length !== 3 || !(entry[0] instanceof Uint8Array) || entry[0].length !== 0 || !(entry[2] instanceof Uint8Array)) {
      throw err('ERR_MALFORMED', `${what}: bad recipient entry`);
    }
    const rh = header(entry[1], [KID, EK], what);
    const ref = rh.get(KID);
    if (ref === undefined) throw err('ERR_MALFORMED', `${what}: recipient entry without kid`);
    let kids: string[];
    try {
      kids = decodeKidRef(ctx, ref, 'keyAgreement', 'recipient kid');
    } catch {
      continue; // not one of ours (or unknown to us)
    }
    for (const r of own.filter((s) => kids.includes(s.kid))) for (const s of senders) pairs.push([r, s, ekOf(rh, what), entry[2]]);
  }
  const byPair = new Map(pairs.map((p) => [p[0].kid + ' ' + (p[1]?.kid ?? ''), p]));
  return trial(
    pairs.map((p) => [p[0], p[1]]),
    (r, s) => {
      const p = byPair.get(r.kid + ' ' + (s?.kid ?? ''))!;
      const cek = hpkeOpen(ctx.crypto, r.privateKey, p[2], p[3], { info: info(marker, 'cek'), aad: tag, recipientPublicKey: r.publicKey, ...pk(s) });
      if (cek.length !== 32) throw decryptionFailed();
      return { inner: ctx.crypto.chachaOpen(cek, ZERO_NONCE, ciphertext, encAad('Encrypt', marker, s?.kid)), recipientKid: r.kid, senderKid: s?.kid };
    },
  );
}
