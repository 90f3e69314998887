/**
 * Public entry `didcomm-iot/crypto/node`: the node:crypto backend (the Node default, 20–30× faster
 * than pure JS for X25519/Ed25519, DESIGN §4).
 */
export { nodeBackend, validatePublicKeyNode } from '../crypto/node.js';
export type { CryptoBackend, Curve, KeyAgreementCurve, KeyPair, SignatureAlg } from '../crypto/types.js';
