/**
 * BLE transport: Nordic UART Service over a `BleLink` (noble central on Node, in-memory for tests).
 * Importing this module never loads @stoprocent/noble; `NobleBleLink.connect()` does, lazily.
 */
export { BleNusTransport } from './transport.js';
export type { BleNusTransportOptions } from './transport.js';
export { NobleBleLink } from './noble-link.js';
export type { NobleBleLinkOptions, NobleLike, NoblePeripheralLike, NobleCharacteristicLike } from './noble-link.js';
export { createInMemoryBlePair, InMemoryBleLink } from './memory-link.js';
export type { InMemoryBlePair, InMemoryBlePairOptions } from './memory-link.js';
export { NUS_SERVICE_UUID, NUS_RX_UUID, NUS_TX_UUID, DEFAULT_ATT_MTU, ATT_HEADER, compactUuid } from './link.js';
export type { BleLink, BleLinkEvents } from './link.js';
