/**
 * Public entry `didcomm-iot/crypto/noble`: the portable crypto backend (@noble/curves, ciphers,
 * hashes), for runtimes without node:crypto (DESIGN §4).
 */
export { nobleBackend, validatePublicKeyNoble } from '../crypto/noble.js';
export type { CryptoBackend, Curve, KeyAgreementCurve, KeyPair, SignatureAlg } from '../crypto/types.js';
