/**
 * Receiving side of the fragmentation layer: reassembly under loss, duplication and reordering,
 * with bounded memory, and the receiver half of SCHC ACK-on-error (RFC 8724 §8.4.3.2).
 *
 * Partial messages are keyed by (sender link address, message id). A fragment joins a message only
 * under that key, and a completed message is delivered only if its CRC-32 (carried by the last
 * fragment, computed over the message id and the message) matches, so fragments of two messages
 * can never be delivered mixed. Limits: bytes per message (`maxMessageSize`, else REFUSE),
 * partial messages per peer and overall, buffered bytes overall (the least recently active
 * partial is evicted, reported as ERR_STORE_FULL), and an inactivity timeout per partial
 * (`reassemblyTimeoutMs`, reported as ERR_TIMEOUT).
 *
 * Completed messages are remembered for `dedupeMs` after the last sign of them (at most
 * `maxCompleted` of them, only their CRC): their late or duplicated fragments are dropped, and a
 * duplicate last fragment or a PROBE is answered with the ACK again. A last fragment with another CRC means the id was reused: the
 * record is dropped and a new message starts.
 *
 * Ack-on-error (A bit set): once the last fragment is known, if fragments are missing after
 * `requestDelayMs` of quiet (stretched to twice the observed gap between fragments), send
 * REQUEST frames with a bitmap of the missing ones (at most `maxRequestFramesPerRound` frames per
 * round); again after each burst of repairs; and at once when a PROBE arrives. When complete, send
 * an ACK carrying the CRC. A failed integrity check discards the fragments and asks for all again.
 */
import { err, type DidcommError } from '../../src/errors.js';
import type { Clock, Timer } from '../../src/util/clock.js';
import type { LinkAddress } from '../types.js';
import {
  encodeAck,
  encodeRefuse,
  encodeMissingRequests,
  messageCrc,
  REFUSE_TOO_LARGE,
  type DataFragment,
  type ProbeFrame,
} from './header.js';
import type { OutboundQueue } from './outbound.js';

export interface ReassemblerConfig {
  clock: Clock;
  queue: OutboundQueue;
  innerMtu(): number;
  maxMessageSize: number;
  maxPartials: number;
  maxPartialsPerPeer: number;
  maxBufferedBytes: number;
  reassemblyTimeoutMs: number;
  requestDelayMs: number;
  dedupeMs: number;
  maxCompleted: number;
  maxRequestFramesPerRound: number;
  deliver(message: Uint8Array, from: LinkAddress | undefined): void;
  error(e: DidcommError): void;
}

export interface ReassemblerStats {
  delivered: number;
  /** Fragments dropped as duplicates (of a stored fragment or of a completed message). */
  duplicates: number;
  requestFrames: number;
  acks: number;
  expired: number;
  evicted: number;
  integrityFailures: number;
}

interface PartialMessage {
  key: string;
  peerKey: string;
  from: LinkAddress | undefined;
  id: number;
  ackWanted: boolean;
  fragments: Map<number, Uint8Array>;
  bytes: number;
  lastIndex: number | undefined;
  crc: number;
  maxIndex: number;
  /** Time of the last new fragment (not duplicates). */
  lastArrival: number;
  /** New fragments stored so far, and the count when the last REQUEST round went out. */
  arrivals: number;
  arrivalsAtRequest: number;
  lastGap: number;
  lastTouched: number;
  expiryTimer: Timer | undefined;
  quietTimer: Timer | undefined;
  quietDue: number;
  round: number;
}

interface CompletedRecord {
  crc: number;
  refused: boolean;
  at: number;
}

export class Reassembler {
  readonly stats: ReassemblerStats = { delivered: 0, duplicates: 0, requestFrames: 0, acks: 0, expired: 0, evicted: 0, integrityFailures: 0 };
  private readonly config: ReassemblerConfig;
  private readonly partials = new Map<string, PartialMessage>();
  private readonly completed = new Map<string, CompletedRecord>();
  private buffered = 0;

  constructor(config: ReassemblerConfig) {
    this.config = config;
  }

  /** Sizes of the internal tables (for tests and monitoring). */
  get tables(): { partials: number; bufferedBytes: number; completed: number } {
    return { partials: this.partials.size, bufferedBytes: this.buffered, completed: this.completed.size };
  }

  handleData(f: DataFragment, from: LinkAddress | undefined): void {
    const peerKey = from ?? '';
    const k = key(f.id, peerKey);
    const done = this.lookupCompleted(k);
    let p = this.partials.get(k);
    if (done) {
      if (done.refused) {
        if (f.ackWanted && f.last) this.sendControl(from, encodeRefuse(f.id, REFUSE_TOO_LARGE));
        return;
      }
      if (f.last ? f.crc === done.crc : !p) {
        this.stats.duplicates++;
        if (f.last && f.ackWanted) this.sendAck(from, f.id, done.crc);
        return;
      }
      // A last fragment with another CRC (or a fragment for the partial one started): a new message
      // under a reused id, e.g. after the sender restarted. The record stays until it completes,
      // so a damaged frame can never make the old message deliverable twice.
    }
    // Each non-last fragment carries at least one byte, so index i means more than i bytes.
    if (f.index >= this.config.maxMessageSize + 1) return this.refuseNew(k, f.id, from, f.ackWanted);
    if (!p) p = this.createPartial(k, peerKey, from, f.id);
    const now = this.config.clock.now();
    p.ackWanted ||= f.ackWanted;
    if (f.last) {
      if (p.lastIndex !== undefined && (p.lastIndex !== f.index || p.crc !== f.crc)) {
        return this.config.error(err('ERR_MALFORMED', `fragment: conflicting last fragment for message ${f.id}`));
      }
      if (f.index < p.maxIndex) return this.config.error(err('ERR_MALFORMED', `fragment: last fragment ${f.index} below received ${p.maxIndex}`));
      p.lastIndex = f.index;
      p.crc = f.crc;
    } else if (p.lastIndex !== undefined && f.index >= p.lastIndex) {
      return this.config.error(err('ERR_MALFORMED', `fragment: fragment ${f.index} beyond the last (${p.lastIndex})`));
    }
    this.touch(p, now);
    if (p.fragments.has(f.index)) {
      this.stats.duplicates++;
      return;
    }
    if (p.bytes + f.payload.length > this.config.maxMessageSize) return this.refuse(p);
    this.makeRoom(f.payload.length, p);
    p.fragments.set(f.index, new Uint8Array(f.payload));
    p.bytes += f.payload.length;
    this.buffered += f.payload.length;
    p.maxIndex = Math.max(p.maxIndex, f.index);
    // Spacing between fragments of one burst; the wait for a repair burst is not a gap.
    p.lastGap = p.arrivals > p.arrivalsAtRequest ? now - p.lastArrival : 0;
    p.lastArrival = now;
    p.arrivals++;
    if (this.isComplete(p)) this.finish(p);
    else if (p.ackWanted && p.lastIndex !== undefined) this.armQuiet(p, now);
  }

  handleProbe(probe: ProbeFrame, from: LinkAddress | undefined): void {
    const peerKey = from ?? '';
    const k = key(probe.id, peerKey);
    const done = this.lookupCompleted(k);
    if (done) {
      if (done.refused) return this.sendControl(from, encodeRefuse(probe.id, REFUSE_TOO_LARGE));
      if (done.crc === probe.crc) return this.sendAck(from, probe.id, done.crc);
      // Another CRC: a new message under a reused id; handled beside the record, as for data.
    }
    if (probe.lastIndex >= this.config.maxMessageSize + 1) return this.refuseNew(k, probe.id, from, true);
    let p = this.partials.get(k);
    if (p && ((p.lastIndex !== undefined && (p.lastIndex !== probe.lastIndex || p.crc !== probe.crc)) || probe.lastIndex < p.maxIndex)) {
      this.remove(p);
      p = undefined;
    }
    p ??= this.createPartial(k, peerKey, from, probe.id);
    p.ackWanted = true;
    p.lastIndex = probe.lastIndex;
    p.crc = probe.crc;
    this.touch(p, this.config.clock.now());
    if (this.isComplete(p)) this.finish(p);
    else this.sendRequests(p);
  }

  /** Drops every partial message and cancels its timers. */
  close(): void {
    for (const p of [...this.partials.values()]) this.remove(p);
    this.completed.clear();
  }

  /** The live record for `k`, refreshed (a duplicate or PROBE shows the sender still cares). */
  private lookupCompleted(k: string): CompletedRecord | undefined {
    const rec = this.completed.get(k);
    if (!rec) return undefined;
    const now = this.config.clock.now();
    if (rec.at + this.config.dedupeMs <= now) {
      this.completed.delete(k);
      return undefined;
    }
    this.remember(k, { ...rec, at: now });
    return rec;
  }

  private remember(k: string, rec: CompletedRecord): void {
    this.completed.delete(k);
    this.completed.set(k, rec);
    const now = this.config.clock.now();
    for (const [old, r] of this.completed) {
      if (this.completed.size <= this.config.maxCompleted && r.at + this.config.dedupeMs > now) break;
      this.completed.delete(old);
    }
  }

  private createPartial(k: string, peerKey: string, from: LinkAddress | undefined, id: number): PartialMessage {
    let mine = 0;
    let oldestMine: PartialMessage | undefined;
    let oldest: PartialMessage | undefined;
    for (const p of this.partials.values()) {
      if (!oldest || p.lastTouched < oldest.lastTouched) oldest = p;
      if (p.peerKey !== peerKey) continue;
      mine++;
      if (!oldestMine || p.lastTouched < oldestMine.lastTouched) oldestMine = p;
    }
    if (oldestMine && mine >= this.config.maxPartialsPerPeer) this.evict(oldestMine);
    else if (oldest && this.partials.size >= this.config.maxPartials) this.evict(oldest);
    const now = this.config.clock.now();
    const p: PartialMessage = {
      key: k,
      peerKey,
      from,
      id,
      ackWanted: false,
      fragments: new Map(),
      bytes: 0,
      lastIndex: undefined,
      crc: 0,
      maxIndex: -1,
      lastArrival: now,
      lastGap: 0,
      lastTouched: now,
      expiryTimer: undefined,
      quietTimer: undefined,
      quietDue: 0,
      round: 0,
      arrivals: 0,
      arrivalsAtRequest: 0,
    };
    this.partials.set(k, p);
    this.touch(p, now);
    return p;
  }

  /** Evicts least recently active partials (other than `keep`) until `bytes` more fit. */
  private makeRoom(bytes: number, keep: PartialMessage): void {
    while (this.buffered + bytes > this.config.maxBufferedBytes) {
      let oldest: PartialMessage | undefined;
      for (const p of this.partials.values()) if (p !== keep && p.bytes > 0 && (!oldest || p.lastTouched < oldest.lastTouched)) oldest = p;
      if (!oldest) return;
      this.evict(oldest);
    }
  }

  private evict(p: PartialMessage): void {
    this.stats.evicted++;
    this.remove(p);
    this.config.error(err('ERR_STORE_FULL', `fragment: reassembly table full, dropped partial message ${p.id}`));
  }

  private remove(p: PartialMessage): void {
    if (this.partials.get(p.key) !== p) return;
    this.partials.delete(p.key);
    this.buffered -= p.bytes;
    p.expiryTimer?.cancel();
    p.quietTimer?.cancel();
    p.expiryTimer = undefined;
    p.quietTimer = undefined;
  }

  private refuse(p: PartialMessage): void {
    this.remove(p);
    this.refuseNew(p.key, p.id, p.from, p.ackWanted);
  }

  /** Remembers the message as refused (its other fragments are dropped) and tells the sender. */
  private refuseNew(k: string, id: number, from: LinkAddress | undefined, ackWanted: boolean): void {
    const p = this.partials.get(k);
    if (p) this.remove(p);
    this.remember(k, { crc: 0, refused: true, at: this.config.clock.now() });
    this.config.error(err('ERR_TOO_LARGE', `fragment: message ${id} exceeds ${this.config.maxMessageSize} B, dropped`));
    if (ackWanted) this.sendControl(from, encodeRefuse(id, REFUSE_TOO_LARGE));
  }

  /** Records activity and (re)arms the inactivity timeout lazily. */
  private touch(p: PartialMessage, now: number): void {
    p.lastTouched = now;
    if (p.expiryTimer) return;
    const fire = (): void => {
      p.expiryTimer = undefined;
      if (this.partials.get(p.key) !== p) return;
      const left = p.lastTouched + this.config.reassemblyTimeoutMs - this.config.clock.now();
      if (left > 0) {
        p.expiryTimer = this.config.clock.setTimer(left, fire);
        return;
      }
      this.stats.expired++;
      this.remove(p);
      const of = p.lastIndex === undefined ? '?' : String(p.lastIndex + 1);
      this.config.error(err('ERR_TIMEOUT', `fragment: reassembly of message ${p.id} timed out (${p.fragments.size} of ${of} fragments)`));
    };
    p.expiryTimer = this.config.clock.setTimer(this.config.reassemblyTimeoutMs, fire);
  }

  /** Sends a REQUEST round once fragments stop arriving for a while. */
  private armQuiet(p: PartialMessage, now: number): void {
    const quiet = Math.min(Math.max(this.config.requestDelayMs, 2 * p.lastGap), this.config.reassemblyTimeoutMs / 2);
    p.quietDue = now + quiet;
    if (p.quietTimer) return;
    const fire = (): void => {
      p.quietTimer = undefined;
      if (this.partials.get(p.key) !== p) return;
      const left = p.quietDue - this.config.clock.now();
      if (left > 0) {
        p.quietTimer = this.config.clock.setTimer(left, fire);
        return;
      }
      if (!this.isComplete(p) && p.arrivals > p.arrivalsAtRequest) this.sendRequests(p);
    };
    p.quietTimer = this.config.clock.setTimer(quiet, fire);
  }

  private isComplete(p: PartialMessage): boolean {
    return p.lastIndex !== undefined && p.fragments.size === p.lastIndex + 1;
  }

  private finish(p: PartialMessage): void {
    const last = p.lastIndex!;
    const message = new Uint8Array(p.bytes);
    let at = 0;
    for (let i = 0; i <= last; i++) {
      const part = p.fragments.get(i)!;
      message.set(part, at);
      at += part.length;
    }
    this.remove(p);
    if (messageCrc(p.id, message) !== p.crc) {
      this.stats.integrityFailures++;
      this.config.error(err('ERR_MALFORMED', `fragment: integrity check failed for message ${p.id}, fragments discarded`));
      if (p.ackWanted) {
        const fresh = this.createPartial(p.key, p.peerKey, p.from, p.id);
        fresh.ackWanted = true;
        this.touch(fresh, this.config.clock.now());
        this.sendRequests(fresh);
      }
      return;
    }
    this.remember(p.key, { crc: p.crc, refused: false, at: this.config.clock.now() });
    if (p.ackWanted) this.sendAck(p.from, p.id, p.crc);
    this.stats.delivered++;
    this.config.deliver(message, p.from);
  }

  /** One REQUEST round: bitmaps of the missing fragments, lowest first. */
  private sendRequests(p: PartialMessage): void {
    p.round = (p.round + 1) & 0xff;
    p.arrivalsAtRequest = p.arrivals;
    const frames = encodeMissingRequests({
      id: p.id,
      round: p.round,
      have: (i) => p.fragments.has(i),
      lastIndex: p.lastIndex,
      maxIndex: p.maxIndex,
      mtu: this.config.innerMtu(),
      maxFrames: this.config.maxRequestFramesPerRound,
    });
    for (const frame of frames) {
      this.stats.requestFrames++;
      this.sendControl(p.from, frame);
    }
  }

  private sendAck(to: LinkAddress | undefined, id: number, crc: number): void {
    this.stats.acks++;
    this.sendControl(to, encodeAck(id, crc));
  }

  /** Control frames are best effort: if one is lost or fails, the sender's PROBE asks again. */
  private sendControl(to: LinkAddress | undefined, frame: Uint8Array): void {
    this.config.queue.push({ control: true, to, build: () => frame });
  }
}

function key(id: number, peerKey: string): string {
  return `${id}|${peerKey}`;
}
