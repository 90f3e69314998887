/**
 * Fuzz targets: every decoder that sees untrusted bytes, with a corpus of valid inputs to mutate.
 * A target's `run` must either succeed or throw a DidcommError; anything else (TypeError, RangeError,
 * an uncaught error event, a hang) is a finding. Used by `npm run fuzz` (scripts/fuzz.ts) and by the
 * regression test that replays saved findings (test/fuzz/regressions.test.ts).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createDid } from '../../src/did/create.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { nodeBackend } from '../../src/crypto/node.js';
import { pack, unpack, type EnvelopeContext } from '../../src/envelope/index.js';
import { PairwiseSessions } from '../../src/envelope/compact/pairwise-sessions.js';
import { decodeCbor } from '../../src/cbor/decode.js';
import { fromUtf8, fromHex, utf8 } from '../../src/util/bytes.js';
import { parseJson } from '../../src/util/json.js';
import { decodeFrame } from '../../transports/fragment/header.js';
import { FragmentTransport } from '../../transports/fragment/transport.js';
import { MemoryHub } from '../../transports/memory.js';
import { ManualClock } from '../../src/util/clock.js';
import { DidcommError } from '../../src/errors.js';
import type { Message } from '../../src/message/message.js';

export interface FuzzTarget {
  name: string;
  /** Valid inputs to start mutating from. */
  seeds(): Promise<Uint8Array[]>;
  /** Decodes one input; throws only DidcommError. */
  run(input: Uint8Array): Promise<void>;
}

/** Inputs above this are not generated (decoders must still bound bigger ones; see unit tests). */
export const MAX_INPUT = 4096;

const alice = createDid();
const bob = createDid();
const peer = createDid({ method: 'peer', services: ['https://m.example/didcomm'] });
const docs = [alice.didDocument, bob.didDocument, peer.didDocument];

function ctxOf(...holders: Array<{ secrets: unknown[] }>): EnvelopeContext {
  const secrets = new SecretsStore(nodeBackend);
  for (const h of holders) secrets.addFromJson(h);
  return { crypto: nodeBackend, resolver: new OfflineResolver({ documents: docs }), secrets };
}

const A = ctxOf(alice);
const B = ctxOf(bob);
const message: Message = { id: '0a1b2c3d4e5f', type: 'https://didcomm.org/telemetry/1.0/report', from: alice.did, to: [bob.did], created_time: 1732250000, body: { temp: 21.5, hum: 40, ts: 1732250000 }, thid: 't1', attachments: [{ id: 'x', data: { base64: 'AAEC' } }] };

function vectorsDir(rel: string): URL {
  return new URL(`../vectors/${rel}`, import.meta.url);
}

async function envelopes(format: 'json' | 'compact'): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const mode of ['plain', 'signed', 'anoncrypt', 'authcrypt'] as const) {
    out.push((await pack(A, message, { mode, format, to: [bob.did], from: alice.did })).bytes);
    if (format === 'compact') out.push((await pack(A, message, { mode, format, to: [bob.did], from: alice.did, hints: { length: 2 } })).bytes);
  }
  out.push((await pack(A, message, { mode: 'authcrypt', format, to: [bob.did], from: alice.did, sign: true, protectSender: true })).bytes);
  return out;
}

export const targets: FuzzTarget[] = [
  {
    name: 'json-envelope',
    async seeds() {
      const specs = readdirSync(vectorsDir('didcomm-v2/'))
        .filter((f) => f.startsWith('spec-c'))
        .map((f) => utf8(JSON.parse(readFileSync(new URL(f, vectorsDir('didcomm-v2/')), 'utf8')).message));
      return [...(await envelopes('json')), ...specs];
    },
    async run(input) {
      await unpack(B, input);
    },
  },
  {
    name: 'compact-frame',
    async seeds() {
      const sa = new PairwiseSessions(A);
      const pw = (await pack(A, message, { mode: 'pairwise', format: 'compact', to: [bob.did], from: alice.did, pairwise: sa })).bytes;
      const dir = new URL('../../docs/vectors/compact/', import.meta.url);
      const published = readdirSync(dir)
        .filter((f) => f.endsWith('.json') && f !== 'keys.json')
        .map((f) => fromHex(JSON.parse(readFileSync(new URL(f, dir), 'utf8')).output));
      return [...(await envelopes('compact')), pw, ...published];
    },
    async run(input) {
      await unpack(B, input, { pairwise: new PairwiseSessions(B) });
    },
  },
  {
    name: 'cbor',
    async seeds() {
      return (await envelopes('compact')).map((f) => f.subarray(1));
    },
    async run(input) {
      decodeCbor(input, { allowedTags: [37] });
    },
  },
  {
    name: 'json-text',
    async seeds() {
      return [utf8(JSON.stringify(message)), utf8('{"a":[1,2,{"b":"\\u00e9"}],"c":null}')];
    },
    async run(input) {
      parseJson(fromUtf8(input), 'fuzz', { maxDepth: 32 });
    },
  },
  {
    name: 'did',
    async seeds() {
      return [alice.did, bob.did, peer.did, 'did:example:alice', 'did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169'].map(utf8);
    },
    async run(input) {
      const r = new OfflineResolver({ crypto: nodeBackend });
      const did = fromUtf8(input);
      if (r.resolve(did)) r.document(did);
      else if (did.startsWith('did:')) {
        try {
          r.document(did);
        } catch (e) {
          if (!(e instanceof DidcommError)) throw e;
        }
      }
    },
  },
  {
    name: 'fragment',
    async seeds() {
      const clock = new ManualClock();
      const hub = new MemoryHub({ clock });
      const seen: Uint8Array[] = [];
      hub.on('transmit', (frame: Uint8Array) => seen.push(frame));
      const a = new FragmentTransport(hub.attach('a', { mtu: 20 }), { clock });
      const b = new FragmentTransport(hub.attach('b', { mtu: 20 }), { clock });
      b.on('frame', () => undefined);
      const sent = a.send(new Uint8Array(300).map((_, i) => i), 'b');
      await clock.runUntilDone(() => seen.length > 20, 600_000);
      await sent.catch(() => undefined);
      await a.close();
      await b.close();
      return seen.length ? seen.slice(0, 30) : [Uint8Array.of(0x00, 0x00, 1, 2, 3)];
    },
    async run(input) {
      try {
        decodeFrame(input);
      } catch (e) {
        if (!(e instanceof DidcommError)) throw e;
      }
      // Through a live reassembler: errors must surface as typed 'error' events, never throws.
      const clock = new ManualClock();
      const hub = new MemoryHub({ clock });
      const inner = hub.attach('rx', { mtu: 64 });
      const src = hub.attach('tx', { mtu: 64 });
      const rx = new FragmentTransport(inner, { clock });
      let bad: unknown;
      rx.on('error', (e) => {
        if (!(e instanceof DidcommError)) bad = e;
      });
      rx.on('frame', () => undefined);
      await src.send(input.subarray(0, 64), 'rx').catch(() => undefined);
      await clock.advance(60_000);
      await rx.close();
      await src.close();
      if (bad) throw bad;
    },
  },
];
