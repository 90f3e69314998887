/**
 * What the agent knows about each peer and how it sends to it (DESIGN.md §3, DIDComm v2.1
 * §Routing, §Service Endpoint): provisioned configuration, state learnt and persisted (formats the
 * peer accepts from discover-features, its `max_receive_bytes`, whether it knows our DID), links
 * learnt from inbound traffic, and the send plan:
 *
 * - link: a configured direct link; else the link a message from that DID last arrived on; else
 *   through a mediator (the peer's DID document routing keys via `routeTo`, the peer's provisioned
 *   mediator, or our own mediator), wrapped in `forward`s.
 * - format: configured > learnt `accept` > the DID document service `accept` > compact on a
 *   constrained link > JSON. Pairwise implies compact.
 * - mode: pairwise for provisioned symmetric peers, authcrypt by default; telemetry signed
 *   (a signed envelope; anoncrypt(signed) when it must be forwarded) unless configured otherwise.
 * - compact hints: the receiver's own DID always; ours once the peer knows it (provisioned, or
 *   after it acknowledged a message from us).
 */
import { err } from '../errors.js';
import { fromUtf8, toHex, utf8 } from '../util/bytes.js';
import type { CryptoBackend } from '../crypto/types.js';
import type { KeyResolver } from '../did/resolver.js';
import { isDid } from '../did/document.js';
import type { PackMode, WireFormat } from '../envelope/index.js';
import type { CompactHints } from '../envelope/compact/pack.js';
import { ACCEPT_COMPACT } from '../protocols/discover-features.js';
import { routeTo } from '../routing/route.js';
import type { KvStore } from '../store/kv.js';
import type { LinkAddress } from '../../transports/types.js';
import type { LinkQueue } from './link-queue.js';
import type { LinkConfig, PeerConfig, TelemetrySigning } from './types.js';

export interface LinkRuntime {
  name: string;
  config: LinkConfig;
  queue: LinkQueue;
  constrained: boolean;
  /** Frames for others are heard on this link (a broadcast radio). */
  shared: boolean;
  ackTimeoutMs: number;
}

export interface PeerState {
  /** Formats the peer disclosed (`accept` feature type). */
  accept?: string[];
  maxReceiveBytes?: number;
  /** The peer knows our DID (it acknowledged a message from us). */
  knowsUs?: boolean;
  /** We received an authenticated message from it (its DID is known here: hints can name it). */
  seen?: boolean;
  /** The format of the last authenticated message it sent us: it reads what it writes. */
  speaks?: WireFormat;
}

export interface SendPlan {
  peer: string;
  link: LinkRuntime;
  address: LinkAddress | undefined;
  format: WireFormat;
  mode: PackMode;
  sign: boolean;
  hints: CompactHints | undefined;
  /** Wrap for these mediators (routing keys, outermost last) with `forward.next` = peer. */
  routingKeys: string[];
  /** Largest message the peer accepts, when known. */
  maxBytes: number | undefined;
}

export type Purpose = 'message' | 'telemetry';

export interface PeerDirectoryOptions {
  self: string;
  store: KvStore;
  resolver: KeyResolver;
  crypto: CryptoBackend;
  links: LinkRuntime[];
  peers: PeerConfig[];
  mediator: string | undefined;
  hintLength: number;
  telemetrySigning: TelemetrySigning;
  /** Links learnt from inbound traffic, remembered at most (default 256). */
  maxLearntRoutes?: number;
  /** Peers whose learnt state is persisted, at most (default 1000; others stay unknown). */
  maxPeerRecords?: number;
}

const PREFIX = 'peer/';

export class PeerDirectory {
  private readonly o: PeerDirectoryOptions;
  private mediator: string | undefined;
  private readonly configs = new Map<string, PeerConfig>();
  private readonly states = new Map<string, PeerState>();
  private readonly learnt = new Map<string, { link: LinkRuntime; address: LinkAddress | undefined }>();
  private readonly maxLearnt: number;
  private readonly maxRecords: number;

  constructor(o: PeerDirectoryOptions) {
    this.o = o;
    for (const p of o.peers) {
      if (!isDid(p.did)) throw err('ERR_ARGUMENT', `peer: ${String(p.did)} is not a DID`);
      this.configs.set(p.did, p);
    }
    this.maxLearnt = o.maxLearntRoutes ?? 256;
    this.maxRecords = o.maxPeerRecords ?? 1000;
    this.mediator = o.mediator;
  }

  /** Our own mediator (set by provisioning or after a mediation grant). */
  get ownMediator(): string | undefined {
    return this.mediator;
  }

  setMediator(did: string): void {
    this.mediator = did;
    this.warm(did);
  }

  private key(did: string): string {
    return PREFIX + toHex(this.o.crypto.sha256(utf8(did)).subarray(0, 10));
  }

  /** Loads learnt state and warms the resolver with every DID we talked to (compact hints name them). */
  async start(): Promise<void> {
    for (const { value } of await this.o.store.list(PREFIX, { limit: 10_000 })) {
      try {
        const { did, state } = JSON.parse(fromUtf8(value)) as { did: string; state: PeerState };
        this.states.set(did, state);
        this.warm(did);
      } catch {
        // a damaged record only loses learnt preferences
      }
    }
    for (const did of this.configs.keys()) this.warm(did);
    if (this.mediator) this.warm(this.mediator);
  }

  private warm(did: string): void {
    try {
      this.o.resolver.document(did);
    } catch {
      // unresolvable DIDs are simply not known
    }
  }

  config(did: string): PeerConfig | undefined {
    return this.configs.get(did);
  }

  state(did: string): PeerState {
    return this.states.get(did) ?? {};
  }

  /** Merges and persists learnt state (only when it changes; at most `maxPeerRecords` peers). */
  async update(did: string, patch: PeerState): Promise<void> {
    if (!this.states.has(did) && !this.configs.has(did) && this.states.size >= this.maxRecords) return;
    const old = this.state(did);
    const next = { ...old, ...patch };
    if (JSON.stringify(next) === JSON.stringify(old)) return;
    this.states.set(did, next);
    await this.o.store.put(this.key(did), utf8(JSON.stringify({ did, state: next })));
  }

  /**
   * Remembers the link a message from `did` arrived on (used when no route is configured). An
   * address provisioned for another DID is a relay (a mediator that unwrapped a forward): not a
   * way back to `did`.
   */
  learnRoute(did: string, link: LinkRuntime, address: LinkAddress | undefined): void {
    const peers = link.config.peers ?? {};
    if (address !== undefined && Object.entries(peers).some(([other, a]) => a === address && other !== did)) return;
    this.learnt.delete(did);
    this.learnt.set(did, { link, address });
    if (this.learnt.size > this.maxLearnt) this.learnt.delete(this.learnt.keys().next().value as string);
  }

  /** A configured link to `target`; else (unless it is provisioned behind a mediator) the learnt one. */
  private direct(target: string): { link: LinkRuntime; address: LinkAddress | undefined } | undefined {
    for (const link of this.o.links) {
      const peers = link.config.peers;
      if (peers && Object.prototype.hasOwnProperty.call(peers, target)) return { link, address: peers[target] ?? undefined };
    }
    return this.configs.get(target)?.mediator ? undefined : this.learnt.get(target);
  }

  /** The mediator (and its routing keys) for a peer without a direct link. */
  private viaMediator(peer: string): { first: string; routingKeys: string[]; accept: string[] } | undefined {
    const cfg = this.configs.get(peer);
    if (cfg?.mediator) return { first: cfg.mediator, routingKeys: [cfg.mediator], accept: [] };
    try {
      const route = routeTo(this.o.resolver, peer);
      if (route.routingKeys.length > 0 && route.endpoint) return { first: route.endpoint, routingKeys: route.routingKeys, accept: route.accept };
    } catch {
      // no document: fall back to our own mediator
    }
    if (this.mediator && this.mediator !== peer) return { first: this.mediator, routingKeys: [this.mediator], accept: [] };
    return undefined;
  }

  /** The format, mode, link and wrapping for a message of `purpose` to `peer`. */
  plan(peer: string, purpose: Purpose, telemetry?: TelemetrySigning): SendPlan {
    const cfg = this.configs.get(peer);
    const state = this.state(peer);
    let hop = this.direct(peer);
    let routingKeys: string[] = [];
    let docAccept: string[] = [];
    if (!hop) {
      const via = this.viaMediator(peer);
      if (!via) throw err('ERR_TRANSPORT', `no route to ${peer.slice(0, 60)}`);
      hop = this.direct(via.first);
      if (!hop) throw err('ERR_TRANSPORT', `no link to the mediator ${via.first.slice(0, 60)}`);
      routingKeys = via.routingKeys;
      docAccept = via.accept;
    } else {
      try {
        docAccept = routeTo(this.o.resolver, peer).accept;
      } catch {
        docAccept = [];
      }
    }
    const pairwise = cfg?.mode === 'pairwise';
    let format: WireFormat;
    if (pairwise) format = 'compact';
    else if (cfg?.format) format = cfg.format;
    else if (state.accept?.length) format = state.accept.includes(ACCEPT_COMPACT) ? 'compact' : 'json';
    else if (docAccept.includes(ACCEPT_COMPACT)) format = 'compact';
    else if (state.speaks === 'compact' || state.speaks === 'json') format = state.speaks;
    else format = hop.link.constrained ? 'compact' : 'json';
    let mode: PackMode = cfg?.mode ?? 'authcrypt';
    let sign = false;
    if (purpose === 'telemetry') {
      const signing = telemetry ?? cfg?.telemetry ?? this.o.telemetrySigning;
      if (signing === 'signed') {
        if (routingKeys.length > 0) {
          mode = pairwise ? 'pairwise' : 'anoncrypt';
          sign = true;
        } else mode = 'signed';
      } else if (signing === 'signed-encrypted') {
        mode = pairwise ? 'pairwise' : 'anoncrypt';
        sign = true;
      }
    }
    const knowsUs = cfg?.knowsUs === true || state.knowsUs === true;
    const self = this.o.self;
    const hints: CompactHints | undefined =
      format === 'compact' && this.o.hintLength > 0 ? { length: this.o.hintLength, known: (d) => d === peer || (knowsUs && d === self) } : undefined;
    return { peer, link: hop.link, address: hop.address, format, mode, sign, hints, routingKeys, maxBytes: state.maxReceiveBytes };
  }
}
