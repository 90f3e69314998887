/**
 * The mediator service core (DESIGN §6): one entry point, `receive(frame, session)`, for every
 * listener (HTTP, WebSocket, MQTT, radio gateways). It opens the envelope (standard JSON or DIDComm
 * Compact: anoncrypt, authcrypt, signed, pairwise), applies rate limits and expiry, dispatches to
 * the protocol handlers (routing 2.0, coordinate-mediation 2.0, pickup 3.0, trust ping, discover
 * features) and packs the replies the way the request came in.
 *
 * Replies and refusals (docs/mediator.md §Security): an authenticated sender whose session can
 * carry a reply (return_route, or a duplex link such as an MQTT inbox or a radio link) gets the
 * reply or a problem report packed for it. Everyone else gets only `outcome.error`, which a
 * listener turns into a transport status (HTTP 403/413/429/503), plus an unencrypted problem
 * report holding the code on a WebSocket — never anything about recipients. Problem reports and
 * acks from peers are never answered (no loops).
 */
import { err, isDidcommError, type DidcommError } from '../errors.js';
import { systemClock, type Clock } from '../util/clock.js';
import { checkTimes, type Message } from '../message/message.js';
import { newMessageId } from '../message/ids.js';
import { pack, type EnvelopeContext } from '../envelope/index.js';
import { PairwiseSessions } from '../envelope/compact/pairwise-sessions.js';
import { FORWARD_TYPE } from '../routing/forward.js';
import { PROBLEM_REPORT_TYPE } from '../protocols/report-problem.js';
import { EMPTY_TYPE } from '../protocols/empty.js';
import { PING_TYPE, PING_RESPONSE_TYPE } from '../protocols/trust-ping.js';
import { QUERIES_TYPE, DISCLOSE_TYPE } from '../protocols/discover-features.js';
import { isPickupType } from '../protocols/pickup.js';
import { isCoordinateMediationType } from '../protocols/coordinate-mediation.js';
import { mediaTypeOf, openFrame, packReply, plainProblem, problemFor, type OpenedFrame, type ReplyPacker } from './envelopes.js';
import { LiveDelivery } from './live.js';
import { TokenBucketLimiter } from './rate-limit.js';
import { handleForward } from './handle-forward.js';
import { handlePickup } from './handle-pickup.js';
import { handleCoordination } from './handle-coordination.js';
import { handlePing, handleQueries } from './handle-basic.js';
import { RecipientCache, type MediatorCore, type RequestContext } from './core.js';
import { DEFAULT_POLICY, type InboundOutcome, type MediatorPolicy, type MediatorStores, type Session } from './types.js';

export interface MediatorOptions {
  /** The mediator's DID; `ctx.secrets` must hold its keyAgreement (and signing) keys. */
  did: string;
  ctx: EnvelopeContext;
  stores: MediatorStores;
  policy?: Partial<MediatorPolicy>;
  clock?: Clock;
  /**
   * Provisioned thin devices (Espruino endpoints, DIDs): their pairwise frames are accepted from
   * the start and they are mediated without asking (they cannot run coordinate-mediation), with
   * their DID as their one recipient key. Mail for them must be a compact pairwise frame from a
   * peer (anything else is refused at the forward); radio gateways relay it as it is.
   */
  devices?: readonly string[];
  /** Background failures (live pushes, unexpected errors): for logs, never thrown. */
  onError?: (e: unknown) => void;
}

const PAIRWISE_PEERS = 'mediator/pairwise-peer/';
/** Messages we never answer: answering them could start a loop. */
const SILENT_TYPES = new Set([PROBLEM_REPORT_TYPE, EMPTY_TYPE, PING_RESPONSE_TYPE, DISCLOSE_TYPE]);

export class Mediator implements MediatorCore {
  readonly did: string;
  readonly ctx: EnvelopeContext;
  readonly stores: MediatorStores;
  readonly policy: MediatorPolicy;
  readonly clock: Clock;
  readonly live: LiveDelivery;
  readonly packer: ReplyPacker;
  readonly pairwise: PairwiseSessions;
  readonly recipients: RecipientCache;
  private readonly senderLimiter: TokenBucketLimiter;
  private readonly remoteLimiter: TokenBucketLimiter;
  private readonly onError: (e: unknown) => void;
  private readonly pairwisePeers = new Set<string>();
  private readonly thinDevices = new Set<string>();

  private constructor(o: MediatorOptions) {
    this.did = o.did;
    this.ctx = o.ctx;
    this.stores = o.stores;
    this.policy = { ...DEFAULT_POLICY, ...o.policy };
    this.clock = o.clock ?? systemClock;
    this.onError = o.onError ?? (() => undefined);
    this.pairwise = new PairwiseSessions(this.ctx, { store: o.stores.kv });
    this.packer = { ctx: this.ctx, did: o.did, pairwise: this.pairwise, compactHintLength: this.policy.compactHintLength };
    this.live = new LiveDelivery({ mailbox: o.stores.mailbox, packer: this.packer, newId: () => this.newId(), maxDeliveryBytes: this.policy.maxDeliveryBytes, onError: this.onError });
    this.recipients = new RecipientCache(this.clock, this.policy.recipientCacheMs);
    this.senderLimiter = new TokenBucketLimiter(this.clock, this.policy.senderRate);
    this.remoteLimiter = new TokenBucketLimiter(this.clock, this.policy.remoteRate);
  }

  /** A mediator on `stores`; re-derives the pairwise contexts of known devices. */
  static async create(o: MediatorOptions): Promise<Mediator> {
    if (o.ctx.resolver.keyAgreementKeys(o.did).length === 0) throw err('ERR_ARGUMENT', 'mediator DID has no keyAgreement key');
    if (!o.ctx.resolver.keyAgreementKeys(o.did).some((k) => o.ctx.secrets.get(k.kid))) throw err('ERR_SECRET_NOT_FOUND', 'no private key for the mediator DID');
    const m = new Mediator(o);
    for (const d of o.devices ?? []) await m.provisionThinDevice(d);
    for (let after: string | undefined; ; ) {
      const page = await o.stores.kv.list(PAIRWISE_PEERS, { limit: 1000, ...(after ? { after } : {}) });
      for (const e of page) m.derivePairwise(e.key.slice(PAIRWISE_PEERS.length));
      if (page.length < 1000) break;
      after = page[page.length - 1]!.key;
    }
    return m;
  }

  newId(): string {
    return newMessageId(this.ctx.crypto);
  }

  /** True for a provisioned thin device (mail relayed as raw pairwise frames, see `devices`). */
  isThinDevice(did: string): boolean {
    return this.thinDevices.has(did);
  }

  private async provisionThinDevice(did: string): Promise<void> {
    if (!this.derivePairwise(did)) throw err('ERR_ARGUMENT', `device ${did}: no X25519 keyAgreement key for a pairwise context`);
    await this.rememberPairwisePeer(did);
    const grant = await this.stores.mediation.getGrant(did);
    if (grant?.routingDid !== this.did) await this.stores.mediation.grant(did, this.did);
    const owner = await this.stores.mediation.ownerOf(did);
    const added = owner === undefined ? (await this.stores.mediation.addKeys(did, [did]))[0]?.result : owner === did ? 'no_change' : 'conflict';
    if (added !== 'success' && added !== 'no_change') throw err('ERR_ARGUMENT', `device ${did}: its DID cannot be registered as its recipient key (${added})`);
    this.thinDevices.add(did);
  }

  /** Accepts pairwise frames from `did` from now on, also after a restart. */
  async rememberPairwisePeer(did: string): Promise<void> {
    if (this.pairwisePeers.has(did)) return;
    if (!this.derivePairwise(did)) return;
    await this.stores.kv.put(PAIRWISE_PEERS + did, new Uint8Array([1]));
  }

  private derivePairwise(did: string): boolean {
    try {
      this.pairwise.contextFor(this.did, did);
      this.pairwisePeers.add(did);
      return true;
    } catch {
      return false; // no X25519 keyAgreement key: no pairwise context
    }
  }

  /** Handles one inbound frame from `session`; never throws. */
  async receive(frame: Uint8Array, session: Session): Promise<InboundOutcome> {
    const out: InboundOutcome = { replies: [], mediaType: undefined, error: undefined, senderDid: undefined, stored: false };
    let opened: OpenedFrame | undefined;
    try {
      if (!(frame instanceof Uint8Array) || frame.length === 0) throw err('ERR_MALFORMED', 'empty frame');
      if (frame.length > this.policy.maxReceiveBytes) throw err('ERR_TOO_LARGE', `message of ${frame.length} bytes exceeds max_receive_bytes ${this.policy.maxReceiveBytes}`);
      this.remoteLimiter.take(session.remote);
      opened = await openFrame(this.ctx, frame, { maxBytes: this.policy.maxReceiveBytes, pairwise: this.pairwise });
      const message = opened.unpacked.message;
      out.senderDid = opened.senderDid;
      if (message.return_route !== undefined) session.returnRoute = message.return_route;
      if (opened.senderDid !== undefined) {
        this.senderLimiter.take(opened.senderDid);
        if (opened.replyMode) session.onAuthenticated?.(opened.senderDid, opened.replyMode);
      }
      checkTimes(message, Math.floor(this.clock.now() / 1000));
      const rc: RequestContext = { message, meta: opened.unpacked.meta, senderDid: opened.senderDid, replyMode: opened.replyMode, session, depth: 0 };
      const replies = await this.dispatch(rc);
      out.stored = message.type === FORWARD_TYPE;
      await this.packReplies(out, replies, rc);
    } catch (e) {
      await this.refuse(out, asDidcommError(e, this.onError), opened, session);
    }
    return out;
  }

  /** A frame found inside a forward addressed to ourselves. */
  async processInner(frame: Uint8Array, outer: RequestContext, depth: number): Promise<Message[]> {
    const opened = await openFrame(this.ctx, frame, { maxBytes: this.policy.maxReceiveBytes, pairwise: this.pairwise });
    const message = opened.unpacked.message;
    checkTimes(message, Math.floor(this.clock.now() / 1000));
    const rc: RequestContext = { message, meta: opened.unpacked.meta, senderDid: opened.senderDid, replyMode: opened.replyMode, session: outer.session, depth };
    const replies = await this.dispatch(rc);
    // Replies go back only to the party that sent the outer envelope.
    return opened.senderDid !== undefined && opened.senderDid === outer.senderDid ? replies : [];
  }

  private async dispatch(rc: RequestContext): Promise<Message[]> {
    const type = rc.message.type;
    if (type === FORWARD_TYPE) return handleForward(this, rc);
    if (isPickupType(type)) return handlePickup(this, rc);
    if (isCoordinateMediationType(type)) {
      const replies = await handleCoordination(this, rc);
      if (rc.senderDid !== undefined && type.endsWith('/mediate-request')) await this.rememberPairwisePeer(rc.senderDid);
      return replies;
    }
    if (type === PING_TYPE) return handlePing(this, rc);
    if (type === QUERIES_TYPE) return handleQueries(this, rc);
    if (SILENT_TYPES.has(type)) return [];
    throw err('ERR_UNKNOWN_TYPE', 'unsupported message type');
  }

  private canReply(session: Session, message: Message | undefined): boolean {
    if (session.duplex) return true;
    const rr = message?.return_route ?? session.returnRoute;
    return rr === 'all' || rr === 'thread';
  }

  private async packReplies(out: InboundOutcome, replies: Message[], rc: RequestContext): Promise<void> {
    if (replies.length === 0 || rc.senderDid === undefined || !rc.replyMode) {
      if (replies.length > 0 && rc.senderDid === undefined && this.canReply(rc.session, rc.message)) {
        // anonymous ping: answered in plaintext (it tells nothing the transport does not)
        out.replies.push(...(await Promise.all(replies.map(async (r) => plainReply(this.ctx, r, rc.meta.format)))));
        out.mediaType = mediaTypeOf(undefined);
      }
      return;
    }
    if (!this.canReply(rc.session, rc.message)) return;
    for (const r of replies) out.replies.push(await packReply(this.packer, r, rc.senderDid, rc.replyMode));
    out.mediaType = mediaTypeOf(rc.replyMode);
  }

  private async refuse(out: InboundOutcome, error: DidcommError, opened: OpenedFrame | undefined, session: Session): Promise<void> {
    out.stored = false;
    const message = opened?.unpacked.message;
    if (message && SILENT_TYPES.has(message.type)) return;
    try {
      if (opened?.senderDid !== undefined && opened.replyMode && message && this.canReply(session, message)) {
        out.replies = [await packReply(this.packer, problemFor(this.packer, error, message), opened.senderDid, opened.replyMode)];
        out.mediaType = mediaTypeOf(opened.replyMode);
        return;
      }
      out.error = error;
      if (session.kind === 'ws' && this.canReply(session, message)) {
        out.replies = [await plainProblem(this.ctx, error, message, opened?.unpacked.meta.format ?? 'json')];
        out.mediaType = mediaTypeOf(undefined);
      }
    } catch (e) {
      this.onError(e);
      out.replies = [];
      out.error = error;
    }
  }

  /** Stops live deliveries (the stores belong to the caller). */
  close(): void {
    this.live.closeAll();
  }
}

async function plainReply(ctx: EnvelopeContext, m: Message, format: 'json' | 'compact'): Promise<Uint8Array> {
  return (await pack(ctx, m, { mode: 'plain', format })).bytes;
}

function asDidcommError(e: unknown, onError: (e: unknown) => void): DidcommError {
  if (isDidcommError(e)) return e;
  onError(e);
  return err('ERR_STORE', 'internal failure', { cause: e });
}
