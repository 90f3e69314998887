/**
 * Trust Ping 2.0 (DIDComm v2.1 §Trust Ping): `ping` with `body.response_requested` (default true)
 * and `ping-response` threaded to the ping. Used to test reachability and key agreement end to end.
 */
import type { Message } from '../message/message.js';

export const PING_TYPE = 'https://didcomm.org/trust-ping/2.0/ping';
export const PING_RESPONSE_TYPE = 'https://didcomm.org/trust-ping/2.0/ping-response';
export const TRUST_PING_PIURI = 'https://didcomm.org/trust-ping/2.0';

export function ping(id: string, from: string | undefined, to: string, responseRequested = true): Message {
  const m: Message = { id, type: PING_TYPE, to: [to], body: { response_requested: responseRequested } };
  if (from !== undefined) m.from = from;
  return m;
}

/** Whether a ping wants an answer (absent = true, per the spec). */
export function wantsResponse(m: Message): boolean {
  return m.body?.response_requested !== false;
}

export function pingResponse(id: string, pingMessage: Message, from: string | undefined): Message {
  const m: Message = { id, type: PING_RESPONSE_TYPE, thid: pingMessage.thid ?? pingMessage.id, body: {} };
  if (from !== undefined) m.from = from;
  if (pingMessage.from !== undefined) m.to = [pingMessage.from];
  return m;
}
