/**
 * Sending side of the fragmentation layer: splits a message into fragments (`header.ts`), keeps
 * the fragments of in-flight messages and runs the sender half of SCHC ACK-on-error
 * (RFC 8724 §8.4.3.1):
 *
 * - after the last fragment is on the link, wait `ackTimeoutMs` for the receiver;
 * - on a REQUEST, resend exactly the fragments its bitmap marks missing (each at most once per
 *   request round), then wait again;
 * - when the wait ends with no answer, send a PROBE (last index + CRC) so the receiver reports;
 * - on an ACK whose CRC matches, resolve; on a REFUSE, reject (ERR_TOO_LARGE / ERR_REFUSED);
 * - give up with ERR_TIMEOUT, freeing the message, after `maxRounds` PROBEs in a row that got no
 *   REQUEST back (the receiver is gone), or after `maxRepairRounds` repair rounds in all (data
 *   never gets through although the receiver answers). A REQUEST round is counted when it finds
 *   the sender idle; requests arriving during a repair burst join that burst.
 *
 * One-way messages (no A bit) resolve once every fragment is accepted by the inner link.
 *
 * Message ids are 5 bits per peer, allocated in sequence. An id is not reused for the same peer
 * while the receiver may still hold state for it: `reuseAfterSuccessMs` after an ACK (the
 * receiver's duplicate-suppression window) and `reuseAfterFailureMs` after a give-up (its
 * reassembly timeout). A send that finds no free id waits on the Clock for one.
 */
import { err, type DidcommError } from '../../src/errors.js';
import type { Clock, Timer } from '../../src/util/clock.js';
import type { LinkAddress } from '../types.js';
import {
  encodeData,
  encodeProbe,
  messageCrc,
  MAX_MESSAGE_ID,
  planFragments,
  REFUSE_TOO_LARGE,
  type AckFrame,
  type RefuseFrame,
  type RequestFrame,
} from './header.js';
import type { OutboundQueue } from './outbound.js';

export interface SenderConfig {
  clock: Clock;
  queue: OutboundQueue;
  /** The inner link's current mtu. */
  innerMtu(): number;
  ackTimeoutMs: number;
  /** PROBEs in a row without a REQUEST in between before giving up. */
  maxRounds: number;
  /** Repair rounds in all before giving up. */
  maxRepairRounds: number;
  maxInFlight: number;
  maxInFlightPerPeer: number;
  reuseAfterSuccessMs: number;
  reuseAfterFailureMs: number;
  /** First message id used for each peer. */
  firstId: number;
}

export interface SenderStats {
  messages: number;
  /** Data fragments accepted by the inner link, first transmissions and repairs. */
  dataFrames: number;
  /** Of which repairs answering a REQUEST. */
  retransmissions: number;
  probes: number;
  acked: number;
  failed: number;
}

interface OutgoingMessage {
  id: number;
  peerKey: string;
  to: LinkAddress | undefined;
  bytes: Uint8Array;
  crc: number;
  offsets: Uint32Array;
  count: number;
  ackWanted: boolean;
  /** Fragment indices waiting in the outbound queue. */
  queued: Set<number>;
  /** Indices already resent in the current request round. */
  resentThisRound: Set<number>;
  lastRequestRound: number | undefined;
  /** PROBEs since the last new REQUEST round. */
  silentRounds: number;
  repairRounds: number;
  ackTimer: Timer | undefined;
  settled: boolean;
  resolve(): void;
  reject(e: DidcommError): void;
}

interface PeerIds {
  next: number;
  /** Clock time from which each id may be used again. */
  reusableAt: number[];
}

const MAX_TRACKED_PEERS = 64;

export class FragmentSender {
  readonly stats: SenderStats = { messages: 0, dataFrames: 0, retransmissions: 0, probes: 0, acked: 0, failed: 0 };
  private readonly config: SenderConfig;
  private readonly inFlight = new Map<string, OutgoingMessage>();
  private readonly peers = new Map<string, PeerIds>();
  /** Sends waiting for a free id, per peer key. */
  private readonly waiting = new Map<string, number>();
  private closed = false;
  /** Wake-ups of sends waiting for an id (so close() ends them at once). */
  private readonly sleepers = new Set<() => void>();

  constructor(config: SenderConfig) {
    this.config = config;
  }

  /** Messages held (in flight or waiting for an id). */
  get size(): number {
    let w = 0;
    for (const n of this.waiting.values()) w += n;
    return this.inFlight.size + w;
  }

  /** Peers whose id state is tracked (bounded). */
  get trackedPeers(): number {
    return this.peers.size;
  }

  /**
   * Sends one message. Synchronous up to the point where the message holds an id (so the limits
   * see it at once); waits on the Clock only when every id for the peer is busy.
   */
  send(message: Uint8Array, to: LinkAddress | undefined, ackWanted: boolean): Promise<void> {
    const { config } = this;
    const peerKey = to ?? '';
    if (this.closed) throw err('ERR_TRANSPORT', 'fragment: transport is closed');
    if (this.size >= config.maxInFlight) throw err('ERR_STORE_FULL', `fragment: ${config.maxInFlight} messages already in flight`);
    if (this.peerLoad(peerKey) >= config.maxInFlightPerPeer) {
      throw err('ERR_STORE_FULL', `fragment: ${config.maxInFlightPerPeer} messages already in flight to this peer`);
    }
    const offsets = planFragments(message.length, config.innerMtu());
    const bytes = new Uint8Array(message);
    const id = this.allocate(peerKey);
    if (id >= 0) return this.start(id, peerKey, to, bytes, offsets, ackWanted);
    return this.startAfterWait(-id, peerKey, to, bytes, offsets, ackWanted);
  }

  private async startAfterWait(
    wait: number,
    peerKey: string,
    to: LinkAddress | undefined,
    bytes: Uint8Array,
    offsets: Uint32Array,
    ackWanted: boolean,
  ): Promise<void> {
    this.waiting.set(peerKey, (this.waiting.get(peerKey) ?? 0) + 1);
    let id: number;
    try {
      for (let ms = wait; ; ms = -id) {
        await this.wait(ms);
        if (this.closed) throw err('ERR_TRANSPORT', 'fragment: transport is closed');
        id = this.allocate(peerKey);
        if (id >= 0) break;
      }
    } finally {
      const n = (this.waiting.get(peerKey) ?? 1) - 1;
      if (n > 0) this.waiting.set(peerKey, n);
      else this.waiting.delete(peerKey);
    }
    return this.start(id, peerKey, to, bytes, offsets, ackWanted);
  }

  private start(id: number, peerKey: string, to: LinkAddress | undefined, bytes: Uint8Array, offsets: Uint32Array, ackWanted: boolean): Promise<void> {
    this.stats.messages++;
    return new Promise<void>((resolve, reject) => {
      const m: OutgoingMessage = {
        id,
        peerKey,
        to,
        bytes,
        crc: messageCrc(id, bytes),
        offsets,
        count: offsets.length - 1,
        ackWanted,
        queued: new Set(),
        resentThisRound: new Set(),
        lastRequestRound: undefined,
        silentRounds: 0,
        repairRounds: 0,
        ackTimer: undefined,
        settled: false,
        resolve,
        reject,
      };
      this.inFlight.set(key(id, peerKey), m);
      for (let i = 0; i < m.count; i++) this.queueFragment(m, i, false);
    });
  }

  /** Handles an ACK, REQUEST or REFUSE from `from`. Returns false when no message matches. */
  handleControl(frame: AckFrame | RequestFrame | RefuseFrame, from: LinkAddress | undefined): boolean {
    const m = this.inFlight.get(key(frame.id, from ?? '')) ?? this.inFlight.get(key(frame.id, ''));
    if (!m || m.settled) return false;
    switch (frame.kind) {
      case 'ack':
        if (frame.crc !== m.crc) return false;
        this.stats.acked++;
        this.settle(m);
        return true;
      case 'refuse':
        this.settle(
          m,
          frame.reason === REFUSE_TOO_LARGE
            ? err('ERR_TOO_LARGE', 'fragment: the receiver refused the message as too large')
            : err('ERR_REFUSED', `fragment: the receiver refused the message (reason ${frame.reason})`),
        );
        return true;
      case 'request':
        if (m.ackWanted) this.repair(m, frame);
        return true;
    }
  }

  /** Rejects every held message with ERR_TRANSPORT. Idempotent. */
  close(): void {
    this.closed = true;
    for (const wake of [...this.sleepers]) wake();
    for (const m of [...this.inFlight.values()]) this.settle(m, err('ERR_TRANSPORT', 'fragment: transport is closed'));
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        timer.cancel();
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = this.config.clock.setTimer(ms, wake);
      this.sleepers.add(wake);
    });
  }

  private peerLoad(peerKey: string): number {
    let n = this.waiting.get(peerKey) ?? 0;
    for (const m of this.inFlight.values()) if (m.peerKey === peerKey) n++;
    return n;
  }

  /** A free id for the peer, or minus the ms until one frees up. */
  private allocate(peerKey: string): number {
    const now = this.config.clock.now();
    let peer = this.peers.get(peerKey);
    if (!peer) {
      this.prunePeers(now);
      peer = { next: this.config.firstId & MAX_MESSAGE_ID, reusableAt: new Array<number>(MAX_MESSAGE_ID + 1).fill(0) };
      this.peers.set(peerKey, peer);
    }
    let soonest = Infinity;
    for (let k = 0; k <= MAX_MESSAGE_ID; k++) {
      const id = (peer.next + k) & MAX_MESSAGE_ID;
      if (this.inFlight.has(key(id, peerKey))) continue;
      const at = peer.reusableAt[id]!;
      if (at <= now) {
        peer.next = (id + 1) & MAX_MESSAGE_ID;
        return id;
      }
      soonest = Math.min(soonest, at - now);
    }
    // Every id is in flight: wait for the ack timeout, then look again.
    return -Math.max(1, Math.min(soonest, this.config.ackTimeoutMs));
  }

  private prunePeers(now: number): void {
    if (this.peers.size < MAX_TRACKED_PEERS) return;
    for (const [peerKey, peer] of this.peers) {
      if (this.peers.size < MAX_TRACKED_PEERS) return;
      if (this.peerLoad(peerKey) === 0 && peer.reusableAt.every((t) => t <= now)) this.peers.delete(peerKey);
    }
  }

  private queueFragment(m: OutgoingMessage, index: number, repair: boolean): boolean {
    if (m.queued.has(index)) return false;
    m.queued.add(index);
    this.config.queue.push({
      control: false,
      to: m.to,
      build: () =>
        encodeData({
          id: m.id,
          index,
          last: index === m.count - 1,
          ackWanted: m.ackWanted,
          crc: m.crc,
          payload: m.bytes.subarray(m.offsets[index]!, m.offsets[index + 1]!),
        }),
      cancelled: () => m.settled,
      onSent: () => {
        m.queued.delete(index);
        this.stats.dataFrames++;
        if (repair) this.stats.retransmissions++;
        this.afterTransmission(m);
      },
      onFailed: (e) =>
        this.settle(m, e.code === 'ERR_TOO_LARGE' ? err('ERR_TRANSPORT', 'fragment: the inner link mtu shrank under a message in flight', { cause: e }) : e),
    });
    return true;
  }

  private afterTransmission(m: OutgoingMessage): void {
    if (m.settled || m.queued.size > 0) return;
    if (!m.ackWanted) this.settle(m);
    else this.armAckTimer(m);
  }

  private armAckTimer(m: OutgoingMessage): void {
    m.ackTimer?.cancel();
    m.ackTimer = this.config.clock.setTimer(this.config.ackTimeoutMs, () => {
      m.ackTimer = undefined;
      if (m.settled || m.queued.size > 0) return;
      m.silentRounds++;
      if (m.silentRounds > this.config.maxRounds) {
        this.settle(m, err('ERR_TIMEOUT', `fragment: no answer from the receiver after ${this.config.maxRounds} probes`));
        return;
      }
      this.config.queue.push({
        control: true,
        to: m.to,
        build: () => encodeProbe(m.id, m.count - 1, m.crc),
        cancelled: () => m.settled,
        onSent: () => {
          this.stats.probes++;
          if (!m.settled && m.queued.size === 0) this.armAckTimer(m);
        },
        onFailed: (e) => this.settle(m, e),
      });
    });
  }


  private repair(m: OutgoingMessage, req: RequestFrame): void {
    if (m.lastRequestRound !== req.round) {
      m.lastRequestRound = req.round;
      m.resentThisRound.clear();
      m.silentRounds = 0;
      if (m.queued.size === 0) {
        m.repairRounds++;
        if (m.repairRounds > this.config.maxRepairRounds) {
          this.settle(m, err('ERR_TIMEOUT', `fragment: not complete after ${this.config.maxRepairRounds} repair rounds`));
          return;
        }
      }
    }
    let added = 0;
    for (let k = 0; k < req.bitmap.length * 8; k++) {
      const index = req.start + k;
      if (index >= m.count) break;
      if ((req.bitmap[k >> 3]! & (0x80 >> (k & 7))) === 0 || m.resentThisRound.has(index)) continue;
      m.resentThisRound.add(index);
      if (this.queueFragment(m, index, true)) added++;
    }
    if (added > 0) {
      m.ackTimer?.cancel();
      m.ackTimer = undefined;
    }
  }

  private settle(m: OutgoingMessage, error?: DidcommError): void {
    if (m.settled) return;
    m.settled = true;
    m.ackTimer?.cancel();
    this.inFlight.delete(key(m.id, m.peerKey));
    const peer = this.peers.get(m.peerKey);
    if (peer) {
      const wait = error ? this.config.reuseAfterFailureMs : this.config.reuseAfterSuccessMs;
      peer.reusableAt[m.id] = this.config.clock.now() + wait;
    }
    if (error) {
      this.stats.failed++;
      m.reject(error);
    } else {
      m.resolve();
    }
  }
}

function key(id: number, peerKey: string): string {
  return `${id}|${peerKey}`;
}
