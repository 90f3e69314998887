/**
 * The empty message (DIDComm v2.1 §Empty Message, `https://didcomm.org/empty/1.0/empty`): carries
 * headers only — here, a pure `ack` for messages that asked `please_ack` (§ACKs).
 */
import type { Message } from '../message/message.js';

export const EMPTY_TYPE = 'https://didcomm.org/empty/1.0/empty';

export function ackMessage(id: string, from: string | undefined, to: string | undefined, ackedIds: string[]): Message {
  const m: Message = { id, type: EMPTY_TYPE, ack: ackedIds };
  if (from !== undefined) m.from = from;
  if (to !== undefined) m.to = [to];
  return m;
}
