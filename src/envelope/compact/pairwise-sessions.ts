/**
 * Persistent state of pairwise contexts (docs/compact.md §7.4–7.5): sender sequence numbers that
 * are never reused across restarts (reserved in blocks and persisted before use, as RFC 8613
 * Appendix B.1.1 suggests) and a receive replay window (highest seen + a 64-entry bitmap,
 * persisted on every accept so a frame from before a restart is still rejected).
 * Contexts come from DIDs on demand (derived from our X25519 secrets and the peer's DID) or are
 * provisioned ready-made (what an Espruino device holds).
 */
import { err } from '../../errors.js';
import { toHex } from '../../util/bytes.js';
import { didOf } from '../../did/document.js';
import { encodeCbor } from '../../cbor/encode.js';
import { decodeCbor } from '../../cbor/decode.js';
import type { EnvelopeContext } from '../types.js';
import { contextId, derivePairwiseContext, pairwiseHint, type PairwiseContext } from './pairwise.js';

/** The part of a KvStore this needs (src/store KvStore implementations satisfy it). */
export interface PairwiseStateStore {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, value: Uint8Array): Promise<void>;
}

export function memoryStateStore(): PairwiseStateStore {
  const m = new Map<string, Uint8Array>();
  return {
    get: async (k) => m.get(k),
    put: async (k, v) => {
      m.set(k, v);
    },
  };
}

export const REPLAY_WINDOW = 64;

interface SendState {
  next: number;
  reservedUpTo: number;
}

interface ReplayState {
  highest: number;
  /** Bit i set = (highest - i) was received, i in [0, 64). */
  bits: bigint;
}

export interface PairwiseSessionsOptions {
  store?: PairwiseStateStore;
  /** Sequence numbers reserved per store write (skipped after a crash). Default 16. */
  reserveBlock?: number;
}

export class PairwiseSessions {
  private readonly ctx: EnvelopeContext;
  private readonly store: PairwiseStateStore;
  private readonly block: number;
  private readonly byPeer = new Map<string, PairwiseContext>();
  private readonly byHint = new Map<number, PairwiseContext[]>();
  private readonly sending = new Map<string, Promise<SendState>>();
  private readonly replay = new Map<string, ReplayState>();
  private derivedAll = -1;

  constructor(ctx: EnvelopeContext, o: PairwiseSessionsOptions = {}) {
    this.ctx = ctx;
    this.store = o.store ?? memoryStateStore();
    this.block = o.reserveBlock ?? 16;
  }

  /** Adds a ready-made context (provisioned devices). */
  add(c: PairwiseContext): void {
    const key = `${c.selfDid} ${c.peerDid}`;
    if (this.byPeer.has(key)) return;
    this.byPeer.set(key, c);
    const list = this.byHint.get(pairwiseHint(c)) ?? [];
    list.push(c);
    this.byHint.set(pairwiseHint(c), list);
  }

  /** The context between one of our DIDs and a peer DID, derived from their X25519 keys. */
  contextFor(selfDid: string, peerDid: string): PairwiseContext {
    const existing = this.byPeer.get(`${selfDid} ${peerDid}`);
    if (existing) return existing;
    const peerKey = this.ctx.resolver.keyAgreementKeys(peerDid).find((k) => k.curve === 'X25519');
    if (!peerKey) throw err('ERR_UNSUPPORTED', `pairwise: ${peerDid} has no X25519 keyAgreement key`);
    const own = this.ctx.resolver.document(selfDid).keyAgreement.map((kid) => this.ctx.secrets.get(kid)).find((s) => s?.curve === 'X25519');
    if (!own) throw err('ERR_SECRET_NOT_FOUND', `pairwise: no X25519 secret for ${selfDid}`);
    const c = derivePairwiseContext(this.ctx.crypto, { did: selfDid, privateKey: own.privateKey, publicKey: own.publicKey }, { did: peerDid, publicKey: peerKey.bytes });
    this.add(c);
    return c;
  }

  /**
   * Contexts whose hint matches. If none is known yet, derives the contexts between our DIDs and
   * every DID the resolver knows (once per change in that set), so a controller or mediator can
   * receive from any provisioned peer without registering it first.
   */
  candidates(hint: number): PairwiseContext[] {
    const hit = this.byHint.get(hint);
    if (hit?.length) return hit;
    const known = this.ctx.resolver.knownDids();
    if (known.length !== this.derivedAll) {
      this.derivedAll = known.length;
      const own = [...new Set(this.ctx.secrets.kids().map(didOf))];
      for (const self of own) {
        for (const peer of known) {
          if (peer === self) continue;
          try {
            this.contextFor(self, peer);
          } catch {
            // peers without X25519 keys simply have no pairwise context
          }
        }
      }
    }
    return this.byHint.get(hint) ?? [];
  }

  /** The next sequence number for sending; persisted ahead of use, never reused. */
  async nextSeq(c: PairwiseContext): Promise<number> {
    const id = contextId(c);
    const prev = this.sending.get(id) ?? this.loadSend(id);
    let seq = -1;
    const p = prev.then(async (s) => {
      if (s.next >= s.reservedUpTo) {
        const reservedUpTo = s.next + this.block;
        await this.store.put(`pairwise/send/${id}`, encodeCbor(reservedUpTo));
        s.reservedUpTo = reservedUpTo;
      }
      seq = s.next++;
      return s;
    });
    this.sending.set(id, p);
    try {
      await p;
    } catch (e) {
      // A failed reservation must not poison later sends: reload the persisted state next time.
      if (this.sending.get(id) === p) this.sending.delete(id);
      throw e;
    }
    return seq;
  }

  private async loadSend(id: string): Promise<SendState> {
    const raw = await this.store.get(`pairwise/send/${id}`);
    const reserved = raw ? Number(decodeCbor(raw)) : 0;
    return { next: reserved, reservedUpTo: reserved };
  }

  private async loadReplay(id: string): Promise<ReplayState> {
    let s = this.replay.get(id);
    if (s) return s;
    const raw = await this.store.get(`pairwise/recv/${id}`);
    if (raw) {
      const v = decodeCbor(raw) as [number, Uint8Array];
      s = { highest: v[0], bits: BigInt('0x' + (toHex(v[1]) || '0')) };
    } else s = { highest: -1, bits: 0n };
    this.replay.set(id, s);
    return s;
  }

  /** Throws ERR_REPLAY if `seq` was already accepted or is older than the window. */
  async checkReplay(c: PairwiseContext, seq: number): Promise<void> {
    const s = await this.loadReplay(contextId(c));
    if (seq > s.highest) return;
    const age = s.highest - seq;
    if (age >= REPLAY_WINDOW) throw err('ERR_REPLAY', `pairwise: sequence ${seq} is older than the replay window`);
    if ((s.bits >> BigInt(age)) & 1n) throw err('ERR_REPLAY', `pairwise: sequence ${seq} already received`);
  }

  /** Records an accepted sequence number (after successful decryption) and persists the window. */
  async commitReplay(c: PairwiseContext, seq: number): Promise<void> {
    const id = contextId(c);
    const s = await this.loadReplay(id);
    const mask = (1n << BigInt(REPLAY_WINDOW)) - 1n;
    if (seq > s.highest) {
      const shift = seq - s.highest;
      s.bits = shift >= REPLAY_WINDOW ? 1n : ((s.bits << BigInt(shift)) | 1n) & mask;
      s.highest = seq;
    } else s.bits |= 1n << BigInt(s.highest - seq);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, s.bits);
    await this.store.put(`pairwise/recv/${id}`, encodeCbor([s.highest, bytes]));
  }
}
