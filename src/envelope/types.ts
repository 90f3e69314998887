/**
 * Types shared by both wire formats: what pack takes, what unpack returns, and the context
 * (crypto backend, offline DID/key resolution, private keys) every envelope operation needs.
 */
import type { CryptoBackend } from '../crypto/types.js';
import type { KeyResolver } from '../did/resolver.js';
import type { SecretsResolver } from '../did/secrets.js';
import type { Message } from '../message/message.js';
import type { FromPrior } from '../message/from-prior.js';

export type PackMode = 'plain' | 'signed' | 'anoncrypt' | 'authcrypt' | 'pairwise';
export type WireFormat = 'json' | 'compact';

export interface EnvelopeContext {
  crypto: CryptoBackend;
  resolver: KeyResolver;
  secrets: SecretsResolver;
}

/** Which layers were found, outermost first. */
export type LayerKind = 'anoncrypt' | 'authcrypt' | 'signed' | 'pairwise' | 'plain';

export interface UnpackMeta {
  format: WireFormat;
  /** Some layer was encrypted. */
  encrypted: boolean;
  /** The sender is authenticated (authcrypt, pairwise or a signature). */
  authenticated: boolean;
  /** A signature a third party can verify. */
  nonRepudiation: boolean;
  /** The outermost encryption hides the sender (anoncrypt, or authcrypt wrapped in anoncrypt). */
  anonymousSender: boolean;
  /** authcrypt `skid` (or the pairwise peer's DID URL). */
  senderKid: string | undefined;
  /** The recipient key id that decrypted the outermost encrypted layer. */
  recipientKid: string | undefined;
  /** The key id that signed. */
  signerKid: string | undefined;
  /** Key-wrapping / key-agreement algorithm of the innermost encryption layer, or the JWS alg. */
  alg: string | undefined;
  /** Content encryption algorithm of the innermost encryption layer. */
  enc: string | undefined;
  /** The signature algorithm, when signed. */
  signAlg: string | undefined;
  layers: LayerKind[];
  /** A verified DID rotation, when the message carried `from_prior`. */
  fromPrior: FromPrior | undefined;
}

export interface UnpackResult {
  message: Message;
  meta: UnpackMeta;
  /** The innermost plaintext exactly as received (JSON bytes or compact CBOR). */
  plaintext: Uint8Array;
}

export function emptyMeta(format: WireFormat): UnpackMeta {
  return {
    format,
    encrypted: false,
    authenticated: false,
    nonRepudiation: false,
    anonymousSender: false,
    senderKid: undefined,
    recipientKid: undefined,
    signerKid: undefined,
    alg: undefined,
    enc: undefined,
    signAlg: undefined,
    layers: [],
    fromPrior: undefined,
  };
}
