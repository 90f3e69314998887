/**
 * The CBOR data model used by DIDComm Compact (RFC 8949 §3): integers within ±2^53, byte strings
 * (Uint8Array), text strings, arrays, maps (always `Map`, so integer and text keys stay distinct),
 * floats, booleans, null, and tagged values. No undefined, no other simple values, no bigints.
 */
export type CborValue = number | string | boolean | null | Uint8Array | CborValue[] | CborMap | CborTag;
export type CborMap = Map<CborValue, CborValue>;

export class CborTag {
  readonly tag: number;
  readonly value: CborValue;
  constructor(tag: number, value: CborValue) {
    this.tag = tag;
    this.value = value;
  }
}
