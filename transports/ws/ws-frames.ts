/**
 * Shared pieces of the WebSocket transport (DIDComm v2.1 §Transports / WebSocket: one DIDComm
 * message per WebSocket message): turning a received message (binary or text, possibly
 * fragmented) into one frame, and writing one frame as one message.
 */
import { type RawData, WebSocket } from 'ws';
import { err } from '../../src/errors.js';
import { fromUtf8 } from '../../src/util/bytes.js';

export const DEFAULT_WS_MTU = 1024 * 1024;

/** The bytes of one received WebSocket message, binary or text alike, as an unshared Uint8Array. */
export function frameOf(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  return new Uint8Array(data); // copies the Buffer
}

/** True when `frame` is JSON (first non-blank byte `{`) and valid UTF-8, so it may go as a text message. */
export function isTextJson(frame: Uint8Array): boolean {
  let i = 0;
  while (i < frame.length && (frame[i] === 0x20 || frame[i] === 0x09 || frame[i] === 0x0a || frame[i] === 0x0d)) i++;
  if (frame[i] !== 0x7b) return false;
  try {
    fromUtf8(frame);
    return true;
  } catch {
    return false;
  }
}

/** Writes `frame` as one message; resolves when handed to the socket, ERR_TRANSPORT otherwise. */
export function sendOn(socket: WebSocket, frame: Uint8Array, asText: boolean): Promise<void> {
  if (socket.readyState !== WebSocket.OPEN) return Promise.reject(err('ERR_TRANSPORT', 'ws: connection is not open'));
  return new Promise((resolve, reject) => {
    const data = Buffer.from(frame); // a copy: the caller may reuse its buffer before the write
    socket.send(data, { binary: !asText }, (e) => {
      if (e) reject(err('ERR_TRANSPORT', `ws: send failed: ${e.message}`, { cause: e }));
      else resolve();
    });
  });
}
