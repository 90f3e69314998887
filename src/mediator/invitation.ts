/**
 * The mediator's out-of-band invitation (DIDComm v2.1 §Out Of Band Messages,
 * reference/didcomm-spec.md §1.8): `https://didcomm.org/out-of-band/2.0/invitation` from the
 * mediator DID with goal code `mediate`, as JSON and as a URL `<base>?_oob=<base64url(JSON)>`.
 * A recipient answers it with a coordinate-mediation `mediate-request` (pthid = invitation id).
 */
import { utf8 } from '../util/bytes.js';
import { toBase64url } from '../util/base64url.js';
import { ACCEPT_COMPACT, ACCEPT_JSON } from '../protocols/discover-features.js';
import type { Message } from '../message/message.js';

export const OOB_INVITATION_TYPE = 'https://didcomm.org/out-of-band/2.0/invitation';

export interface Invitation {
  message: Message;
  json: string;
  url: string;
}

export function mediatorInvitation(id: string, mediatorDid: string, baseUrl: string): Invitation {
  const message: Message = {
    type: OOB_INVITATION_TYPE,
    id,
    from: mediatorDid,
    body: { goal_code: 'mediate', goal: 'Request mediation', accept: [ACCEPT_JSON, ACCEPT_COMPACT] },
  };
  const json = JSON.stringify(message);
  const url = new URL(baseUrl);
  url.searchParams.set('_oob', toBase64url(utf8(json)));
  return { message, json, url: url.toString() };
}
