/**
 * Public entry `didcomm-iot/cbor`: the deterministic CBOR codec (RFC 8949 §4.2, canonical-only
 * decoding) used by DIDComm Compact.
 */
export { encodeCbor } from '../cbor/encode.js';
export { decodeCbor, decodeCborPrefix, type CborDecodeOptions } from '../cbor/decode.js';
export { CborTag, type CborMap, type CborValue } from '../cbor/types.js';
