/**
 * A crypto backend wrapper that records or replays the random values a pack operation consumes
 * (random bytes, ephemeral X25519/EC private keys), so DIDComm Compact test vectors can list them
 * and any implementation can reproduce the output byte for byte. For vectors and tests only:
 * never use a replaying backend to send real messages.
 */
import { err } from '../errors.js';
import type { CryptoBackend, KeyAgreementCurve } from './types.js';

export interface RandomTape {
  /** Random values in the order they were consumed. */
  values: Uint8Array[];
}

/** Records every random value `inner` produces. */
export function recordingBackend(inner: CryptoBackend, tape: RandomTape): CryptoBackend {
  return {
    ...inner,
    randomBytes(n) {
      const v = inner.randomBytes(n);
      tape.values.push(v);
      return v;
    },
    ecdhEphemeral(curve: KeyAgreementCurve, peers: Uint8Array[]) {
      const kp = inner.generateKeyPair(curve);
      tape.values.push(kp.privateKey);
      return { publicKey: kp.publicKey, secrets: peers.map((p) => inner.ecdh(curve, kp.privateKey, p)) };
    },
  };
}

/** Serves the recorded values back, in order; running out is an error. */
export function replayingBackend(inner: CryptoBackend, tape: RandomTape): CryptoBackend {
  let i = 0;
  const next = (n: number): Uint8Array => {
    const v = tape.values[i++];
    if (!v || v.length !== n) throw err('ERR_ARGUMENT', `replay tape: value ${i - 1} missing or of the wrong length`);
    return v;
  };
  return {
    ...inner,
    randomBytes: (n) => next(n),
    ecdhEphemeral(curve: KeyAgreementCurve, peers: Uint8Array[]) {
      const priv = next(curve === 'X25519' ? 32 : curve === 'P-521' ? 66 : curve === 'P-384' ? 48 : 32);
      return { publicKey: inner.publicKeyFromPrivate(curve, priv), secrets: peers.map((p) => inner.ecdh(curve, priv, p)) };
    },
  };
}
