/**
 * What the mediator's protocol handlers share (routing 2.0, coordinate-mediation 2.0, pickup 3.0,
 * trust ping, discover features): the mediator's identity and envelope context, its stores and
 * policy, live delivery, and one request's context. Handlers return plaintext replies for the
 * authenticated sender; `service.ts` packs them and sends them back on the session.
 */
import { err } from '../errors.js';
import type { Clock } from '../util/clock.js';
import type { EnvelopeContext, UnpackMeta } from '../envelope/index.js';
import type { PairwiseSessions } from '../envelope/compact/pairwise-sessions.js';
import type { Message } from '../message/message.js';
import { MAX_KEYS_PER_CALL } from '../store/mediation.js';
import type { LiveDelivery } from './live.js';
import type { ReplyPacker } from './envelopes.js';
import type { MediatorPolicy, MediatorStores, ReplyMode, Session } from './types.js';

export interface MediatorCore {
  readonly did: string;
  readonly ctx: EnvelopeContext;
  readonly stores: MediatorStores;
  readonly policy: MediatorPolicy;
  readonly clock: Clock;
  readonly live: LiveDelivery;
  readonly packer: ReplyPacker;
  readonly pairwise: PairwiseSessions;
  /** Positive `next` → mailbox lookups, kept briefly (`policy.recipientCacheMs`). */
  readonly recipients: RecipientCache;
  newId(): string;
  /** A provisioned thin device: its mail is relayed as raw pairwise frames, never re-wrapped. */
  isThinDevice(did: string): boolean;
  /** Processes a frame addressed to the mediator itself (a forward whose `next` is us). */
  processInner(frame: Uint8Array, rc: RequestContext, depth: number): Promise<Message[]>;
}

export interface RequestContext {
  message: Message;
  meta: UnpackMeta;
  /** The authenticated sender DID (undefined for anoncrypt / plaintext). */
  senderDid: string | undefined;
  replyMode: ReplyMode | undefined;
  session: Session;
  /** Nesting depth (a forward to ourselves is processed once more, at depth + 1). */
  depth: number;
}

/** The sender, or ERR_NOT_AUTHORIZED: coordination and pickup need an authenticated requester. */
export function requireSender(rc: RequestContext): string {
  if (rc.senderDid === undefined) throw err('ERR_NOT_AUTHORIZED', 'this request must be authenticated (authcrypt, signed or pairwise)');
  return rc.senderDid;
}

/** Every recipient key of `owner` (paged through the mediation store). */
export async function ownerKeys(core: MediatorCore, owner: string): Promise<string[]> {
  const keys: string[] = [];
  for (let offset = 0; ; offset += MAX_KEYS_PER_CALL) {
    const page = await core.stores.mediation.listKeys(owner, { limit: MAX_KEYS_PER_CALL, offset });
    keys.push(...page.keys);
    if (page.keys.length < MAX_KEYS_PER_CALL || keys.length >= page.total) return keys;
  }
}

/**
 * The mailbox a forward's `next` is routed to: the registered recipient DID (exact DID URL or
 * its DID), or undefined when nobody registered it.
 */
export async function mailboxFor(core: MediatorCore, next: string): Promise<string | undefined> {
  const cached = core.recipients.get(next);
  if (cached !== undefined) return cached;
  let mailbox: string | undefined;
  if ((await core.stores.mediation.ownerOf(next)) !== undefined) mailbox = next;
  else {
    const hash = next.search(/[#?/]/u);
    if (hash > 0 && (await core.stores.mediation.ownerOf(next.slice(0, hash))) !== undefined) mailbox = next.slice(0, hash);
  }
  if (mailbox !== undefined) core.recipients.set(next, mailbox);
  return mailbox;
}

/**
 * A short-lived cache of registered recipients (only hits: an unknown `next` is always asked
 * again, so a key registered on another instance is seen at once). A key removed on another
 * instance may still take forwards for `ttlMs`; removals on this instance clear it at once.
 */
export class RecipientCache {
  private readonly entries = new Map<string, { mailbox: string; at: number }>();
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly max: number;

  constructor(clock: Clock, ttlMs: number, max = 100_000) {
    this.clock = clock;
    this.ttlMs = ttlMs;
    this.max = max;
  }

  get(next: string): string | undefined {
    const e = this.entries.get(next);
    if (!e) return undefined;
    if (this.clock.now() - e.at > this.ttlMs) {
      this.entries.delete(next);
      return undefined;
    }
    return e.mailbox;
  }

  set(next: string, mailbox: string): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(next, { mailbox, at: this.clock.now() });
  }

  clear(): void {
    this.entries.clear();
  }
}
