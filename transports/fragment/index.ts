/**
 * Fragmentation and reassembly for small-MTU links (LoRa, BLE): a Transport with a large mtu over
 * any frame Transport, with SCHC-style ACK-on-error repairs (RFC 8724 §8.4.3). See README.md.
 */
export { FragmentTransport } from './transport.js';
export type { FragmentMode, FragmentStats, FragmentTables, FragmentTransportOptions } from './transport.js';
export { crc32 } from './crc32.js';
export { decodeFrame, fragmentCount, planFragments, MIN_INNER_MTU, MAX_FRAGMENT_INDEX, MAX_MESSAGE_ID } from './header.js';
export type { FragmentFrame, DataFragment, ControlFrame } from './header.js';
