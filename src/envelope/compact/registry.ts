/**
 * DIDComm Compact v1 registries (docs/compact.md §4): integer keys for the standard plaintext
 * headers, small-integer aliases for message type URIs, attachment keys, and the body schemas
 * that let known body field names shrink to integers (SenML-style, RFC 8428 §6). The numbers are
 * part of the wire format: never renumber, only append.
 */

/** Plaintext header keys (§4.2). Unknown headers travel under their text names. */
export const HEADER_KEYS: ReadonlyArray<[string, number]> = [
  ['id', 1],
  ['type', 2],
  ['from', 3],
  ['to', 4],
  ['thid', 5],
  ['pthid', 6],
  ['created_time', 7],
  ['expires_time', 8],
  ['body', 9],
  ['attachments', 10],
  ['from_prior', 11],
  ['please_ack', 12],
  ['ack', 13],
  ['return_route', 14],
  ['typ', 15],
  ['lang', 16],
  ['accept-lang', 17],
  ['sent_count', 18],
];
export const HEADER_KEY = new Map(HEADER_KEYS);
export const HEADER_NAME = new Map(HEADER_KEYS.map(([n, k]) => [k, n]));

export const RETURN_ROUTE_VALUES = ['none', 'all', 'thread'] as const;
export const PLAIN_TYP = 'application/didcomm-plain+json';

/** Message type aliases (§4.3). 0–23 encode in one byte. */
export const TYPE_ALIASES: ReadonlyArray<[string, number]> = [
  ['https://didcomm.org/empty/1.0/empty', 0],
  ['https://didcomm.org/telemetry/1.0/report', 1],
  ['https://didcomm.org/telemetry/1.0/batch', 2],
  ['https://didcomm.org/command/1.0/request', 3],
  ['https://didcomm.org/command/1.0/result', 4],
  ['https://didcomm.org/report-problem/2.0/problem-report', 5],
  ['https://didcomm.org/trust-ping/2.0/ping', 6],
  ['https://didcomm.org/trust-ping/2.0/ping-response', 7],
  ['https://didcomm.org/routing/2.0/forward', 8],
  ['https://didcomm.org/discover-features/2.0/queries', 9],
  ['https://didcomm.org/discover-features/2.0/disclose', 10],
  ['https://didcomm.org/messagepickup/3.0/status-request', 11],
  ['https://didcomm.org/messagepickup/3.0/status', 12],
  ['https://didcomm.org/messagepickup/3.0/delivery-request', 13],
  ['https://didcomm.org/messagepickup/3.0/delivery', 14],
  ['https://didcomm.org/messagepickup/3.0/messages-received', 15],
  ['https://didcomm.org/messagepickup/3.0/live-delivery-change', 16],
  ['https://didcomm.org/coordinate-mediation/2.0/mediate-request', 17],
  ['https://didcomm.org/coordinate-mediation/2.0/mediate-grant', 18],
  ['https://didcomm.org/coordinate-mediation/2.0/mediate-deny', 19],
  ['https://didcomm.org/coordinate-mediation/2.0/keylist-update', 20],
  ['https://didcomm.org/coordinate-mediation/2.0/keylist-update-response', 21],
  ['https://didcomm.org/coordinate-mediation/2.0/keylist-query', 22],
  ['https://didcomm.org/coordinate-mediation/2.0/keylist', 23],
  ['https://didcomm.org/out-of-band/2.0/invitation', 24],
];
export const TYPE_ALIAS = new Map(TYPE_ALIASES);
export const TYPE_URI = new Map(TYPE_ALIASES.map(([u, a]) => [a, u]));

export const FORWARD_TYPE = 'https://didcomm.org/routing/2.0/forward';

/** Attachment keys (§4.5) and attachment `data` keys. */
export const ATTACHMENT_KEYS: ReadonlyArray<[string, number]> = [
  ['id', 1],
  ['description', 2],
  ['filename', 3],
  ['media_type', 4],
  ['format', 5],
  ['lastmod_time', 6],
  ['byte_count', 7],
  ['data', 8],
];
export const ATTACHMENT_KEY = new Map(ATTACHMENT_KEYS);
export const ATTACHMENT_NAME = new Map(ATTACHMENT_KEYS.map(([n, k]) => [k, n]));
/** data: 1 jws, 2 hash, 3 links, 4 base64url bytes, 5 json, 6 padded standard base64 bytes. */
export const DATA_JWS = 1;
export const DATA_HASH = 2;
export const DATA_LINKS = 3;
export const DATA_BASE64URL = 4;
export const DATA_JSON = 5;
export const DATA_BASE64_STD = 6;

/** A body field with a registered integer key; `did` fields carry compact DID references. */
export interface BodyField {
  name: string;
  key: number;
  /** json: any JSON value; did: a DID reference; records: an array of objects using this same schema. */
  kind: 'json' | 'did' | 'records';
}

const TELEMETRY_FIELDS: BodyField[] = [
  ['ts', 1],
  ['temp', 2],
  ['hum', 3],
  ['pres', 4],
  ['batt', 5],
  ['co2', 6],
  ['lux', 7],
  ['readings', 8],
  ['seq', 9],
  ['sensor', 10],
  ['unit', 11],
  ['value', 12],
  ['volt', 13],
  ['rssi', 14],
  ['snr', 15],
].map(([name, key]) => ({ name: name as string, key: key as number, kind: name === 'readings' ? ('records' as const) : ('json' as const) }));

const COMMAND_FIELDS: BodyField[] = [
  ['command', 1],
  ['target', 2],
  ['args', 3],
  ['status', 4],
  ['result', 5],
  ['value', 6],
].map(([name, key]) => ({ name: name as string, key: key as number, kind: 'json' as const }));

/** Body schemas per message type URI (§4.4). */
export const BODY_SCHEMAS: ReadonlyMap<string, BodyField[]> = new Map<string, BodyField[]>([
  ['https://didcomm.org/telemetry/1.0/report', TELEMETRY_FIELDS],
  ['https://didcomm.org/telemetry/1.0/batch', TELEMETRY_FIELDS],
  ['https://didcomm.org/command/1.0/request', COMMAND_FIELDS],
  ['https://didcomm.org/command/1.0/result', COMMAND_FIELDS],
  [FORWARD_TYPE, [{ name: 'next', key: 1, kind: 'did' }]],
  [
    'https://didcomm.org/report-problem/2.0/problem-report',
    [
      ['code', 1],
      ['comment', 2],
      ['args', 3],
      ['escalate_to', 4],
    ].map(([name, key]) => ({ name: name as string, key: key as number, kind: 'json' as const })),
  ],
  ['https://didcomm.org/trust-ping/2.0/ping', [{ name: 'response_requested', key: 1, kind: 'json' }]],
]);
