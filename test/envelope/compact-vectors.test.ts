/**
 * docs/vectors/compact: every vector re-packs byte for byte from its recorded random values (on
 * both backends) and unpacks to its decoded message; the published sizes meet the goals.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { nodeBackend } from '../../src/crypto/node.js';
import { nobleBackend } from '../../src/crypto/noble.js';
import { replayingBackend } from '../../src/crypto/replay.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import { SecretsStore } from '../../src/did/secrets.js';
import { pack, unpack } from '../../src/envelope/index.js';
import { PairwiseSessions, memoryStateStore } from '../../src/envelope/compact/pairwise-sessions.js';
import { contextId } from '../../src/envelope/compact/pairwise.js';
import { encodeCbor } from '../../src/cbor/encode.js';
import { fromHex, toHex } from '../../src/util/bytes.js';
import { wrapInForwards } from '../../src/routing/forward.js';
import type { CryptoBackend } from '../../src/crypto/types.js';
import { fixedParty, VECTOR_PARTIES } from '../helpers/vector-parties.js';

const dir = new URL('../../docs/vectors/compact/', import.meta.url);
const vectors = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'keys.json').map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')));
const keys = JSON.parse(readFileSync(new URL('keys.json', dir), 'utf8'));
const parties = VECTOR_PARTIES.map(fixedParty);
const byDid = new Map(parties.map((p) => [p.did, p]));

function ctx(crypto: CryptoBackend, did?: string) {
  const secrets = new SecretsStore(crypto);
  if (did) secrets.addFromJson(byDid.get(did)!);
  return { crypto, resolver: new OfflineResolver({ crypto, documents: parties.map((p) => p.didDocument) }), secrets };
}

describe('DIDComm Compact test vectors', () => {
  it('the published keys are the fixed parties', () => {
    expect(keys.parties.map((p: { did: string }) => p.did)).toEqual(parties.map((p) => p.did));
    expect(vectors.length).toBeGreaterThanOrEqual(13);
  });

  for (const crypto of [nodeBackend, nobleBackend]) {
    for (const v of vectors) {
      it(`${v.name} (${crypto.name}): packs byte for byte and unpacks to the decoded message`, async () => {
        const replay = replayingBackend(crypto, { values: v.random.map(fromHex) });
        const sctx = ctx(replay, v.sender ?? undefined);
        const options: Record<string, unknown> = { ...v.options };
        if (v.pairwise) {
          const store = memoryStateStore();
          const sessions = new PairwiseSessions(sctx, { store });
          const c = sessions.contextFor(v.sender, v.options.to[0]);
          expect(toHex(c.idContext)).toBe(v.pairwise.idContext);
          expect(toHex(c.senderKey)).toBe(v.pairwise.senderKey);
          await store.put(`pairwise/send/${contextId(c)}`, encodeCbor(v.pairwise.seq));
          options.pairwise = sessions;
        }
        let bytes = (await pack(sctx, v.input, options as never)).bytes;
        if (v.forward) bytes = await wrapInForwards(sctx, bytes, { recipient: v.options.to[0], routingKeys: [v.forward.routingKey], hints: { length: v.forward.hints } });
        expect(toHex(bytes)).toBe(v.output);
        const rctx = ctx(crypto, v.receiver);
        const r = await unpack(rctx, fromHex(v.output), { pairwise: new PairwiseSessions(rctx) });
        expect(r.message).toEqual(v.decoded);
        expect(r.meta.layers).toEqual(v.layers);
      });
    }
  }

  it('meets the size goals for the telemetry message (with hints for known peers)', () => {
    const size = (n: string) => vectors.find((v) => v.name === n)!.size;
    expect(size('signed-hints')).toBeLessThanOrEqual(110);
    expect(size('anoncrypt-hints')).toBeLessThanOrEqual(95);
    expect(size('authcrypt-hints')).toBeLessThanOrEqual(100);
    expect(size('pairwise')).toBeLessThanOrEqual(45);
    expect(size('forward-authcrypt')).toBeLessThanOrEqual(170);
  });
});
