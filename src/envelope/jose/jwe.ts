/**
 * JWE (RFC 7516, General JSON serialization) with the DIDComm key-wrapping algorithms:
 * ECDH-ES+A256KW (anoncrypt, RFC 7518 §4.6) and ECDH-1PU+A256KW (authcrypt,
 * draft-madden-jose-ecdh-1pu-04), on X25519, P-256, P-384 and P-521. One ephemeral key and one
 * CEK for all recipients; `apv` = b64url(SHA-256(sorted recipient kids joined by ".")); for 1PU
 * `apu` = b64url(skid) and the content tag feeds the KDF (DIDComm v2.1 §ECDH-1PU key wrapping).
 */
import { decryptionFailed, err } from '../../errors.js';
import { utf8, fromUtf8 } from '../../util/bytes.js';
import { fromBase64url, toBase64url } from '../../util/base64url.js';
import { isJsonObject, parseJsonObject, type JsonObject } from '../../util/json.js';
import { isKeyAgreementCurve, type CryptoBackend, type KeyAgreementCurve } from '../../crypto/types.js';
import { publicKeyFromJwk, publicKeyToJwk } from '../../did/keys.js';
import { ENCRYPTED_MEDIA_TYPE } from '../../message/message.js';
import { CEK_LENGTH, decryptContent, encryptContent, isContentEncryption, type ContentEncryption } from './content.js';
import { concatKdf } from './kdf.js';
import { staticEcdh } from '../../crypto/static-dh.js';

export type KeyWrapAlg = 'ECDH-ES+A256KW' | 'ECDH-1PU+A256KW';

export interface JweRecipientKey {
  kid: string;
  curve: KeyAgreementCurve;
  publicKey: Uint8Array;
}

export interface JweSenderKey {
  kid: string;
  curve: KeyAgreementCurve;
  privateKey: Uint8Array;
}

export interface EncryptJweOptions {
  recipients: JweRecipientKey[];
  /** Present for authcrypt (ECDH-1PU); absent for anoncrypt (ECDH-ES). */
  sender?: JweSenderKey;
  enc: ContentEncryption;
}

const MAX_RECIPIENTS = 256;

export function apvFor(crypto: CryptoBackend, kids: string[]): Uint8Array {
  return crypto.sha256(utf8([...kids].sort().join('.')));
}

export function encryptJwe(crypto: CryptoBackend, plaintext: Uint8Array, o: EncryptJweOptions): string {
  if (o.recipients.length === 0) throw err('ERR_ARGUMENT', 'JWE needs at least one recipient');
  const curve = o.recipients[0]!.curve;
  if (o.recipients.some((r) => r.curve !== curve)) throw err('ERR_UNSUPPORTED', 'all JWE recipients must use the same curve');
  if (o.sender && o.sender.curve !== curve) throw err('ERR_UNSUPPORTED', 'sender key curve differs from the recipients');
  if (o.sender && o.enc !== 'A256CBC-HS512') throw err('ERR_UNSUPPORTED', 'authcrypt (ECDH-1PU) requires A256CBC-HS512');
  const alg: KeyWrapAlg = o.sender ? 'ECDH-1PU+A256KW' : 'ECDH-ES+A256KW';
  const apv = apvFor(crypto, o.recipients.map((r) => r.kid));
  const epk = crypto.ecdhEphemeral(curve, o.recipients.map((r) => r.publicKey));
  const header: JsonObject = { epk: publicKeyToJwk({ curve, bytes: epk.publicKey }) as unknown as JsonObject, apv: toBase64url(apv) };
  let apu: Uint8Array = new Uint8Array(0);
  if (o.sender) {
    apu = utf8(o.sender.kid);
    header.skid = o.sender.kid;
    header.apu = toBase64url(apu);
  }
  header.typ = ENCRYPTED_MEDIA_TYPE;
  header.enc = o.enc;
  header.alg = alg;
  const protectedB64 = toBase64url(utf8(JSON.stringify(header)));
  const cek = crypto.randomBytes(CEK_LENGTH[o.enc]);
  const content = encryptContent(crypto, o.enc, cek, plaintext, utf8(protectedB64));
  const recipients = o.recipients.map((r, i) => {
    const ze = epk.secrets[i]!;
    const z = o.sender ? concat2(ze, staticEcdh(crypto, curve, o.sender.privateKey, r.publicKey)) : ze;
    const kek = concatKdf(crypto, z, alg, apu, apv, o.sender ? content.tag : undefined);
    return { header: { kid: r.kid }, encrypted_key: toBase64url(crypto.aesKeyWrap(kek, cek)) };
  });
  return JSON.stringify({
    protected: protectedB64,
    recipients,
    iv: toBase64url(content.iv),
    ciphertext: toBase64url(content.ciphertext),
    tag: toBase64url(content.tag),
  });
}

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export interface ParsedJwe {
  protectedB64: string;
  header: JsonObject;
  alg: KeyWrapAlg;
  enc: ContentEncryption;
  curve: KeyAgreementCurve;
  epk: Uint8Array;
  apu: Uint8Array;
  apv: Uint8Array;
  skid: string | undefined;
  recipients: Array<{ kid: string; encryptedKey: Uint8Array }>;
  iv: Uint8Array;
  ciphertext: Uint8Array;
  tag: Uint8Array;
}

function b64(o: JsonObject, key: string, what = key): Uint8Array {
  const v = o[key];
  if (typeof v !== 'string') throw err('ERR_MALFORMED', `JWE: "${what}" must be a base64url string`);
  return fromBase64url(v, `JWE ${what}`);
}

export function isJweShape(o: JsonObject): boolean {
  return typeof o.ciphertext === 'string' && typeof o.protected === 'string';
}

/** Parses and checks a JWE object (General or Flattened JSON). Crypto happens in `decryptJwe`. */
export function parseJwe(crypto: CryptoBackend, o: JsonObject): ParsedJwe {
  const protectedB64 = o.protected;
  if (typeof protectedB64 !== 'string') throw err('ERR_MALFORMED', 'JWE: missing "protected"');
  const header = parseJsonObject(fromUtf8(fromBase64url(protectedB64, 'JWE protected header')), 'JWE protected header', { maxDepth: 8, maxLength: 65536 });
  const alg = header.alg;
  if (alg !== 'ECDH-ES+A256KW' && alg !== 'ECDH-1PU+A256KW') throw err('ERR_UNSUPPORTED', `JWE alg ${String(alg)} is not accepted`);
  const enc = header.enc;
  if (!isContentEncryption(enc)) throw err('ERR_UNSUPPORTED', `JWE enc ${String(enc)} is not accepted`);
  if (alg === 'ECDH-1PU+A256KW' && enc !== 'A256CBC-HS512') throw err('ERR_UNSUPPORTED', 'ECDH-1PU requires A256CBC-HS512 (no downgrade)');
  if (header.typ !== undefined && header.typ !== ENCRYPTED_MEDIA_TYPE && header.typ !== 'didcomm-encrypted+json') {
    throw err('ERR_MALFORMED', `JWE typ ${String(header.typ)} is not ${ENCRYPTED_MEDIA_TYPE}`);
  }
  if (!isJsonObject(header.epk)) throw err('ERR_MALFORMED', 'JWE: missing "epk"');
  const epkKey = publicKeyFromJwk(header.epk, crypto);
  if (!isKeyAgreementCurve(epkKey.curve)) throw err('ERR_UNSUPPORTED', `JWE epk curve ${epkKey.curve} is not a key-agreement curve`);
  const apv = b64(header, 'apv');
  const apu = header.apu === undefined ? new Uint8Array(0) : b64(header, 'apu');
  let skid: string | undefined;
  if (alg === 'ECDH-1PU+A256KW') {
    if (header.skid !== undefined) {
      if (typeof header.skid !== 'string') throw err('ERR_MALFORMED', 'JWE: "skid" must be a string');
      skid = header.skid;
      if (header.apu !== undefined && fromUtf8(apu) !== skid) throw err('ERR_LAYER_MISMATCH', 'JWE: apu does not match skid');
    } else if (header.apu !== undefined) {
      skid = fromUtf8(apu); // DIDComm: the receiver resolves the sender from apu when skid is absent
    } else throw err('ERR_MALFORMED', 'authcrypt JWE names no sender (skid/apu)');
  }
  let rawRecipients: unknown[];
  if (Array.isArray(o.recipients)) rawRecipients = o.recipients;
  else if (typeof o.encrypted_key === 'string') rawRecipients = [{ header: o.header, encrypted_key: o.encrypted_key }];
  else throw err('ERR_MALFORMED', 'JWE: missing "recipients"');
  if (rawRecipients.length === 0 || rawRecipients.length > MAX_RECIPIENTS) throw err('ERR_MALFORMED', 'JWE: bad number of recipients');
  const recipients = rawRecipients.map((r, i) => {
    if (!isJsonObject(r) || !isJsonObject(r.header) || typeof r.header.kid !== 'string') throw err('ERR_MALFORMED', `JWE: recipients[${i}] has no header.kid`);
    return { kid: r.header.kid, encryptedKey: b64(r, 'encrypted_key', `recipients[${i}].encrypted_key`) };
  });
  const expectedApv = toBase64url(apvFor(crypto, recipients.map((r) => r.kid)));
  if (toBase64url(apv) !== expectedApv) throw err('ERR_MALFORMED', 'JWE: apv does not match the recipient key ids');
  return {
    protectedB64,
    header,
    alg,
    enc,
    curve: epkKey.curve,
    epk: epkKey.bytes,
    apu,
    apv,
    skid,
    recipients,
    iv: b64(o, 'iv'),
    ciphertext: b64(o, 'ciphertext'),
    tag: b64(o, 'tag'),
  };
}

export interface JweKeys {
  /** The private key for a recipient kid, if we hold it. */
  recipientPrivateKey(kid: string): { curve: string; privateKey: Uint8Array } | undefined;
  /** For authcrypt: the sender's public keyAgreement key for `skid` (resolved and checked by the caller). */
  senderPublicKey?: { curve: string; publicKey: Uint8Array };
}

/** Decrypts for the first recipient we hold a key for. Failure is opaque (ERR_DECRYPTION_FAILED). */
export function decryptJwe(crypto: CryptoBackend, j: ParsedJwe, keys: JweKeys): { plaintext: Uint8Array; recipientKid: string } {
  const mine = j.recipients.filter((r) => keys.recipientPrivateKey(r.kid) !== undefined);
  if (mine.length === 0) throw err('ERR_SECRET_NOT_FOUND', 'no private key for any JWE recipient');
  if (j.alg === 'ECDH-1PU+A256KW' && (!keys.senderPublicKey || keys.senderPublicKey.curve !== j.curve)) {
    throw err('ERR_KEY_NOT_FOUND', 'authcrypt sender key not found on the epk curve');
  }
  let lastError: unknown;
  for (const r of mine) {
    const secret = keys.recipientPrivateKey(r.kid)!;
    if (secret.curve !== j.curve) {
      lastError = err('ERR_UNSUPPORTED', 'recipient key curve differs from epk');
      continue;
    }
    try {
      const ze = crypto.ecdh(j.curve, secret.privateKey, j.epk);
      const z = j.alg === 'ECDH-1PU+A256KW' ? concat2(ze, staticEcdh(crypto, j.curve, secret.privateKey, keys.senderPublicKey!.publicKey)) : ze;
      const kek = concatKdf(crypto, z, j.alg, j.apu, j.apv, j.alg === 'ECDH-1PU+A256KW' ? j.tag : undefined);
      const cek = crypto.aesKeyUnwrap(kek, r.encryptedKey);
      if (cek.length !== CEK_LENGTH[j.enc]) throw decryptionFailed();
      const plaintext = decryptContent(crypto, j.enc, cek, { iv: j.iv, ciphertext: j.ciphertext, tag: j.tag }, utf8(j.protectedB64));
      return { plaintext, recipientKid: r.kid };
    } catch (e) {
      lastError = e;
    }
  }
  if (lastError instanceof Error && 'code' in lastError && (lastError as { code: string }).code === 'ERR_INVALID_KEY') throw lastError;
  throw decryptionFailed(lastError);
}
