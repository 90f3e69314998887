/**
 * Unpacking standard DIDComm v2.1 JSON envelopes, layer by layer, with the spec's consistency
 * checks (§Message Layer Addressing Consistency): plaintext `from` = the authcrypt sender's DID =
 * the signer's DID; every recipient DID is in `to`; only the allowed nestings (§Message Types):
 * sign(p), anon(p), auth(p), anon(sign(p)), auth(sign(p)), anon(auth(p)), anon(auth(sign(p)))).
 */
import { err } from '../../errors.js';
import { fromUtf8 } from '../../util/bytes.js';
import { parseJsonObject, type JsonObject } from '../../util/json.js';
import { didOf } from '../../did/document.js';
import { validateMessage } from '../../message/message.js';
import { verifyFromPrior } from '../../message/from-prior.js';
import { emptyMeta, type EnvelopeContext, type LayerKind, type UnpackResult } from '../types.js';
import { senderAgreementKey } from '../keys.js';
import { decryptJwe, isJweShape, parseJwe } from './jwe.js';
import { isJwsShape, parseJws, verifyJwsSignature } from './jws.js';

const ALLOWED = new Set(['', 'signed', 'anoncrypt', 'authcrypt', 'anoncrypt,signed', 'authcrypt,signed', 'anoncrypt,authcrypt', 'anoncrypt,authcrypt,signed']);

export interface JsonUnpackOptions {
  /** Largest envelope accepted, in characters. Default 1 MiB. */
  maxLength?: number;
}

export function unpackJson(ctx: EnvelopeContext, text: string, o: JsonUnpackOptions = {}): UnpackResult {
  const maxLength = o.maxLength ?? 1024 * 1024;
  const meta = emptyMeta('json');
  const recipientDids: string[] = [];
  let authSenderDid: string | undefined;
  let current = text;
  let currentBytes: Uint8Array | undefined; // `current` as bytes, when a layer produced it as bytes
  let obj: JsonObject;
  for (let depth = 0; ; depth++) {
    if (depth > 3) throw err('ERR_MALFORMED', 'too many envelope layers');
    obj = parseJsonObject(current, 'DIDComm message', { maxLength, maxDepth: 64 });
    if (isJweShape(obj)) {
      const jwe = parseJwe(ctx.crypto, obj);
      let senderPublicKey;
      if (jwe.alg === 'ECDH-1PU+A256KW') {
        const key = senderAgreementKey(ctx, jwe.skid!);
        senderPublicKey = { curve: key.curve, publicKey: key.bytes };
      }
      const { plaintext, recipientKid } = decryptJwe(ctx.crypto, jwe, {
        recipientPrivateKey: (kid) => ctx.secrets.get(kid),
        ...(senderPublicKey ? { senderPublicKey } : {}),
      });
      const kind: LayerKind = jwe.alg === 'ECDH-1PU+A256KW' ? 'authcrypt' : 'anoncrypt';
      meta.layers.push(kind);
      meta.encrypted = true;
      if (meta.recipientKid === undefined) meta.recipientKid = recipientKid;
      recipientDids.push(didOf(recipientKid));
      meta.alg = jwe.alg;
      meta.enc = jwe.enc;
      if (kind === 'authcrypt') {
        meta.senderKid = jwe.skid;
        meta.authenticated = true;
        authSenderDid = didOf(jwe.skid!);
      }
      current = fromUtf8(plaintext);
      currentBytes = plaintext;
      continue;
    }
    if (isJwsShape(obj)) {
      const jws = parseJws(obj);
      // DIDComm signed messages carry one signature; verify the first one we can resolve.
      const sig = jws.signatures[0]!;
      const key = ctx.resolver.authenticationKey(sig.kid);
      if (!verifyJwsSignature(ctx.crypto, jws, sig, key)) throw err('ERR_SIGNATURE_INVALID', `JWS signature by ${sig.kid} does not verify`);
      meta.layers.push('signed');
      meta.signerKid = sig.kid;
      meta.signAlg = sig.alg;
      meta.authenticated = true;
      meta.nonRepudiation = true;
      if (meta.alg === undefined) meta.alg = sig.alg;
      current = fromUtf8(jws.payload);
      currentBytes = jws.payload;
      continue;
    }
    break;
  }
  if (!ALLOWED.has(meta.layers.join(','))) throw err('ERR_MALFORMED', `envelope nesting ${meta.layers.join('(')} is not allowed`);
  const message = validateMessage(obj);
  if (meta.layers.length === 0) meta.layers.push('plain');
  meta.anonymousSender = meta.layers[0] === 'anoncrypt';
  if (authSenderDid !== undefined && message.from !== authSenderDid) {
    throw err('ERR_LAYER_MISMATCH', 'plaintext "from" is not the authcrypt sender (skid)');
  }
  if (meta.signerKid !== undefined) {
    const signerDid = didOf(meta.signerKid);
    if (message.from !== signerDid) throw err('ERR_LAYER_MISMATCH', 'plaintext "from" is not the signer');
    if (authSenderDid !== undefined && authSenderDid !== signerDid) throw err('ERR_LAYER_MISMATCH', 'signer differs from the authcrypt sender');
  }
  if (message.to) {
    for (const d of recipientDids) if (!message.to.includes(d)) throw err('ERR_LAYER_MISMATCH', `recipient ${d} is not in the message "to"`);
  }
  if (message.from_prior !== undefined) meta.fromPrior = verifyFromPrior(ctx.crypto, ctx.resolver, message.from_prior, message.from);
  return { message, meta, plaintext: currentBytes ?? new TextEncoder().encode(current) };
}
