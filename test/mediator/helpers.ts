/**
 * Test parties for the mediator: DIDs with their envelope contexts, an in-process mediator on
 * memory stores, an in-memory session, and helpers that pack a request, hand it to
 * `Mediator.receive` and unpack the replies.
 */
import { createDid, type SecretsFile } from '../../src/did/create.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import { SecretsStore } from '../../src/did/secrets.js';
import type { DidDocument } from '../../src/did/document.js';
import { nodeBackend } from '../../src/crypto/node.js';
import { pack, unpack, type EnvelopeContext, type PackMode, type WireFormat } from '../../src/envelope/index.js';
import { PairwiseSessions } from '../../src/envelope/compact/pairwise-sessions.js';
import { newMessageId } from '../../src/message/ids.js';
import type { Message } from '../../src/message/message.js';
import { MemoryMailboxStore } from '../../src/store/mailbox-memory.js';
import { MemoryMediationStore } from '../../src/store/mediation-memory.js';
import { MemoryKvStore } from '../../src/store/kv-memory.js';
import type { Clock } from '../../src/util/clock.js';
import { Mediator } from '../../src/mediator/service.js';
import { DEFAULT_POLICY, type InboundOutcome, type MediatorPolicy, type MediatorStores, type Session } from '../../src/mediator/types.js';
import { wrapInForwards } from '../../src/routing/forward.js';
import * as C from '../../src/protocols/coordinate-mediation.js';

/** The crypto backend of the mediator tests (node:crypto). */
export const testCrypto = nodeBackend;

export interface Party {
  did: string;
  file: SecretsFile;
  ctx: EnvelopeContext;
  pairwise: PairwiseSessions;
  id(): string;
}

export function makeParty(o: { method?: 'key' | 'peer'; documents?: DidDocument[] } = {}): Party {
  const file = createDid({ method: o.method ?? 'key', crypto: testCrypto });
  const secrets = new SecretsStore(nodeBackend);
  secrets.addFromJson(file);
  const ctx: EnvelopeContext = { crypto: testCrypto, resolver: new OfflineResolver({ crypto: nodeBackend, documents: [file.didDocument, ...(o.documents ?? [])] }), secrets };
  return { did: file.did, file, ctx, pairwise: new PairwiseSessions(ctx), id: () => newMessageId(nodeBackend) };
}

export function memoryStores(clock?: Clock, limits?: MediatorPolicy['mailbox']): MediatorStores {
  const mailbox = new MemoryMailboxStore({ ...(clock ? { clock } : {}), ...(limits ? { limits } : {}) });
  const mediation = new MemoryMediationStore(clock ? { clock } : {});
  const kv = new MemoryKvStore();
  return { mailbox, mediation, kv, close: async () => void (await Promise.all([mailbox.close(), mediation.close(), kv.close()])) };
}

export async function memoryMediator(o: { policy?: Partial<MediatorPolicy>; clock?: Clock; stores?: MediatorStores; party?: Party } = {}): Promise<{ mediator: Mediator; party: Party; stores: MediatorStores }> {
  const party = o.party ?? makeParty();
  const stores = o.stores ?? memoryStores(o.clock, o.policy?.mailbox ?? DEFAULT_POLICY.mailbox);
  const mediator = await Mediator.create({ did: party.did, ctx: party.ctx, stores, ...(o.policy ? { policy: o.policy } : {}), ...(o.clock ? { clock: o.clock } : {}) });
  return { mediator, party, stores };
}

export interface TestSession extends Session {
  pushed: Uint8Array[];
  open: boolean;
}

export function testSession(o: Partial<Pick<Session, 'kind' | 'persistent' | 'duplex' | 'maxFrameBytes' | 'remote'>> & { id?: string } = {}): TestSession {
  const s: TestSession = {
    id: o.id ?? `memory:${Math.random().toString(36).slice(2)}`,
    kind: o.kind ?? 'memory',
    remote: o.remote ?? 'memory:1',
    persistent: o.persistent ?? true,
    duplex: o.duplex ?? false,
    maxFrameBytes: o.maxFrameBytes ?? 1024 * 1024,
    returnRoute: 'none',
    pushed: [],
    open: true,
    push: async (f) => {
      s.pushed.push(f);
    },
    isOpen: () => s.open,
  };
  return s;
}

export type RequestMode = Exclude<PackMode, 'plain' | 'signed'> | 'signed-anoncrypt';

/** Packs `m` from `from` to the mediator in `format`/`mode`. */
export async function packFor(from: Party, mediatorDid: string, m: Message, format: WireFormat, mode: RequestMode): Promise<Uint8Array> {
  if (mode === 'pairwise') return (await pack(from.ctx, m, { mode: 'pairwise', format: 'compact', to: [mediatorDid], from: from.did, pairwise: from.pairwise })).bytes;
  if (mode === 'signed-anoncrypt') return (await pack(from.ctx, m, { mode: 'anoncrypt', sign: true, format, to: [mediatorDid], from: from.did })).bytes;
  if (mode === 'anoncrypt') return (await pack(from.ctx, m, { mode: 'anoncrypt', format, to: [mediatorDid] })).bytes;
  return (await pack(from.ctx, m, { mode: 'authcrypt', format, to: [mediatorDid], from: from.did })).bytes;
}

export interface Exchange {
  outcome: InboundOutcome;
  replies: Message[];
}

/** Sends `m` (packed) and unpacks the replies with `from`'s keys. */
export async function exchange(mediator: Mediator, from: Party, m: Message, o: { format?: WireFormat; mode?: RequestMode; session?: Session } = {}): Promise<Exchange> {
  const bytes = await packFor(from, mediator.did, m, o.format ?? 'json', o.mode ?? 'authcrypt');
  const outcome = await mediator.receive(bytes, o.session ?? testSession());
  const replies: Message[] = [];
  for (const r of outcome.replies) replies.push((await unpack(from.ctx, r, { pairwise: from.pairwise })).message);
  return { outcome, replies };
}

/** Requests mediation and registers `keys` (default: the party's own DID). */
export async function enroll(mediator: Mediator, p: Party, o: { format?: WireFormat; mode?: RequestMode; keys?: string[] } = {}): Promise<void> {
  const grant = await exchange(mediator, p, C.mediateRequest(p.id(), p.did, mediator.did), o);
  if (grant.replies[0]?.type !== C.MEDIATE_GRANT_TYPE) throw new Error(`no grant: ${JSON.stringify(grant.replies[0] ?? grant.outcome.error)}`);
  const upd = await exchange(mediator, p, C.keylistUpdate(p.id(), p.did, mediator.did, (o.keys ?? [p.did]).map((k) => ({ recipientDid: k, action: 'add' as const }))), o);
  if (upd.replies[0]?.type !== C.KEYLIST_UPDATE_RESPONSE_TYPE) throw new Error('keylist update failed');
}

/** A message from `sender` to `recipient`, authcrypted, wrapped in a forward anoncrypted to the mediator. */
export async function forwardTo(sender: Party, recipient: string, mediator: { did: string; kid: string }, body: Record<string, unknown>, format: WireFormat = 'json', extra: Partial<Message> = {}): Promise<{ bytes: Uint8Array; inner: Uint8Array; message: Message }> {
  const message: Message = { id: sender.id(), type: 'https://didcomm.org/telemetry/1.0/report', from: sender.did, to: [recipient], body: body as Message['body'] };
  const inner = (await pack(sender.ctx, message, { mode: 'authcrypt', format, to: [recipient], from: sender.did })).bytes;
  const bytes = await wrapInForwards(sender.ctx, inner, { recipient, routingKeys: [mediator.kid], format, headers: extra });
  return { bytes, inner, message };
}

export function kidOf(p: Party): string {
  return p.ctx.resolver.keyAgreementKeys(p.did)[0]!.kid;
}
