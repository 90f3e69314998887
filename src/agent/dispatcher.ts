/**
 * The inbound pipeline (DIDComm v2.1 §Message Headers, §ACKs, §Problem Reports; DESIGN.md §2
 * agent/): unpack → forward to us? unwrap → learn the route back → process acks → expiry
 * (`checkTimes`) → dedupe per sender (retry: answer again; replay: refuse) → the handler of the
 * message type → reply (cached for retries) → ack when asked.
 *
 * Refusals are answered with report-problem 2.0 (code from src/errors.ts PROBLEM_CODES): bad
 * envelope / signature / tag (to the claimed sender, rate-limited), unauthorized, expired, replay,
 * unknown type (`e.p.msg.unsupported`). A problem report or a pure ack is never answered with a
 * problem report, and acks never ask for acks. Frames are processed one at a time (a bounded
 * queue), so dedupe decisions cannot race.
 */
import { err, isDidcommError, type DidcommError } from '../errors.js';
import { toHex } from '../util/bytes.js';
import type { Clock } from '../util/clock.js';
import { checkTimes, type Message } from '../message/message.js';
import { newMessageId } from '../message/ids.js';
import { unpack, type EnvelopeContext, type UnpackResult } from '../envelope/index.js';
import type { PairwiseSessions } from '../envelope/compact/pairwise-sessions.js';
import { FORWARD_TYPE, parseForward } from '../routing/forward.js';
import { EMPTY_TYPE } from '../protocols/empty.js';
import { PROBLEM_REPORT_TYPE, problemReport, problemReportFor } from '../protocols/report-problem.js';
import type { LinkAddress } from '../../transports/types.js';
import type { AckSender } from './acks.js';
import { sentCount, type Dedupe } from './dedupe.js';
import type { Outbox } from './outbox.js';
import { peekFrame } from './peek.js';
import type { LinkRuntime, PeerDirectory } from './peers.js';
import type { AgentEvents, InboundMessage, MessageHandler, ReplyDraft } from './types.js';
import type { Waiters } from './waiters.js';

export interface Via {
  name: string;
  link?: LinkRuntime;
  address?: LinkAddress;
  /** Fetched from the mediator's queue (redelivery there is normal: no replay reports). */
  pickup?: boolean;
  /** A shared medium (broadcast radio): frames for others are heard here too. */
  shared?: boolean;
}

export interface DispatchDeps {
  self: string;
  ctx: EnvelopeContext;
  clock: Clock;
  pairwise: PairwiseSessions;
  dedupe: Dedupe;
  outbox: Outbox;
  waiters: Waiters;
  acks: AckSender;
  peers: PeerDirectory;
  maxReceiveBytes: number;
  clockSkewSeconds: number;
  unauthenticatedReportIntervalMs: number;
  emit: <K extends keyof AgentEvents>(event: K, ...args: Parameters<AgentEvents[K]>) => void;
  /** Queues `m` to `peer` in the outbox with delivery 'transport'. */
  sendReply: (peer: string, m: Message) => Promise<void>;
  /** Acks from `sender` that may be our own mediator's receipts for forwards we sent. */
  receipts: (sender: string, ids: readonly string[]) => void;
}

export interface DispatchStats {
  frames: number;
  accepted: number;
  duplicates: number;
  replays: number;
  refused: number;
  unopened: number;
  /** Overheard on a shared medium, addressed to someone else. */
  notForUs: number;
  overflow: number;
}

const MAX_QUEUED_FRAMES = 128;
const MAX_FORWARD_DEPTH = 3;

export class Dispatcher {
  readonly stats: DispatchStats = { frames: 0, accepted: 0, duplicates: 0, replays: 0, refused: 0, unopened: 0, notForUs: 0, overflow: 0 };
  private readonly d: DispatchDeps;
  private readonly handlers = new Map<string, MessageHandler>();
  private readonly lastReport = new Map<string, number>();
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(deps: DispatchDeps) {
    this.d = deps;
  }

  /** Registers the handler of a message type URI (replacing any previous one). */
  handle(type: string, handler: MessageHandler): void {
    this.handlers.set(type, handler);
  }

  types(): string[] {
    return [...this.handlers.keys()];
  }

  /** Queues an inbound frame; resolves when it has been processed. */
  receive(bytes: Uint8Array, via: Via): Promise<void> {
    if (this.queued >= MAX_QUEUED_FRAMES) {
      this.stats.overflow++;
      this.d.emit('problem', { code: 'e.p.me.res', direction: 'local', peer: undefined, pthid: undefined, error: err('ERR_RATE_LIMITED', 'inbound queue full: frame dropped') });
      return Promise.resolve();
    }
    this.queued++;
    const p = this.chain.then(() => this.process(bytes, via, 0)).catch((e: unknown) => this.d.emit('error', asError(e)));
    this.chain = p.finally(() => this.queued--);
    return this.chain;
  }

  /** Processes one frame now (the caller is already inside the queue, e.g. a pickup delivery). */
  async process(bytes: Uint8Array, via: Via, depth: number): Promise<void> {
    this.stats.frames++;
    let r: UnpackResult;
    try {
      r = await unpack(this.d.ctx, bytes, { pairwise: this.d.pairwise, maxBytes: this.d.maxReceiveBytes, receiverDid: this.d.self });
    } catch (e) {
      this.stats.unopened++;
      await this.unopened(asError(e), bytes, via);
      return;
    }
    const m = r.message;
    if (via.shared && m.to && !m.to.includes(this.d.self)) {
      this.stats.notForUs++; // overheard on a shared medium (DIDComm: do not fail, ignore)
      return;
    }
    const sender = r.meta.authenticated ? m.from : undefined;
    if (m.type === FORWARD_TYPE) return this.forwarded(m, sender, via, depth);
    if (sender && sender !== this.d.self) {
      if (via.link) this.d.peers.learnRoute(sender, via.link, via.address);
      await this.d.peers.update(sender, { seen: true, speaks: r.meta.format });
      if (m.ack?.length) {
        this.d.outbox.acknowledge(sender, m.ack);
        this.d.receipts(sender, m.ack);
      }
    }
    if (m.type === EMPTY_TYPE) return; // a pure ack: nothing to dedupe, never answered
    const refuseWith = (e: DidcommError) => this.refuse(e, m, sender ?? m.from, sender !== undefined);
    try {
      checkTimes(m, Math.floor(this.d.clock.now() / 1000), this.d.clockSkewSeconds);
    } catch (e) {
      return void (await refuseWith(asError(e)));
    }
    const verdict = await this.d.dedupe.check(sender ?? `anon:${m.from ?? ''}`, m);
    if (verdict.kind === 'too-old') {
      // A mediator's queue hands out old copies by design: drop them quietly (an answer per copy
      // would be traffic that can feed on itself); only a direct sender hears about it.
      if (via.pickup) return void this.stats.replays++;
      return void (await refuseWith(err('ERR_EXPIRED', `message ${m.id}: ${verdict.reason}`)));
    }
    if (verdict.kind === 'replay') {
      this.stats.replays++;
      if (via.pickup) return; // the mediator redelivered: already handled
      return void (await refuseWith(err('ERR_REPLAY', `message ${m.id} was already received`)));
    }
    if (verdict.kind === 'retry') {
      this.stats.duplicates++;
      await this.d.dedupe.noteRetry(verdict.record, m);
      const cached = verdict.record.stored.r;
      if (cached && sender) {
        const again = { ...cached, sent_count: sentCount(m) };
        await this.d.sendReply(sender, again);
      } else if (sender && wantsAck(m)) this.d.acks.ack(sender, m.id);
      return;
    }
    await this.d.dedupe.begin(verdict);
    this.stats.accepted++;
    if (sender && m.thid !== undefined && m.thid !== m.id) this.d.outbox.acknowledge(sender, [m.thid]);
    const inbound: InboundMessage = { message: m, meta: r.meta, sender, via: via.pickup ? 'pickup' : via.name, redelivered: verdict.redelivered };
    let reply: Message | undefined;
    const handler = this.handlers.get(m.type);
    try {
      if (handler) {
        const draft = await handler(inbound);
        if (draft && sender) reply = this.complete(draft, m, sender);
      } else if (!this.d.waiters.deliver(m, sender)) {
        throw err('ERR_UNKNOWN_TYPE', `no handler for ${m.type.slice(0, 200)}`);
      }
      this.d.emit('message', inbound);
    } catch (e) {
      reply = this.problemFor(e, m, sender ?? m.from, sender !== undefined);
    }
    // a reply acknowledges the request; a refusal does not (the sender must not count it delivered)
    if (reply && sender && wantsAck(m) && reply.type !== PROBLEM_REPORT_TYPE) reply.ack = [m.id];
    if (reply && (sender ?? m.from)) await this.d.sendReply((sender ?? m.from)!, reply);
    else if (sender && wantsAck(m)) this.d.acks.ack(sender, m.id);
    await this.d.dedupe.complete(verdict.record, reply);
  }

  private async forwarded(m: Message, sender: string | undefined, via: Via, depth: number): Promise<void> {
    let inner: Uint8Array;
    try {
      const f = parseForward(m);
      if (f.next.split('#')[0] !== this.d.self) throw err('ERR_REFUSED', 'this agent is not a mediator');
      if (depth >= MAX_FORWARD_DEPTH) throw err('ERR_MALFORMED', 'forwards nested too deep');
      inner = f.inner;
    } catch (e) {
      return this.refuse(asError(e), m, sender ?? m.from, sender !== undefined);
    }
    return this.process(inner, via, depth + 1);
  }

  /** Fills a handler's reply: id, thread, from, to, created_time. */
  private complete(draft: ReplyDraft, request: Message, to: string): Message {
    const m = { ...draft } as Message;
    m.id ??= newMessageId(this.d.ctx.crypto);
    m.thid ??= request.thid ?? request.id;
    m.from = this.d.self;
    m.to = [to];
    m.created_time ??= Math.floor(this.d.clock.now() / 1000);
    return m;
  }

  /** The problem report answering a failed handler (never for a problem report). */
  private problemFor(e: unknown, m: Message, target: string | undefined, authenticated: boolean): Message | undefined {
    const error = isDidcommError(e) ? e : err('ERR_REFUSED', 'internal error');
    this.stats.refused++;
    const answer = target !== undefined && target !== this.d.self && m.type !== PROBLEM_REPORT_TYPE && (authenticated || !this.limited(target));
    this.d.emit('problem', { code: isDidcommError(e) ? error.problemCode : 'e.p.me', direction: answer ? 'sent' : 'local', peer: target, pthid: m.thid ?? m.id, error });
    if (!answer) return undefined;
    const id = newMessageId(this.d.ctx.crypto);
    const created = Math.floor(this.d.clock.now() / 1000);
    if (!isDidcommError(e)) return problemReport({ id, code: 'e.p.me', pthid: m.thid ?? m.id, comment: 'internal error', from: this.d.self, to: [target], createdTime: created });
    return problemReportFor(error, m, { id, from: this.d.self, to: [target], createdTime: created });
  }

  /** Refuses a message we could open: a problem report to its sender, unless it is one itself. */
  private async refuse(e: DidcommError, m: Pick<Message, 'id' | 'thid' | 'type'>, target: string | undefined, authenticated: boolean): Promise<void> {
    this.stats.refused++;
    const pthid = m.thid ?? m.id;
    const answerable = target !== undefined && target !== this.d.self && m.type !== PROBLEM_REPORT_TYPE && m.type !== EMPTY_TYPE;
    if (!answerable || (!authenticated && this.limited(target))) {
      this.d.emit('problem', { code: e.problemCode, direction: 'local', peer: target, pthid, error: e });
      return;
    }
    this.d.emit('problem', { code: e.problemCode, direction: 'sent', peer: target, pthid, error: e });
    const report = problemReportFor(e, m, { id: newMessageId(this.d.ctx.crypto), from: this.d.self, to: [target], createdTime: Math.floor(this.d.clock.now() / 1000) });
    await this.d.sendReply(target, report).catch((x: unknown) => this.d.emit('error', asError(x)));
  }

  /**
   * A frame that did not open: answer its claimed sender, if it names one. On a shared medium a
   * frame we cannot open is usually someone else's: answered only when it is provably ours (a
   * pairwise replay, authenticated by the context).
   */
  private async unopened(e: DidcommError, bytes: Uint8Array, via: Via): Promise<void> {
    const p = peekFrame(this.d.ctx, bytes, this.d.pairwise, this.d.self);
    if (via.shared && !p.authenticated) {
      this.d.emit('problem', { code: e.problemCode, direction: 'local', peer: p.sender, pthid: p.thid ?? p.id, error: e });
      return;
    }
    const pthid = p.thid ?? p.id ?? `frame-${toHex(this.d.ctx.crypto.sha256(bytes).subarray(0, 8))}`;
    await this.refuse(e, { id: pthid, type: p.type ?? '' }, p.sender, false);
  }

  /** Rate limit for reports answering unauthenticated frames (per claimed sender). */
  private limited(target: string): boolean {
    const now = this.d.clock.now();
    const last = this.lastReport.get(target);
    if (last !== undefined && now - last < this.d.unauthenticatedReportIntervalMs) return true;
    this.lastReport.delete(target);
    this.lastReport.set(target, now);
    if (this.lastReport.size > 256) this.lastReport.delete(this.lastReport.keys().next().value as string);
    return false;
  }
}

/** Whether `m` asks for an ack of itself (`please_ack` with "" or its own id). */
export function wantsAck(m: Message): boolean {
  return Array.isArray(m.please_ack) && m.please_ack.some((x) => x === '' || x === m.id);
}

function asError(e: unknown): DidcommError {
  return isDidcommError(e) ? e : err('ERR_MALFORMED', e instanceof Error ? e.message : String(e), { cause: e });
}
