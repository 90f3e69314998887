/**
 * The project's closed set of error codes and the one error class that carries them.
 *
 * Every failure that crosses a public boundary is a `DidcommError` whose `code` is one of
 * `ERROR_CODES`. Each code maps to a DIDComm problem-report code (DIDComm Messaging v2.1
 * §Problem Reports, "sorter.scope.descriptors"), so the agent and the mediator can answer a
 * rejected message with the right `report-problem/2.0` without guessing. The CLI prints
 * `error: CODE: message`. Decryption failures always carry the same opaque message (no oracle).
 */

export const ERROR_CODES = [
  /** A caller passed a bad argument (programming error, not peer input). */
  'ERR_ARGUMENT',
  /** Input could not be parsed: bad JSON/CBOR/base64, wrong structure, truncated, trailing bytes. */
  'ERR_MALFORMED',
  /** A plaintext message violates the DIDComm message rules (missing id/type, bad header types...). */
  'ERR_INVALID_MESSAGE',
  /** An algorithm, curve, key type, version or feature this implementation does not accept. */
  'ERR_UNSUPPORTED',
  /** Authenticated decryption failed (tag mismatch, wrong key, tampered ciphertext). Opaque. */
  'ERR_DECRYPTION_FAILED',
  /** A signature or MAC did not verify. */
  'ERR_SIGNATURE_INVALID',
  /** A public key is not a valid point on its curve, or has the wrong length/encoding. */
  'ERR_INVALID_KEY',
  /** A DID could not be resolved offline (unknown method, not provisioned, bad encoding). */
  'ERR_DID_NOT_RESOLVED',
  /** A DID URL (key id) is not present in its DID document, or a short key hint matched nothing. */
  'ERR_KEY_NOT_FOUND',
  /** No private key is available for any of the recipients / the requested sender key. */
  'ERR_SECRET_NOT_FOUND',
  /** Envelope layers disagree: plaintext `from` vs `skid`/signer, recipient kid not in `to`, etc. */
  'ERR_LAYER_MISMATCH',
  /** The sender or signer is not authorized for this key, command or mailbox. */
  'ERR_NOT_AUTHORIZED',
  /** The message has expired (`expires_time` in the past) or its time is outside the skew window. */
  'ERR_EXPIRED',
  /** The message (id or sequence number) was already received. */
  'ERR_REPLAY',
  /** Input is larger than the configured limit (bytes, depth, items). */
  'ERR_TOO_LARGE',
  /** A bounded store or queue is full. */
  'ERR_STORE_FULL',
  /** The persistent store failed (I/O, constraint, corruption). */
  'ERR_STORE',
  /** A link-level failure: not connected, modem error, closed, peer unreachable. */
  'ERR_TRANSPORT',
  /** The radio duty-cycle or airtime budget forbids sending now (see `retryAfterMs`). */
  'ERR_DUTY_CYCLE',
  /** An operation did not finish in time. */
  'ERR_TIMEOUT',
  /** A message type or protocol that no handler accepts. */
  'ERR_UNKNOWN_TYPE',
  /** A rate limit was exceeded. */
  'ERR_RATE_LIMITED',
  /** The operation was refused by policy (unknown forward recipient, mediation denied...). */
  'ERR_REFUSED',
  /** A usage error of the command-line interface (exit code 2). */
  'ERR_USAGE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * DIDComm problem-report code for each error code (`e.p.*`: error, protocol scope). Receivers use it
 * to answer with `https://didcomm.org/report-problem/2.0/problem-report`.
 */
export const PROBLEM_CODES: Readonly<Record<ErrorCode, string>> = {
  ERR_ARGUMENT: 'e.p.req',
  ERR_MALFORMED: 'e.p.msg',
  ERR_INVALID_MESSAGE: 'e.p.msg',
  ERR_UNSUPPORTED: 'e.p.msg.unsupported',
  ERR_DECRYPTION_FAILED: 'e.p.trust.crypto',
  ERR_SIGNATURE_INVALID: 'e.p.trust.crypto',
  ERR_INVALID_KEY: 'e.p.trust.crypto',
  ERR_DID_NOT_RESOLVED: 'e.p.did',
  ERR_KEY_NOT_FOUND: 'e.p.did',
  ERR_SECRET_NOT_FOUND: 'e.p.trust.crypto',
  ERR_LAYER_MISMATCH: 'e.p.trust',
  ERR_NOT_AUTHORIZED: 'e.p.trust',
  ERR_EXPIRED: 'e.p.req.time',
  ERR_REPLAY: 'e.p.msg.replay',
  ERR_TOO_LARGE: 'e.p.me.res.storage.message_too_big',
  ERR_STORE_FULL: 'e.p.me.res.storage',
  ERR_STORE: 'e.p.me.res.storage',
  ERR_TRANSPORT: 'e.p.xfer',
  ERR_DUTY_CYCLE: 'e.p.xfer',
  ERR_TIMEOUT: 'e.p.req.time',
  ERR_UNKNOWN_TYPE: 'e.p.msg.unsupported',
  ERR_RATE_LIMITED: 'e.p.me.res',
  ERR_REFUSED: 'e.p.req',
  ERR_USAGE: 'e.p.req',
};

const DECRYPTION_FAILED_MESSAGE = 'decryption failed';

export interface DidcommErrorOptions {
  cause?: unknown;
  /** For ERR_DUTY_CYCLE / ERR_RATE_LIMITED: milliseconds until the operation may succeed. */
  retryAfterMs?: number;
}

/** The only error class thrown across public boundaries. Switch on `code`, never on `message`. */
export class DidcommError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: DidcommErrorOptions = {}) {
    super(
      code === 'ERR_DECRYPTION_FAILED' ? DECRYPTION_FAILED_MESSAGE : message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'DidcommError';
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** The DIDComm problem-report code for this error. */
  get problemCode(): string {
    return PROBLEM_CODES[this.code];
  }
}

export function isDidcommError(e: unknown): e is DidcommError {
  return e instanceof DidcommError;
}

/** Shorthand for `new DidcommError(...)`, so call sites read `throw err('ERR_MALFORMED', ...)`. */
export function err(code: ErrorCode, message: string, options?: DidcommErrorOptions): DidcommError {
  return new DidcommError(code, message, options);
}

/** The opaque decryption failure: the same message whatever went wrong. */
export function decryptionFailed(cause?: unknown): DidcommError {
  return new DidcommError('ERR_DECRYPTION_FAILED', DECRYPTION_FAILED_MESSAGE, { cause });
}

/**
 * Run `fn` and turn anything that is not already a DidcommError into one with `code`. Used at
 * decoder boundaries so that a library's TypeError/RangeError never escapes as an untyped crash.
 */
export function wrapErrors<T>(code: ErrorCode, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DidcommError) throw e;
    throw new DidcommError(code, `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
