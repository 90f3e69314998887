/**
 * The root entry of the `didcomm-iot` Node library: errors, the envelope façade (both wire
 * formats), static DIDs and offline resolution, the plaintext message model, routing (forward)
 * and the clock. It must stay free of Node-only packages (serialport, mqtt, ws, better-sqlite3…):
 * those live behind subpath entries (`didcomm-iot/transports/*`, `didcomm-iot/store`), so
 * `import 'didcomm-iot'` loads no native module and no network client. Test: test/build/.
 */
export { DidcommError, ERROR_CODES, PROBLEM_CODES, isDidcommError, type DidcommErrorOptions, type ErrorCode } from './errors.js';

export { pack, unpack, type PackOptions, type PackResult, type UnpackOptions } from './envelope/index.js';
export type { EnvelopeContext, LayerKind, PackMode, UnpackMeta, UnpackResult, WireFormat } from './envelope/types.js';
export type { CompactHints } from './envelope/compact/pack.js';
export type { ContentEncryption } from './envelope/jose/content.js';
export { PairwiseSessions, memoryStateStore, type PairwiseSessionsOptions, type PairwiseStateStore } from './envelope/compact/pairwise-sessions.js';

export { createDid, type CreateDidOptions, type SecretsFile } from './did/create.js';
export { OfflineResolver, type DidResolver, type KeyResolver, type OfflineResolverOptions } from './did/resolver.js';
export { SecretsStore, type Secret, type SecretsResolver } from './did/secrets.js';
export { didOf, isDid, isDidUrl, type DidDocument } from './did/document.js';
export type { Jwk } from './did/keys.js';

export { PLAIN_MEDIA_TYPE, SIGNED_MEDIA_TYPE, ENCRYPTED_MEDIA_TYPE, validateMessage, type Attachment, type Message } from './message/message.js';
export type { FromPrior } from './message/from-prior.js';

export { FORWARD_TYPE, forwardMessage, parseForward, wrapInForwards, type ParsedForward, type WrapOptions } from './routing/forward.js';
export { routeTo, type RoutePlan } from './routing/route.js';

export { defaultCrypto } from './crypto/default.js';
export type { CryptoBackend, Curve, KeyAgreementCurve, SignatureAlg } from './crypto/types.js';

export { ManualClock, systemClock, type Clock, type Timer } from './util/clock.js';
export type { LinkAddress, Transport, TransportEvents, TransportState } from '../transports/types.js';
