/**
 * Shared fixtures for the agent tests: identities, resolvers that know every party, agents wired
 * to in-memory links on a ManualClock, and small waiting helpers (virtual time only).
 */
import { expect } from 'vitest';
import { createDid, type SecretsFile } from '../../src/did/create.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import { Agent } from '../../src/agent/agent.js';
import type { AgentOptions, LinkConfig, PeerConfig } from '../../src/agent/types.js';
import { MemoryKvStore } from '../../src/store/kv-memory.js';
import type { KvStore } from '../../src/store/kv.js';
import { ManualClock } from '../../src/util/clock.js';
import { createPrng } from '../../src/util/prng.js';
import { DidcommError } from '../../src/errors.js';
import type { Transport } from '../../transports/types.js';

export function identities(n: number, method: 'key' | 'peer' = 'key'): SecretsFile[] {
  return Array.from({ length: n }, () => createDid({ method }));
}

/** A resolver provisioned with the documents of `known` (did:key resolves on its own anyway). */
export function resolverFor(known: SecretsFile[]): OfflineResolver {
  return new OfflineResolver({ documents: known.map((k) => k.didDocument) });
}

export interface AgentSpec {
  id: SecretsFile;
  clock: ManualClock;
  transport: Transport;
  /** DID → link address on `transport`. */
  peers?: Record<string, string | null>;
  known?: SecretsFile[];
  store?: KvStore;
  peerConfigs?: PeerConfig[];
  link?: Partial<LinkConfig>;
  extra?: Partial<AgentOptions>;
}

export function makeAgent(s: AgentSpec): Agent {
  const prng = createPrng(7);
  return new Agent({
    secrets: s.id,
    resolver: resolverFor(s.known ?? []),
    store: s.store ?? new MemoryKvStore(),
    clock: s.clock,
    links: [{ transport: s.transport, peers: s.peers ?? {}, ackTimeoutMs: 5_000, ...s.link }],
    peers: s.peerConfigs ?? [],
    random: () => prng.next(),
    unauthenticatedReportIntervalMs: 0,
    ...s.extra,
  });
}

/** Runs virtual time until `done()` (fails the test if it never happens within `maxMs`). */
export async function until(clock: ManualClock, done: () => boolean, maxMs = 3_600_000): Promise<void> {
  const ok = await clock.runUntilDone(done, maxMs);
  expect(ok, 'condition not reached in virtual time').toBe(true);
}

/** Awaits `p` while driving the clock (p may need timers to settle). */
export async function drive<T>(clock: ManualClock, p: Promise<T>, maxMs = 3_600_000): Promise<T> {
  let settled = false;
  let value: T | undefined;
  let error: unknown;
  p.then(
    (v) => {
      settled = true;
      value = v;
    },
    (e: unknown) => {
      settled = true;
      error = e;
    },
  );
  await clock.runUntilDone(() => settled, maxMs);
  if (!settled) throw new Error('promise did not settle in virtual time');
  if (error !== undefined) throw error;
  return value as T;
}

/** The DidcommError code `p` rejects with. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return (e as DidcommError).code;
  }
  throw new Error('expected a rejection');
}

/** `t` with `send` (and optionally `on`) replaced; everything else delegates to `t`. */
export function wrapTransport(t: Transport, o: { send: Transport['send']; on?: Transport['on'] }): Transport {
  return {
    kind: t.kind,
    mtu: t.mtu,
    address: t.address,
    get state() {
      return t.state;
    },
    send: o.send,
    on: o.on ?? t.on.bind(t),
    sendDelay: t.sendDelay.bind(t),
    close: t.close.bind(t),
  } as Transport;
}

/** Delegates to a transport; `dropNext` silently loses the next sends (frames lost on the air). */
export function lossy(t: Transport): Transport & { dropNext: number } {
  const w: Transport & { dropNext: number } = Object.assign(
    wrapTransport(t, {
      send: async (f, to) => {
        if (w.dropNext > 0) {
          w.dropNext--;
          return;
        }
        await t.send(f, to);
      },
    }),
    { dropNext: 0 },
  );
  return w;
}
