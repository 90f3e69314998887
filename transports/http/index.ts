/**
 * DIDComm HTTP(S) transport: client (`HttpSender`), server (`HttpListener`) and the DIDComm media
 * types. See README.md in this directory.
 */
export { DEFAULT_HTTP_MTU, HttpSender, httpStatusOf } from './http-sender.js';
export type { HttpPostOptions, HttpPostResult, HttpSenderOptions } from './http-sender.js';
export { HttpListener } from './http-listener.js';
export type { HttpListenerOptions, HttpReply, HttpRequestHook, HttpRequestInfo } from './http-listener.js';
export {
  DIDCOMM_MEDIA_TYPES, MEDIA_TYPE_COMPACT, MEDIA_TYPE_ENCRYPTED, MEDIA_TYPE_PLAIN, MEDIA_TYPE_SIGNED,
  assertDidcommMediaType, parseDidcommMediaType, sniffMediaType,
} from './media-types.js';
export type { DidcommMediaType } from './media-types.js';
