/**
 * FragmentTransport: wraps any frame Transport (LoRa, BLE NUS, an in-memory link; inner mtu down
 * to 8 bytes, designed for 20) into a Transport whose mtu is a whole message (`maxMessageSize`,
 * default 64 KiB). Wire format in `header.ts`, the exchange and the limits in README.md.
 *
 * - `send(message, to)` fragments the message. In 'ack-on-error' mode (default, for two-way links)
 *   it resolves when the receiver ACKs the whole message, after selective repairs (SCHC
 *   ACK-on-error, RFC 8724 §8.4.3), and rejects with ERR_TIMEOUT after `maxRounds` rounds without
 *   an ACK, so an agent outbox can retry later. In 'one-way' mode (beacons, broadcast) it
 *   resolves once every fragment is on the link. `sendOneWay` forces one-way for a single send.
 * - Inbound fragments of either mode are reassembled and emitted as one 'frame' per message.
 *   Undecodable frames are reported as 'error' ERR_MALFORMED and dropped.
 * - The inner link's duty cycle is respected (`outbound.ts`); `sendDelay(size)` estimates when the
 *   last fragment of a `size`-byte message would be on the link.
 * - `state` follows the inner link; `close()` rejects pending sends with ERR_TRANSPORT and, unless
 *   `closeInner` is false, closes the inner link.
 */
import { err, wrapErrors, type DidcommError } from '../../src/errors.js';
import { abytes, astring } from '../../src/util/bytes.js';
import { systemClock, type Clock } from '../../src/util/clock.js';
import { Emitter } from '../../src/util/emitter.js';
import type { LinkAddress, Transport, TransportEvents, TransportState } from '../types.js';
import { decodeFrame, fragmentCount, MAX_FRAGMENT_INDEX, MAX_MESSAGE_ID, MIN_INNER_MTU } from './header.js';
import { OutboundQueue } from './outbound.js';
import { Reassembler, type ReassemblerStats } from './reassembler.js';
import { FragmentSender, type SenderStats } from './sender.js';

export type FragmentMode = 'ack-on-error' | 'one-way';

export interface FragmentTransportOptions {
  clock?: Clock;
  /** Default for `send` (default 'ack-on-error'). */
  mode?: FragmentMode;
  /** Largest message, bytes; this transport's mtu (default 65536). */
  maxMessageSize?: number;
  /** Sender: wait for an answer after the last transmission before probing (default 2000 ms). */
  ackTimeoutMs?: number;
  /** Sender: PROBEs in a row with no answer before giving up with ERR_TIMEOUT (default 8). */
  maxRounds?: number;
  /** Sender: repair rounds in all before giving up with ERR_TIMEOUT (default 32). */
  maxRepairRounds?: number;
  /** Sender: messages held at once (default 8) and per peer (default 4, at most 16). */
  maxInFlight?: number;
  maxInFlightPerPeer?: number;
  /** Receiver: quiet time before asking for missing fragments (default 250 ms). */
  requestDelayMs?: number;
  /** Receiver: a partial message with no fragment for this long is dropped (default 60000 ms). */
  reassemblyTimeoutMs?: number;
  /** Receiver: partial messages at once (default 16) and per peer (default 4). */
  maxPartials?: number;
  maxPartialsPerPeer?: number;
  /** Receiver: bytes buffered in partial messages overall (default 256 KiB, >= maxMessageSize). */
  maxBufferedBytes?: number;
  /**
   * Receiver: how long a completed message is remembered (to drop its duplicates and re-ACK its
   * PROBEs); refreshed by each duplicate or PROBE. Default ackTimeoutMs * (maxRounds + 1), so it
   * outlives the sender's retries. The sender does not reuse a message id for dedupeMs +
   * ackTimeoutMs after an ACK.
   */
  dedupeMs?: number;
  /** Receiver: completed messages remembered at most (default 64). */
  maxCompleted?: number;
  /** Receiver: REQUEST frames per round at most (default 4). */
  maxRequestFramesPerRound?: number;
  /** Wait when the inner link rejects ERR_DUTY_CYCLE without retryAfterMs (default 1000 ms). */
  defaultRetryAfterMs?: number;
  /** First message id (0..31) for each peer (default derived from the clock). */
  firstMessageId?: number;
  /** Close the inner transport on close() (default true). */
  closeInner?: boolean;
}

export interface FragmentStats {
  sender: SenderStats;
  receiver: ReassemblerStats;
  /** Control frames (ACK / REQUEST / PROBE / REFUSE) handed to the inner link. */
  controlFrames: number;
  /** Inbound frames that did not decode. */
  malformed: number;
}

/** Sizes of the bounded internal tables. */
export interface FragmentTables {
  inFlight: number;
  trackedPeers: number;
  partials: number;
  bufferedBytes: number;
  completed: number;
  queuedFrames: number;
}

type LinkEvents = { [K in keyof TransportEvents]: TransportEvents[K] };

function positiveInt(value: number | undefined, fallback: number, label: string, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) throw err('ERR_ARGUMENT', `fragment: ${label} must be an integer >= ${min}`);
  return v;
}

export class FragmentTransport extends Emitter<LinkEvents> implements Transport {
  readonly kind = 'fragment';
  readonly mtu: number;
  readonly inner: Transport;
  private readonly mode: FragmentMode;
  private readonly clock: Clock;
  private readonly queue: OutboundQueue;
  private readonly sender: FragmentSender;
  private readonly reassembler: Reassembler;
  private readonly closeInner: boolean;
  private readonly unsubscribe: Array<() => void>;
  private malformed = 0;
  private closed = false;

  constructor(inner: Transport, options: FragmentTransportOptions = {}) {
    super();
    if (!inner || typeof inner.send !== 'function') throw err('ERR_ARGUMENT', 'fragment: inner must be a Transport');
    if (!Number.isInteger(inner.mtu) || inner.mtu < MIN_INNER_MTU) throw err('ERR_ARGUMENT', `fragment: inner mtu must be >= ${MIN_INNER_MTU}`);
    const mode = options.mode ?? 'ack-on-error';
    if (mode !== 'ack-on-error' && mode !== 'one-way') throw err('ERR_ARGUMENT', 'fragment: mode must be ack-on-error or one-way');
    this.inner = inner;
    this.mode = mode;
    this.clock = options.clock ?? systemClock;
    this.closeInner = options.closeInner ?? true;
    const maxMessageSize = positiveInt(options.maxMessageSize, 65_536, 'maxMessageSize', 0);
    if (fragmentCount(maxMessageSize, inner.mtu) > MAX_FRAGMENT_INDEX + 1) {
      throw err('ERR_ARGUMENT', `fragment: maxMessageSize ${maxMessageSize} needs more than ${MAX_FRAGMENT_INDEX + 1} fragments at mtu ${inner.mtu}`);
    }
    this.mtu = maxMessageSize;
    const ackTimeoutMs = positiveInt(options.ackTimeoutMs, 2000, 'ackTimeoutMs');
    const reassemblyTimeoutMs = positiveInt(options.reassemblyTimeoutMs, 60_000, 'reassemblyTimeoutMs');
    const maxRounds = positiveInt(options.maxRounds, 8, 'maxRounds');
    // A completed message must be remembered for as long as its sender may still probe for it.
    const dedupeMs = positiveInt(options.dedupeMs, ackTimeoutMs * (maxRounds + 1), 'dedupeMs');
    const maxBufferedBytes = positiveInt(options.maxBufferedBytes, Math.max(262_144, maxMessageSize), 'maxBufferedBytes');
    if (maxBufferedBytes < maxMessageSize) throw err('ERR_ARGUMENT', 'fragment: maxBufferedBytes must be >= maxMessageSize');
    const maxInFlightPerPeer = positiveInt(options.maxInFlightPerPeer, 4, 'maxInFlightPerPeer');
    if (maxInFlightPerPeer > 16) throw err('ERR_ARGUMENT', 'fragment: maxInFlightPerPeer must be <= 16 (5-bit message ids)');
    const firstId = options.firstMessageId ?? Math.floor(this.clock.now() / 1000) & MAX_MESSAGE_ID;
    if (!Number.isInteger(firstId) || firstId < 0 || firstId > MAX_MESSAGE_ID) throw err('ERR_ARGUMENT', 'fragment: firstMessageId must be 0..31');
    this.queue = new OutboundQueue(inner, this.clock, positiveInt(options.defaultRetryAfterMs, 1000, 'defaultRetryAfterMs'));
    const innerMtu = (): number => this.inner.mtu;
    this.sender = new FragmentSender({
      clock: this.clock,
      queue: this.queue,
      innerMtu,
      ackTimeoutMs,
      maxRounds,
      maxRepairRounds: positiveInt(options.maxRepairRounds, 32, 'maxRepairRounds'),
      maxInFlight: positiveInt(options.maxInFlight, 8, 'maxInFlight'),
      maxInFlightPerPeer,
      reuseAfterSuccessMs: dedupeMs + ackTimeoutMs,
      reuseAfterFailureMs: reassemblyTimeoutMs + ackTimeoutMs,
      firstId,
    });
    this.reassembler = new Reassembler({
      clock: this.clock,
      queue: this.queue,
      innerMtu,
      maxMessageSize,
      maxPartials: positiveInt(options.maxPartials, 16, 'maxPartials'),
      maxPartialsPerPeer: positiveInt(options.maxPartialsPerPeer, 4, 'maxPartialsPerPeer'),
      maxBufferedBytes,
      reassemblyTimeoutMs,
      requestDelayMs: positiveInt(options.requestDelayMs, 250, 'requestDelayMs', 0),
      dedupeMs,
      maxCompleted: positiveInt(options.maxCompleted, 64, 'maxCompleted'),
      maxRequestFramesPerRound: positiveInt(options.maxRequestFramesPerRound, 4, 'maxRequestFramesPerRound'),
      deliver: (message, from) => {
        if (!this.closed) this.emit('frame', message, from);
      },
      error: (e) => this.reportError(e),
    });
    this.unsubscribe = [
      inner.on('frame', (frame, from) => this.onInnerFrame(frame, from)),
      inner.on('error', (e) => this.reportError(e)),
      inner.on('state', (s) => this.onInnerState(s)),
    ];
  }

  get address(): LinkAddress | undefined {
    return this.inner.address;
  }

  get state(): TransportState {
    if (this.closed) return 'closed';
    return this.inner.state === 'online' ? 'online' : 'offline';
  }

  /** Counters: fragments sent and resent, probes, ACKs, REQUEST frames, duplicates... */
  get stats(): FragmentStats {
    return {
      sender: { ...this.sender.stats },
      receiver: { ...this.reassembler.stats },
      controlFrames: this.queue.sent.control,
      malformed: this.malformed,
    };
  }

  /** Current sizes of the bounded tables. */
  get tables(): FragmentTables {
    return { inFlight: this.sender.size, trackedPeers: this.sender.trackedPeers, ...this.reassembler.tables, queuedFrames: this.queue.length };
  }

  send(message: Uint8Array, to?: LinkAddress): Promise<void> {
    return this.sendWith(message, to, this.mode === 'ack-on-error');
  }

  /** Sends without acknowledgements (beacons, broadcast), whatever the configured mode. */
  sendOneWay(message: Uint8Array, to?: LinkAddress): Promise<void> {
    return this.sendWith(message, to, false);
  }

  /**
   * Estimated ms until the last fragment of a `size`-byte message is accepted by the inner link:
   * the inner link's current delay (or the duty-cycle wait in progress), plus the frames queued
   * ahead and this message's fragments times the pacing observed on the link. 0 on a free link.
   */
  sendDelay(size: number): number {
    if (this.closed || !Number.isFinite(size) || size < 0 || size > this.mtu) return 0;
    const mtu = this.inner.mtu;
    const frames = fragmentCount(Math.floor(size), mtu);
    const first = Math.max(this.queue.waitRemainingMs, this.inner.sendDelay(Math.min(mtu, size + 7)));
    return Math.ceil(first + (this.queue.length + frames - 1) * this.queue.pacingMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unsubscribe) off();
    this.sender.close();
    this.queue.close();
    this.reassembler.close();
    if (this.closeInner) await this.inner.close();
    this.emit('state', 'closed');
    this.removeAllListeners();
  }

  private async sendWith(message: Uint8Array, to: LinkAddress | undefined, ackWanted: boolean): Promise<void> {
    abytes(message, 'message');
    if (to !== undefined) astring(to, 'to');
    if (this.closed) throw err('ERR_TRANSPORT', 'fragment: transport is closed');
    if (message.length > this.mtu) throw err('ERR_TOO_LARGE', `fragment: message of ${message.length} B exceeds ${this.mtu} B`);
    if (this.inner.state !== 'online') throw err('ERR_TRANSPORT', `fragment: inner link is ${this.inner.state}`);
    if (this.inner.mtu < MIN_INNER_MTU) throw err('ERR_TRANSPORT', `fragment: inner mtu ${this.inner.mtu} is below ${MIN_INNER_MTU}`);
    return this.sender.send(message, to, ackWanted);
  }

  private onInnerFrame(frame: Uint8Array, from: LinkAddress | undefined): void {
    if (this.closed) return;
    let decoded;
    try {
      decoded = wrapErrors('ERR_MALFORMED', 'fragment', () => decodeFrame(frame));
    } catch (e) {
      this.malformed++;
      this.reportError(e as DidcommError);
      return;
    }
    switch (decoded.kind) {
      case 'data':
        return this.reassembler.handleData(decoded, from);
      case 'probe':
        return this.reassembler.handleProbe(decoded, from);
      default:
        // ACK / REQUEST / REFUSE for a message this end no longer holds are ignored (late copies).
        this.sender.handleControl(decoded, from);
    }
  }

  private onInnerState(state: TransportState): void {
    if (this.closed) return;
    if (state === 'closed') {
      void this.close();
      return;
    }
    this.emit('state', state);
  }

  private reportError(e: DidcommError): void {
    if (!this.closed) this.emit('error', e);
  }
}
