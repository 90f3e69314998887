/**
 * Turning a plaintext into bytes on a link (DIDComm v2.1 §Routing, DESIGN.md §3): pack it per the
 * peer's send plan (format, mode, signature, compact hints), wrap it in `forward` messages for
 * each mediator on the way (routing keys in reverse order, each hop anoncrypted), check it fits
 * the link and the peer's `max_receive_bytes`, and hand it to the link's queue. Packing happens
 * when the link is free, so every transmission is a fresh envelope (new pairwise sequence number
 * or HPKE/JWE ephemeral key) — a retry never resends an old frame.
 */
import { newMessageId } from '../message/ids.js';
import { err } from '../errors.js';
import { pack, type EnvelopeContext } from '../envelope/index.js';
import type { PairwiseSessions } from '../envelope/compact/pairwise-sessions.js';
import { wrapInForwards } from '../routing/forward.js';
import type { Message } from '../message/message.js';
import { PRIORITY_CONTROL, PRIORITY_DATA } from './link-queue.js';
import type { PeerDirectory, Purpose, SendPlan } from './peers.js';
import type { TelemetrySigning } from './types.js';

export interface RouterStats {
  packed: number;
  forwarded: number;
  bytes: number;
}

export interface TransmitResult {
  bytes: number;
  plan: SendPlan;
  /** Id of the authenticated outer forward: our own mediator's receipt acks it once stored. */
  receiptId?: string;
}

export class Router {
  readonly stats: RouterStats = { packed: 0, forwarded: 0, bytes: 0 };
  private readonly ctx: EnvelopeContext;
  private readonly pairwise: PairwiseSessions;
  private readonly peers: PeerDirectory;
  private readonly self: string;

  constructor(ctx: EnvelopeContext, pairwise: PairwiseSessions, peers: PeerDirectory, self: string) {
    this.ctx = ctx;
    this.pairwise = pairwise;
    this.peers = peers;
    this.self = self;
  }

  private newId(): string {
    return newMessageId(this.ctx.crypto);
  }

  /** Packs `message` for `plan` (and wraps it for the mediators on the way); checks it fits. */
  async packFor(message: Message, plan: SendPlan, receipt?: { id?: string }): Promise<Uint8Array> {
    const bytes = await this.packRaw(message, plan, true, receipt);
    const limit = this.limitOf(plan);
    if (bytes.length > limit) {
      throw err('ERR_TOO_LARGE', `message of ${bytes.length} B exceeds the ${limit} B that link ${plan.link.name} / the peer accept`);
    }
    return bytes;
  }

  private limitOf(plan: SendPlan): number {
    return Math.min(plan.link.queue.transport.mtu, plan.maxBytes ?? Infinity);
  }

  /**
   * The size `message` would have on the wire to `peer`, and the most the link / peer take (used
   * to size telemetry batches so that even a retry, with its `sent_count`, fits one frame).
   */
  async measure(peer: string, message: Message, o: { purpose?: Purpose; telemetry?: TelemetrySigning } = {}): Promise<{ bytes: number; limit: number }> {
    const plan = this.peers.plan(peer, o.purpose ?? 'message', o.telemetry);
    const bytes = await this.packRaw(message, plan, false);
    return { bytes: bytes.length, limit: this.limitOf(plan) };
  }

  private async packRaw(message: Message, plan: SendPlan, count = true, receipt?: { id?: string }): Promise<Uint8Array> {
    const packed = await pack(this.ctx, message, {
      mode: plan.mode,
      format: plan.format,
      to: [plan.peer],
      ...(plan.mode !== 'anoncrypt' || plan.sign ? { from: this.self } : {}),
      ...(plan.sign ? { sign: true } : {}),
      ...(plan.hints ? { hints: plan.hints } : {}),
      ...(plan.mode === 'pairwise' ? { pairwise: this.pairwise } : {}),
      ...(plan.mode === 'signed' ? { receiverDid: plan.peer } : {}),
    });
    if (count) this.stats.packed++;
    let bytes = packed.bytes;
    if (plan.routingKeys.length > 0) {
      const mediators = new Set(plan.routingKeys.map((k) => k.split('#')[0]!));
      bytes = await wrapInForwards(this.ctx, bytes, {
        recipient: plan.peer,
        routingKeys: plan.routingKeys,
        format: plan.link.constrained ? 'compact' : plan.format,
        ...(plan.hints ? { hints: { length: plan.hints.length, known: (d: string) => mediators.has(d) } } : {}),
        // On a radio to our own mediator, authenticate the outer forward: the gateway learns we are
        // awake (and can hand us our mail) and its receipt tells us the payload is stored.
        ...(plan.link.constrained && plan.routingKeys.length === 1 && this.peers.ownMediator === plan.routingKeys[0]!.split('#')[0] ? { authenticateOuter: { from: this.self }, ...(receipt ? { outerId: (receipt.id = this.newId()) } : {}) } : {}),
      });
      if (count) this.stats.forwarded++;
    }
    return bytes;
  }

  /**
   * Sends `build()` to `peer` when its link is free. `build` may return undefined (nothing left
   * to send, e.g. acks already carried by an earlier message).
   */
  async send(peer: string, build: () => Message | undefined, o: { purpose?: Purpose; telemetry?: TelemetrySigning; control?: boolean; fullSelf?: boolean } = {}): Promise<TransmitResult> {
    const plan = this.peers.plan(peer, o.purpose ?? 'message', o.telemetry);
    const full: SendPlan | undefined = o.fullSelf && plan.hints ? { ...plan, hints: { length: plan.hints.length, known: (d) => d === peer } } : undefined;
    const receipt: { id?: string } = {};
    const bytes = await plan.link.queue.send(
      plan.address,
      async () => {
        const m = build();
        if (!m) return undefined;
        if (full) {
          // our full DID if it still fits the link, else the hint as before
          const b = await this.packRaw(m, full, true, receipt);
          if (b.length <= this.limitOf(full)) return b;
        }
        return this.packFor(m, plan, receipt);
      },
      o.control ? PRIORITY_CONTROL : PRIORITY_DATA,
    );
    this.stats.bytes += bytes;
    return { bytes, plan, ...(receipt.id !== undefined ? { receiptId: receipt.id } : {}) };
  }
}
