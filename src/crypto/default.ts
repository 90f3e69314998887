/**
 * The default crypto backend of the Node library: node:crypto. Code that should run without
 * node:crypto passes `nobleBackend` explicitly (every API takes a `crypto` option).
 */
export { nodeBackend as defaultCrypto } from './node.js';
