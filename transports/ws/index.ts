/**
 * DIDComm WebSocket transport: `WsListener` (server, connections by id) and `WsClient` (one URL,
 * reconnecting). See README.md in this directory.
 */
export { WsListener } from './ws-listener.js';
export type { WsConnectionInfo, WsListenerEvents, WsListenerOptions } from './ws-listener.js';
export { WsClient } from './ws-client.js';
export type { WsClientOptions } from './ws-client.js';
export { DEFAULT_WS_MTU } from './ws-frames.js';
