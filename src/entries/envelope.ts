/**
 * Public entry `didcomm-iot/envelope`: the pack/unpack façade for both wire formats (standard
 * DIDComm v2.1 JSON and DIDComm Compact, docs/compact.md) and the pairwise session state it needs.
 */
export { pack, unpack, type PackOptions, type PackResult, type UnpackOptions } from '../envelope/index.js';
export type { EnvelopeContext, LayerKind, PackMode, UnpackMeta, UnpackResult, WireFormat } from '../envelope/types.js';
export type { CompactHints } from '../envelope/compact/pack.js';
export { CONTENT_ENCRYPTIONS, isContentEncryption, type ContentEncryption } from '../envelope/jose/content.js';
export { COMPACT_MEDIA_TYPE, sniffFormat } from '../envelope/compact/frame.js';
export { HPKE_ALG, PAIRWISE_ALG } from '../envelope/compact/unpack.js';
export { PairwiseSessions, memoryStateStore, REPLAY_WINDOW, type PairwiseSessionsOptions, type PairwiseStateStore } from '../envelope/compact/pairwise-sessions.js';
export { derivePairwiseContext, type PairwiseContext } from '../envelope/compact/pairwise.js';
