/**
 * Packing DIDComm Compact frames (docs/compact.md): builds the innermost plaintext with `from`/`to`
 * left implicit where the enclosing layer already says them, then signs (COSE_Sign1), encrypts
 * (HPKE base/auth, one or several recipients), protects the sender (anoncrypt over authcrypt) or
 * seals under a pairwise context. Same options and layer rules as the JSON format.
 */
import { err } from '../../errors.js';
import { didOf } from '../../did/document.js';
import type { Message } from '../../message/message.js';
import type { EnvelopeContext, PackMode } from '../types.js';
import { selectRecipients, senderAgreementSecrets, signerSecret } from '../keys.js';
import { encodePlaintextMap } from './plaintext.js';
import { plainMarker, withMarker } from './frame.js';
import { signCompact } from './signed.js';
import { sealHpkeFrame } from './hpke-envelope.js';
import { sealPairwise } from './pairwise.js';
import type { PairwiseSessions } from './pairwise-sessions.js';

export interface CompactHints {
  /** Hint length in bytes (1–8) for DIDs and keys the receiver already knows. */
  length: number;
  /** Whether the receiver knows this DID (provisioned peer, or seen before). Default: all. */
  known?: (did: string) => boolean;
}

export interface CompactPackOptions {
  mode: PackMode;
  to?: string[];
  from?: string;
  sign?: boolean | string;
  protectSender?: boolean;
  /** Name known DIDs and keys by short hints instead of in full. */
  hints?: CompactHints;
  /** Put the recipient key reference on single-recipient frames (default: omitted). */
  recipientKid?: boolean;
  /** Signed mode: the receiver the frame is addressed to (lets `to` be implicit and binds it). */
  receiverDid?: string;
  /** Pairwise mode: the sessions holding contexts and sequence numbers. */
  pairwise?: PairwiseSessions;
}

const X25519_ONLY = new Set(['X25519']);

export async function packCompact(ctx: EnvelopeContext, message: Message, o: CompactPackOptions): Promise<Uint8Array> {
  const from = o.from ?? message.from;
  const known = o.hints ? (o.hints.known ?? (() => true)) : () => false;
  const hintLength = o.hints?.length ?? 0;
  const hintFor = (did: string): number => (known(did) ? hintLength : 0);
  const kidHint = (kid: string): number => hintFor(didOf(kid));

  const plaintext = (implicitFrom: string | undefined, implicitTo: string | undefined): Uint8Array => {
    const p = encodePlaintextMap(ctx, message, { ...(implicitFrom ? { implicitFrom } : {}), ...(implicitTo ? { implicitTo } : {}), hintFor });
    return withMarker(plainMarker(p.fromImplicit, p.toImplicit), p.map);
  };
  /** The inner frame: the plaintext, signed first when asked. `to` may be implicit if it is `receiver`. */
  const inner = (authenticatedFrom: string | undefined, receiver: string | undefined): Uint8Array => {
    const wantSign = o.mode === 'signed' || o.sign;
    if (!wantSign) return plaintext(authenticatedFrom, receiver);
    const signFrom = typeof o.sign === 'string' ? o.sign : from;
    if (!signFrom) throw err('ERR_ARGUMENT', 'signing needs a sender ("from")');
    if (!message.from || message.from !== didOf(signFrom)) throw err('ERR_LAYER_MISMATCH', 'the message "from" must be the signer DID');
    const signer = signerSecret(ctx, signFrom);
    const payload = plaintext(didOf(signer.kid), receiver);
    return signCompact(ctx, payload, signer, receiver, kidHint(signer.kid));
  };

  if (o.mode === 'plain') return plaintext(undefined, undefined);
  if (o.mode === 'signed') {
    const receiver = o.receiverDid ?? (o.to?.length === 1 ? didOf(o.to[0]!) : undefined);
    return inner(undefined, receiver);
  }
  if (o.mode === 'pairwise') {
    if (!o.pairwise) throw err('ERR_ARGUMENT', 'pairwise mode needs pairwise sessions');
    const to = o.to ?? message.to;
    if (!from || !to || to.length !== 1) throw err('ERR_ARGUMENT', 'pairwise mode takes one sender and exactly one recipient');
    if (message.from !== undefined && message.from !== didOf(from)) throw err('ERR_LAYER_MISMATCH', 'the message "from" must be the sender DID');
    const c = o.pairwise.contextFor(didOf(from), didOf(to[0]!));
    const frame = inner(c.selfDid, c.peerDid);
    return sealPairwise(ctx.crypto, c, await o.pairwise.nextSeq(c), frame);
  }
  const to = o.to ?? message.to;
  if (!to || to.length === 0) throw err('ERR_ARGUMENT', 'encryption needs recipients ("to")');
  if (o.mode === 'authcrypt') {
    if (!from) throw err('ERR_ARGUMENT', 'authcrypt needs a sender ("from")');
    if (!message.from) throw err('ERR_INVALID_MESSAGE', 'authcrypt requires "from" in the message');
    if (message.from !== didOf(from)) throw err('ERR_LAYER_MISMATCH', 'the message "from" must be the sender DID');
  }
  const sel = selectRecipients(ctx, to, X25519_ONLY);
  if (message.to) for (const d of sel.dids) if (!message.to.includes(d)) throw err('ERR_LAYER_MISMATCH', `recipient ${d} is not in the message "to"`);
  const receiver = sel.dids.length === 1 ? sel.dids[0] : undefined;
  const seal = { recipients: sel.keys, ...(o.recipientKid ? { recipientKid: true } : {}), hintLength };
  if (o.mode === 'anoncrypt') return sealHpkeFrame(ctx, inner(undefined, receiver), seal);
  const sender = senderAgreementSecrets(ctx, from!).find((s) => s.curve === 'X25519');
  if (!sender) throw err('ERR_UNSUPPORTED', 'compact authcrypt needs an X25519 sender key');
  const auth = sealHpkeFrame(ctx, inner(message.from, receiver), { ...seal, sender, hintLength: kidHint(sender.kid) });
  return o.protectSender ? sealHpkeFrame(ctx, auth, seal) : auth;
}
