/**
 * The DIDComm-over-MQTT topic scheme (our profile; no DIDComm MQTT transport spec exists, see
 * reference/didcomm-spec.md §1.12 "each transport MUST define the uri format, how messages are sent,
 * how the media type is conveyed"). Documented in transports/mqtt/README.md.
 *
 *   <prefix>/inbox/<inbox-id>                    one inbox per DID (prefix defaults to `didcomm/v1`)
 *   $share/<group>/<prefix>/inbox/<inbox-id>     MQTT 5 shared subscription of a mediator's inbox
 *
 * The inbox id is, by default, NOT the DID in clear: it is the first 15 bytes of SHA-256(did) in
 * lowercase base32 (24 characters, 120 bits), so topic names and broker logs do not reveal which DIDs
 * talk. `clear: true` uses the DID itself (DID syntax, W3C DID Core §3.1, has no `/`, `+` or `#`,
 * so a valid DID is always a valid single topic level). The link address of a peer is its inbox id.
 */
import { createHash } from 'node:crypto';
import { err } from '../../src/errors.js';
import { astring, utf8 } from '../../src/util/bytes.js';

export const DEFAULT_TOPIC_PREFIX = 'didcomm/v1';

/** A hash function from bytes to bytes (at least 15 bytes of output). Defaults to SHA-256. */
export type HashFunction = (data: Uint8Array) => Uint8Array;

export interface InboxIdOptions {
  /** Use the DID itself as the inbox id (no privacy from the broker). Default false. */
  clear?: boolean;
  /** Hash to use instead of node:crypto SHA-256 (e.g. the agent's crypto backend). */
  hash?: HashFunction;
}

const INBOX_HASH_BYTES = 15;
const MAX_DID_LENGTH = 2048;
const MAX_INBOX_ID_LENGTH = MAX_DID_LENGTH;
/** DID Core §3.1: did:<method>:<method-specific-id>, idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded. */
const DID_PATTERN = /^did:[a-z0-9]+:(?:[A-Za-z0-9._%-]*:)*[A-Za-z0-9._%-]+$/;
/** Characters an inbox id may hold: those of a DID; never `/`, `+`, `#`, NUL or a leading `$`. */
const INBOX_ID_PATTERN = /^[A-Za-z0-9._:%-]+$/;
const SHARE_GROUP_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function sha256(data: Uint8Array): Uint8Array {
  const digest = createHash('sha256').update(data).digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.length);
}

/** Lowercase RFC 4648 base32 without padding. */
export function base32Lower(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(acc >>> bits) & 31]!;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(acc << (5 - bits)) & 31]!;
  return out;
}

/** Throws ERR_ARGUMENT unless `did` is a syntactically valid DID (no DID URL parts). */
export function assertDid(did: unknown): string {
  const s = astring(did, 'did');
  if (s.length > MAX_DID_LENGTH || !DID_PATTERN.test(s)) throw err('ERR_ARGUMENT', 'did: not a valid DID');
  return s;
}

/**
 * The inbox id (= MQTT link address) of `did`: base32(SHA-256(did)[0..15]) by default, or the DID
 * itself with `clear: true`.
 */
export function inboxIdForDid(did: string, options: InboxIdOptions = {}): string {
  assertDid(did);
  if (options.clear) return did;
  const digest = (options.hash ?? sha256)(utf8(did));
  if (!(digest instanceof Uint8Array) || digest.length < INBOX_HASH_BYTES) {
    throw err('ERR_ARGUMENT', `hash: expected at least ${INBOX_HASH_BYTES} bytes of output`);
  }
  return base32Lower(digest.subarray(0, INBOX_HASH_BYTES));
}

/** Throws ERR_ARGUMENT unless `id` can be one topic level of an inbox topic. */
export function assertInboxId(id: unknown, label = 'inbox id'): string {
  const s = astring(id, label);
  if (s.length === 0 || s.length > MAX_INBOX_ID_LENGTH || !INBOX_ID_PATTERN.test(s)) {
    throw err('ERR_ARGUMENT', `${label}: not a valid inbox id`);
  }
  return s;
}

/** Throws ERR_ARGUMENT unless `prefix` is a non-empty topic without wildcards or a leading `$`. */
export function assertTopicPrefix(prefix: unknown): string {
  const s = astring(prefix, 'topic prefix');
  const levels = s.split('/');
  if (s.startsWith('$') || levels.some((l) => l.length === 0 || !/^[A-Za-z0-9._:-]+$/.test(l))) {
    throw err('ERR_ARGUMENT', 'topic prefix: expected levels of [A-Za-z0-9._:-] separated by /');
  }
  return s;
}

/** Throws ERR_ARGUMENT unless `group` is a valid `$share` group name. */
export function assertShareGroup(group: unknown): string {
  const s = astring(group, 'share group');
  if (!SHARE_GROUP_PATTERN.test(s)) throw err('ERR_ARGUMENT', 'share group: expected 1-64 of [A-Za-z0-9._:-]');
  return s;
}

/** `<prefix>/inbox/<inbox-id>`: where a device (or any sender) publishes frames for that inbox. */
export function inboxTopic(inboxId: string, prefix = DEFAULT_TOPIC_PREFIX): string {
  return `${assertTopicPrefix(prefix)}/inbox/${assertInboxId(inboxId)}`;
}

/** `$share/<group>/<prefix>/inbox/<inbox-id>`: the subscription filter of mediator instances. */
export function sharedInboxFilter(inboxId: string, group: string, prefix = DEFAULT_TOPIC_PREFIX): string {
  return `$share/${assertShareGroup(group)}/${inboxTopic(inboxId, prefix)}`;
}

/** The inbox id of an inbox topic under `prefix`, or undefined if `topic` is not one. */
export function parseInboxTopic(topic: string, prefix = DEFAULT_TOPIC_PREFIX): string | undefined {
  const head = `${prefix}/inbox/`;
  if (typeof topic !== 'string' || !topic.startsWith(head)) return undefined;
  const id = topic.slice(head.length);
  return id.length > 0 && id.length <= MAX_INBOX_ID_LENGTH && INBOX_ID_PATTERN.test(id) ? id : undefined;
}
