/**
 * The agent runtime a device developer programs against (DESIGN.md §1–2): one static DID, an
 * offline resolver, a KvStore, transports with the peers reachable on them, a Clock.
 *
 *   const agent = new Agent({ secrets, resolver, store, links: [{ transport, peers: { [gw]: '2' } }] });
 *   await agent.start();
 *   await agent.report({ ts, temp: 21.5 }, { to: gw });     // signed telemetry, durable, acked
 *   agent.onCommand('relay', async ({ args }) => ..., { rights: ['actuate'] });
 *   await agent.sync();                                     // wake: drain outbox, pick up mail
 *
 * Inbound: src/agent/dispatcher.ts; outbound: outbox → router → link queue; protocols: builtin.ts,
 * commands.ts, telemetry.ts, sync.ts. Docs: docs/protocols.md.
 */
import { err, type DidcommError } from '../errors.js';
import { systemClock, sleep, type Clock } from '../util/clock.js';
import { Emitter } from '../util/emitter.js';
import { defaultCrypto } from '../crypto/default.js';
import type { CryptoBackend } from '../crypto/types.js';
import { SecretsStore, type SecretsResolver } from '../did/secrets.js';
import type { SecretsFile } from '../did/create.js';
import { isDid } from '../did/document.js';
import type { EnvelopeContext } from '../envelope/index.js';
import { PairwiseSessions } from '../envelope/compact/pairwise-sessions.js';
import { newMessageId } from '../message/ids.js';
import type { Message } from '../message/message.js';
import { ping as pingMessage } from '../protocols/trust-ping.js';
import { parseDisclose, queries, type Feature, type FeatureQuery } from '../protocols/discover-features.js';
import { parseResult, request as commandRequest, REQUEST_TYPE, type CommandRequest, type CommandResult } from '../protocols/command.js';
import { BATCH_TYPE, REPORT_TYPE, type Reading } from '../protocols/telemetry.js';
import { fromUtf8, utf8 } from '../util/bytes.js';
import type { KvOp } from '../store/kv.js';
import { AckSender } from './acks.js';
import { createBackoff } from './backoff.js';
import { installBuiltins } from './builtin.js';
import { CommandService } from './commands.js';
import { Dedupe } from './dedupe.js';
import { Dispatcher } from './dispatcher.js';
import { LinkQueue } from './link-queue.js';
import { Outbox, type OutboxRecord } from './outbox.js';
import { PeerDirectory, type LinkRuntime } from './peers.js';
import { Router } from './router.js';
import { MediatorReceipts } from './receipts.js';
import { SyncClient, type PickupOptions, type PickupResult } from './sync.js';
import { TelemetryService } from './telemetry.js';
import type { AgentEvents, AgentOptions, AgentStatus, CommandHandler, MessageHandler, SendOptions, TelemetrySigning } from './types.js';
import { Waiters } from './waiters.js';

const MEDIATOR_KEY = 'agent/mediator';
/** Transmissions with our DID as a compact hint before we fall back to the full DID. */
const FULL_DID_AFTER_ATTEMPTS = 3;

function isSecretsFile(s: SecretsFile | SecretsResolver): s is SecretsFile {
  return typeof (s as SecretsFile).did === 'string' && Array.isArray((s as SecretsFile).secrets);
}

export interface SyncResult {
  pickup: PickupResult | undefined;
  /** Outbox entries still waiting (for an ack or a retry) when sync returned. */
  pending: number;
}

export class Agent extends Emitter<AgentEvents> {
  readonly did: string;
  readonly clock: Clock;
  readonly crypto: CryptoBackend;
  readonly links: LinkRuntime[];
  readonly outbox: Outbox;
  readonly dedupe: Dedupe;
  readonly dispatcher: Dispatcher;
  readonly peers: PeerDirectory;
  readonly router: Router;
  readonly commands: CommandService;
  private readonly o: AgentOptions;
  private readonly ctx: EnvelopeContext;
  private readonly waiters: Waiters;
  private readonly acks: AckSender;
  private readonly telemetry: TelemetryService;
  private readonly syncClient: SyncClient;
  private readonly unsubscribe: Array<() => void> = [];
  /** When each peer last acknowledged something (in this run). */
  private readonly lastAck = new Map<string, number>();
  private readonly receipts = new MediatorReceipts();
  private readonly heldAtMediatorMs: number;
  private status: AgentStatus = 'stopped';

  constructor(o: AgentOptions) {
    super();
    if (!o || !o.store || !o.resolver || !Array.isArray(o.links) || o.links.length === 0) throw err('ERR_ARGUMENT', 'agent: needs secrets, resolver, store and at least one link');
    this.o = o;
    this.crypto = o.crypto ?? defaultCrypto;
    this.clock = o.clock ?? systemClock;
    let secrets: SecretsResolver;
    if (isSecretsFile(o.secrets)) {
      const s = new SecretsStore(this.crypto);
      s.addFromJson(o.secrets);
      secrets = s;
    } else secrets = o.secrets;
    const did = o.did ?? (isSecretsFile(o.secrets) ? o.secrets.did : undefined);
    if (!did || !isDid(did)) throw err('ERR_ARGUMENT', 'agent: our DID is required (secrets file or `did`)');
    this.did = did;
    this.ctx = { crypto: this.crypto, resolver: o.resolver, secrets };
    const emit = this.emit.bind(this) as Agent['emit'];
    const pairwise = new PairwiseSessions(this.ctx, { store: o.store });
    this.links = o.links.map((l, i) => ({
      name: l.name ?? `${l.transport.kind}-${i}`,
      config: l,
      queue: new LinkQueue(l.transport, { clock: this.clock }),
      constrained: l.constrained ?? l.transport.mtu < 1024,
      shared: l.shared ?? l.transport.address === undefined,
      ackTimeoutMs: l.ackTimeoutMs ?? 30_000,
    }));
    this.peers = new PeerDirectory({
      self: did,
      store: o.store,
      resolver: o.resolver,
      crypto: this.crypto,
      links: this.links,
      peers: o.peers ?? [],
      mediator: o.mediator,
      hintLength: o.hintLength ?? 2,
      telemetrySigning: o.telemetry?.signing ?? 'signed',
    });
    this.router = new Router(this.ctx, pairwise, this.peers, did);
    this.heldAtMediatorMs = o.heldAtMediatorMs ?? 3_600_000;
    if (!Number.isSafeInteger(this.heldAtMediatorMs) || this.heldAtMediatorMs < 0) throw err('ERR_ARGUMENT', 'heldAtMediatorMs: expected a non-negative integer');
    this.outbox = new Outbox(o.store, this.clock, createBackoff(o.outbox?.backoff, o.random), (rec) => this.transmit(rec), o.outbox);
    this.outbox.on('queued', (r) => emit('queued', { id: r.id, peer: r.peer }));
    this.outbox.on('delivered', (r) => {
      if (r.delivery === 'ack') {
        this.lastAck.delete(r.peer);
        this.lastAck.set(r.peer, this.clock.now());
        if (this.lastAck.size > 1000) this.lastAck.delete(this.lastAck.keys().next().value as string);
        this.peers.update(r.peer, { knowsUs: true }).catch((e: unknown) => emit('error', e as DidcommError));
      }
      emit('delivered', { id: r.id, peer: r.peer, attempts: r.attempts });
    });
    this.outbox.on('dropped', (r, reason, error) => emit('dropped', { id: r.id, peer: r.peer, reason, ...(error ? { error } : {}) }));
    this.outbox.on('error', (e) => emit('error', e));
    this.dedupe = new Dedupe(o.store, this.clock, this.crypto, o.dedupe);
    this.waiters = new Waiters(this.clock);
    this.acks = new AckSender(this.router, this.crypto, this.clock, did, (e) => emit('error', e as DidcommError));
    this.dispatcher = new Dispatcher({
      self: did,
      ctx: this.ctx,
      clock: this.clock,
      pairwise,
      dedupe: this.dedupe,
      outbox: this.outbox,
      waiters: this.waiters,
      acks: this.acks,
      peers: this.peers,
      maxReceiveBytes: o.maxReceiveBytes ?? 65536,
      clockSkewSeconds: o.clockSkewSeconds ?? 300,
      unauthenticatedReportIntervalMs: o.unauthenticatedReportIntervalMs ?? 10_000,
      emit,
      sendReply: (peer, m) => this.queueReply(peer, m),
      receipts: (sender, ids) => this.onReceipts(sender, ids),
    });
    installBuiltins({ dispatcher: this.dispatcher, waiters: this.waiters, outbox: this.outbox, peers: this.peers, accept: o.accept ?? ['json', 'compact'], maxReceiveBytes: o.maxReceiveBytes ?? 65536, emit });
    this.commands = new CommandService(o.controllers);
    this.dispatcher.handle(REQUEST_TYPE, this.commands.handleRequest);
    this.telemetry = new TelemetryService({
      store: o.store,
      clock: this.clock,
      crypto: this.crypto,
      self: did,
      batch: o.telemetry?.batch,
      enqueue: (peer, m, telemetry, extra) => this.enqueue(peer, m, { delivery: 'ack', priority: 0, ...(telemetry ? { telemetry } : {}) }, 'telemetry', extra),
      measure: (peer, m, telemetry) => this.router.measure(peer, m, { purpose: 'telemetry', ...(telemetry ? { telemetry } : {}) }),
      newId: () => newMessageId(this.crypto),
      emit,
    });
    this.dispatcher.handle(REPORT_TYPE, this.telemetry.handleInbound);
    this.dispatcher.handle(BATCH_TYPE, this.telemetry.handleInbound);
    this.syncClient = new SyncClient({ self: did, crypto: this.crypto, clock: this.clock, router: this.router, waiters: this.waiters, dispatcher: this.dispatcher });
    this.syncClient.install();
  }

  get state(): AgentStatus {
    return this.status;
  }

  private setStatus(s: AgentStatus): void {
    if (s === this.status) return;
    this.status = s;
    this.emit('state', s);
  }

  /** Loads persisted state (outbox, dedupe, peers, buffered telemetry) and starts listening and sending. */
  async start(): Promise<void> {
    if (this.status !== 'stopped') return;
    const stored = await this.o.store.get(MEDIATOR_KEY);
    if (stored && !this.peers.ownMediator) this.peers.setMediator(fromUtf8(stored));
    await this.peers.start();
    await this.dedupe.start();
    for (const link of this.links) {
      link.queue.open();
      this.unsubscribe.push(link.config.transport.on('frame', (bytes, from) => void this.dispatcher.receive(bytes, { name: link.name, link, shared: link.shared, ...(from !== undefined ? { address: from } : {}) })));
      this.unsubscribe.push(
        link.config.transport.on('state', (state) => {
          this.emit('state', this.status, { name: link.name, state });
          if (state === 'online') this.outbox.wake();
        }),
      );
    }
    await this.outbox.start();
    await this.telemetry.start();
    this.setStatus('running');
  }

  /** Stops listening and sending; pending requests fail with ERR_TRANSPORT. State stays in the store. */
  async stop(): Promise<void> {
    if (this.status === 'stopped') return;
    for (const u of this.unsubscribe.splice(0)) u();
    this.outbox.stop();
    this.telemetry.stop();
    this.waiters.cancelAll(err('ERR_TRANSPORT', 'agent stopped'));
    for (const l of this.links) l.queue.close();
    this.setStatus('stopped');
  }

  /** Registers the handler for a message type (its protocol is then disclosed by discover-features). */
  handle(type: string, handler: MessageHandler): void {
    this.dispatcher.handle(type, handler);
  }

  /** Registers an actuator command; controllers need `rights` (default [name]) — see `controllers`. */
  onCommand(name: string, handler: CommandHandler, o: { rights?: string[] } = {}): void {
    this.commands.on(name, handler, o);
  }

  /** Grants (or, with undefined, revokes) command rights to a controller DID. */
  setControllerRights(did: string, rights: string[] | undefined): void {
    this.commands.setRights(did, rights);
  }

  /**
   * Queues `message` to its single `to` DID (id, from, created_time filled in). Resolves with the
   * message id once it is durably stored — before any transmission.
   */
  async send(message: Omit<Message, 'id'> & { id?: string }, o: SendOptions = {}): Promise<string> {
    const to = message.to;
    if (!Array.isArray(to) || to.length !== 1 || !isDid(to[0])) throw err('ERR_ARGUMENT', 'send: message.to must name exactly one DID');
    if (typeof message.type !== 'string') throw err('ERR_ARGUMENT', 'send: message.type is required');
    const m = { ...message, id: message.id ?? newMessageId(this.crypto) } as Message;
    const delivery = o.delivery ?? (m.thid === undefined ? 'ack' : 'transport');
    if (o.pleaseAck ?? delivery === 'ack') m.please_ack = [''];
    await this.enqueue(to[0]!, m, { ...o, delivery }, o.telemetry ? 'telemetry' : undefined, []);
    return m.id;
  }

  private async enqueue(peer: string, m: Message, o: SendOptions, purpose: 'telemetry' | undefined, extraOps: KvOp[]): Promise<void> {
    const now = this.clock.now();
    m.from = this.did;
    m.to = [peer];
    m.created_time ??= Math.floor(now / 1000);
    if (o.ttlMs !== undefined) m.expires_time = Math.floor((now + o.ttlMs) / 1000);
    const expiresAt = m.expires_time !== undefined ? m.expires_time * 1000 : now + this.outbox.ttlMs;
    const rec: Omit<OutboxRecord, 'attempts'> = { id: m.id, peer, message: m, delivery: o.delivery ?? 'ack', priority: o.priority ?? 0, createdAt: now, expiresAt };
    if (purpose) rec.purpose = purpose;
    if (o.telemetry) rec.telemetry = o.telemetry;
    await this.outbox.enqueue(rec, extraOps);
  }

  /** Replies and problem reports: stored, sent once the link takes them (the peer's retry gets them again). */
  private async queueReply(peer: string, m: Message): Promise<void> {
    if (this.outbox.has(m.id)) return;
    await this.enqueue(peer, m, { delivery: 'transport', priority: 1, ttlMs: Math.min(this.outbox.ttlMs, 24 * 3600_000) }, undefined, []);
  }

  /** Our mediator's receipts: the forward is stored there, so hold the record's resends (see Outbox.hold). */
  private onReceipts(sender: string, ids: readonly string[]): void {
    if (sender !== this.peers.ownMediator) return;
    for (const recordId of this.receipts.take(ids)) this.outbox.hold(recordId, this.clock.now() + this.heldAtMediatorMs);
  }

  private async transmit(rec: OutboxRecord): Promise<{ ackTimeoutMs: number }> {
    const m = rec.attempts > 1 ? { ...rec.message, sent_count: rec.attempts } : rec.message;
    // After a few tries while the peer acknowledged nothing at all, name ourselves in full: it may
    // have lost what it knew of us, and then cannot resolve our hint.
    const silent = (this.lastAck.get(rec.peer) ?? 0) < rec.createdAt;
    const r = await this.router.send(rec.peer, () => m, {
      ...(rec.purpose ? { purpose: rec.purpose } : {}),
      ...(rec.telemetry ? { telemetry: rec.telemetry } : {}),
      fullSelf: silent && rec.attempts > FULL_DID_AFTER_ATTEMPTS,
    });
    if (r.receiptId !== undefined && rec.delivery === 'ack') this.receipts.remember(r.receiptId, rec.id);
    return { ackTimeoutMs: r.plan.link.ackTimeoutMs };
  }

  /** Reports one reading (or several: each its own, or batched per `telemetry.batch`). Durable when it resolves. */
  async report(readings: Reading | Reading[], o: { to?: string; telemetry?: TelemetrySigning } = {}): Promise<void> {
    const to = o.to ?? this.o.telemetry?.to;
    if (!to || !isDid(to)) throw err('ERR_ARGUMENT', 'report: no collector DID (pass `to` or set telemetry.to)');
    for (const r of Array.isArray(readings) ? readings : [readings]) await this.telemetry.report(to, r, o.telemetry);
  }

  /** Turns buffered readings into batch messages now. */
  flush(): Promise<void> {
    return this.telemetry.flushAll();
  }

  /** Sends a request that expects a threaded reply, and waits for it. */
  private async ask(peer: string, m: Message, timeoutMs: number): Promise<Message> {
    const reply = this.waiters.wait(m.id, peer, timeoutMs);
    reply.catch(() => undefined); // handled below; a slow store must not make it an unhandled rejection
    try {
      await this.send(m, { delivery: 'ack', pleaseAck: false, ttlMs: timeoutMs });
    } catch (e) {
      this.waiters.fail(m.id, peer, e as DidcommError);
      await reply.catch(() => undefined);
      throw e;
    }
    return reply;
  }

  /** Trust Ping 2.0: resolves with the round-trip time in ms (virtual on a ManualClock). */
  async ping(did: string, o: { timeoutMs?: number } = {}): Promise<number> {
    const start = this.clock.now();
    await this.ask(did, pingMessage(newMessageId(this.crypto), this.did, did, true), o.timeoutMs ?? 60_000);
    return this.clock.now() - start;
  }

  /** Discover Features 2.0: what `did` discloses (its accepted formats are remembered for routing). */
  async discover(did: string, o: { queries?: FeatureQuery[]; timeoutMs?: number } = {}): Promise<Feature[]> {
    const q = o.queries ?? [
      { 'feature-type': 'protocol', match: '*' },
      { 'feature-type': 'accept', match: '*' },
      { 'feature-type': 'constraint', match: '*' },
    ];
    return parseDisclose(await this.ask(did, queries(newMessageId(this.crypto), this.did, did, q), o.timeoutMs ?? 60_000));
  }

  /** Command 1.0 (controller side): runs `req` on `did`; refusals reject with the peer's problem code mapped to an error code. */
  async command(did: string, req: CommandRequest, o: { timeoutMs?: number } = {}): Promise<CommandResult> {
    const timeout = o.timeoutMs ?? this.o.commandTtlMs ?? 5 * 60_000;
    return parseResult(await this.ask(did, commandRequest(newMessageId(this.crypto), this.did, did, req), timeout));
  }

  /** Makes every outbox entry due now (the device woke up or a link came back). */
  wake(): void {
    this.outbox.wake();
  }

  /**
   * A wake-up sync: buffered telemetry is flushed, the outbox is drained (every pending entry
   * transmitted once more, within the links' airtime budgets), and queued messages are picked up
   * from our mediator (Message Pickup 3.0).
   */
  async sync(o: PickupOptions & { mediator?: string } = {}): Promise<SyncResult> {
    const prev = this.status;
    this.setStatus('syncing');
    try {
      await this.telemetry.flushAll();
      this.outbox.wake();
      const mediator = o.mediator ?? this.peers.ownMediator;
      const pickup = mediator ? await this.syncClient.pickup(mediator, o) : undefined;
      const deadline = o.deadline ?? this.clock.now() + 10 * 60_000;
      while (!this.outbox.idle() && this.clock.now() < deadline) await sleep(this.clock, 100);
      return { pickup, pending: this.outbox.size };
    } finally {
      this.setStatus(prev === 'syncing' ? 'running' : prev);
    }
  }

  /** Turns pickup live mode on or off at our mediator; only on a link configured `persistent`. */
  async setLiveDelivery(on: boolean, mediator = this.peers.ownMediator): Promise<boolean> {
    if (!mediator) throw err('ERR_ARGUMENT', 'no mediator');
    if (on && !this.peers.plan(mediator, 'message').link.config.persistent) throw err('ERR_UNSUPPORTED', 'live delivery needs a persistent link to the mediator');
    return this.syncClient.setLive(mediator, on);
  }

  /** Coordinate Mediation 2.0: asks `mediator` to route for us; it becomes our mediator. */
  async requestMediation(mediator: string, o: { timeoutMs?: number } = {}): Promise<{ routingDid: string }> {
    const r = await this.syncClient.requestMediation(mediator, o.timeoutMs);
    this.peers.setMediator(mediator);
    await this.o.store.put(MEDIATOR_KEY, utf8(mediator));
    return r;
  }

  /** Counters of every part, for logs and tests. */
  stats(): Record<string, unknown> {
    return {
      outbox: { ...this.outbox.stats, pending: this.outbox.size, bytes: this.outbox.bytes },
      inbound: { ...this.dispatcher.stats },
      dedupe: { entries: this.dedupe.size, evicted: this.dedupe.evicted },
      router: { ...this.router.stats },
      acks: this.acks.sent,
      commands: { ...this.commands.stats },
      links: Object.fromEntries(this.links.map((l) => [l.name, { ...l.queue.stats }])),
    };
  }

}
