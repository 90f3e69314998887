/**
 * Packing standard DIDComm v2.1 JSON envelopes (§Message Types, §IANA Media Types): plaintext,
 * signed (JWS), anoncrypt, authcrypt, sign-then-encrypt, and authcrypt wrapped in anoncrypt to
 * protect the sender. The sender-side layer checks mirror what receivers enforce.
 */
import { err } from '../../errors.js';
import { utf8 } from '../../util/bytes.js';
import { didOf } from '../../did/document.js';
import { PLAIN_MEDIA_TYPE, validateMessage, type Message } from '../../message/message.js';
import type { EnvelopeContext } from '../types.js';
import { selectRecipients, senderAgreementSecrets, signerSecret } from '../keys.js';
import type { ContentEncryption } from './content.js';
import { encryptJwe } from './jwe.js';
import { signJws } from './jws.js';
import type { KeyAgreementCurve } from '../../crypto/types.js';

export interface JsonPackOptions {
  mode: 'plain' | 'signed' | 'anoncrypt' | 'authcrypt';
  /** Recipient DIDs (all their keyAgreement keys of one curve) or DID URLs (one key each). */
  to?: string[];
  /** Sender DID or DID URL: authcrypt sender key and/or signer. Defaults to `message.from`. */
  from?: string;
  /** Sign before encrypting (anoncrypt/authcrypt). A DID URL picks the signing key. */
  sign?: boolean | string;
  enc?: ContentEncryption;
  /** authcrypt only: wrap the authcrypt JWE in anoncrypt so the sender is hidden on the wire. */
  protectSender?: boolean;
  /** JWS flattened serialization instead of General. */
  flattened?: boolean;
}

export interface JsonPackResult {
  /** The envelope (JSON text). */
  envelope: string;
  mediaType: string;
  /** Key ids used, for logging/metadata. */
  recipientKids: string[];
  senderKid: string | undefined;
  signerKid: string | undefined;
}

function checkTo(message: Message, dids: string[]): void {
  if (!message.to) return;
  for (const d of dids) {
    if (!message.to.includes(d)) throw err('ERR_LAYER_MISMATCH', `recipient ${d} is not in the message "to"`);
  }
}

export function packJson(ctx: EnvelopeContext, message: Message, o: JsonPackOptions): JsonPackResult {
  validateMessage(message);
  const from = o.from ?? message.from;
  if (o.mode === 'plain') {
    const m = message.typ === undefined ? { typ: PLAIN_MEDIA_TYPE, ...message } : message;
    return { envelope: JSON.stringify(m), mediaType: PLAIN_MEDIA_TYPE, recipientKids: [], senderKid: undefined, signerKid: undefined };
  }
  let payload = utf8(JSON.stringify(message));
  let signerKid: string | undefined;
  const wantSign = o.mode === 'signed' || o.sign;
  if (wantSign) {
    const signFrom = typeof o.sign === 'string' ? o.sign : from;
    if (!signFrom) throw err('ERR_ARGUMENT', 'signing needs a sender ("from")');
    if (!message.from || message.from !== didOf(signFrom)) throw err('ERR_LAYER_MISMATCH', 'the message "from" must be the signer DID');
    if (o.mode !== 'signed' && !message.to) throw err('ERR_INVALID_MESSAGE', 'a signed-then-encrypted message must have "to"');
    const secret = signerSecret(ctx, signFrom);
    signerKid = secret.kid;
    const jws = signJws(ctx.crypto, payload, secret, o.flattened ?? false);
    if (o.mode === 'signed') return { envelope: jws, mediaType: 'application/didcomm-signed+json', recipientKids: [], senderKid: undefined, signerKid };
    payload = utf8(jws);
  }
  const to = o.to ?? message.to;
  if (!to || to.length === 0) throw err('ERR_ARGUMENT', 'encryption needs recipients ("to")');
  let senderKid: string | undefined;
  let envelope: string;
  let recipientKids: string[];
  if (o.mode === 'authcrypt') {
    if (!from) throw err('ERR_ARGUMENT', 'authcrypt needs a sender ("from")');
    if (!message.from) throw err('ERR_INVALID_MESSAGE', 'authcrypt requires "from" in the message');
    if (message.from !== didOf(from)) throw err('ERR_LAYER_MISMATCH', 'the message "from" must be the sender DID');
    const enc = o.enc ?? 'A256CBC-HS512';
    if (enc !== 'A256CBC-HS512') throw err('ERR_UNSUPPORTED', 'authcrypt (ECDH-1PU) requires A256CBC-HS512');
    const secrets = senderAgreementSecrets(ctx, from);
    const sel = selectRecipients(ctx, to, new Set(secrets.map((s) => s.curve)));
    checkTo(message, sel.dids);
    const sender = secrets.find((s) => s.curve === sel.curve)!;
    senderKid = sender.kid;
    recipientKids = sel.keys.map((k) => k.kid);
    envelope = encryptJwe(ctx.crypto, payload, {
      recipients: sel.keys.map((k) => ({ kid: k.kid, curve: sel.curve, publicKey: k.bytes })),
      sender: { kid: sender.kid, curve: sel.curve as KeyAgreementCurve, privateKey: sender.privateKey },
      enc,
    });
    if (o.protectSender) {
      envelope = encryptJwe(ctx.crypto, utf8(envelope), {
        recipients: sel.keys.map((k) => ({ kid: k.kid, curve: sel.curve, publicKey: k.bytes })),
        enc: 'A256CBC-HS512',
      });
    }
  } else {
    const sel = selectRecipients(ctx, to);
    checkTo(message, sel.dids);
    recipientKids = sel.keys.map((k) => k.kid);
    envelope = encryptJwe(ctx.crypto, payload, {
      recipients: sel.keys.map((k) => ({ kid: k.kid, curve: sel.curve, publicKey: k.bytes })),
      enc: o.enc ?? 'A256CBC-HS512',
    });
  }
  return { envelope, mediaType: 'application/didcomm-encrypted+json', recipientKids, senderKid, signerKid };
}
