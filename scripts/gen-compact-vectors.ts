/**
 * Generates docs/vectors/compact/*.json: DIDComm Compact test vectors from fixed keys, recording
 * the random values each pack consumed so the output can be reproduced byte for byte.
 * Run: node --import tsx scripts/gen-compact-vectors.ts
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { nodeBackend } from '../src/crypto/node.js';
import { recordingBackend, type RandomTape } from '../src/crypto/replay.js';
import { OfflineResolver } from '../src/did/resolver.js';
import { SecretsStore } from '../src/did/secrets.js';
import { pack, unpack } from '../src/envelope/index.js';
import { PairwiseSessions, memoryStateStore } from '../src/envelope/compact/pairwise-sessions.js';
import { contextId } from '../src/envelope/compact/pairwise.js';
import { encodeCbor } from '../src/cbor/encode.js';
import { toHex } from '../src/util/bytes.js';
import { wrapInForwards } from '../src/routing/forward.js';
import { fixedParty, VECTOR_PARTIES } from '../test/helpers/vector-parties.js';

const out = new URL('../docs/vectors/compact/', import.meta.url);
mkdirSync(out, { recursive: true });
const parties = VECTOR_PARTIES.map(fixedParty);
const [alice, bob, carol, mediator] = parties as [ReturnType<typeof fixedParty>, ReturnType<typeof fixedParty>, ReturnType<typeof fixedParty>, ReturnType<typeof fixedParty>];
const docs = parties.map((p) => p.didDocument);

function ctx(crypto: typeof nodeBackend, holder?: { secrets: unknown[] }) {
  const secrets = new SecretsStore(crypto);
  if (holder) secrets.addFromJson(holder);
  return { crypto, resolver: new OfflineResolver({ crypto, documents: docs }), secrets };
}

const telemetry = {
  id: '0a1b2c3d4e5f',
  type: 'https://didcomm.org/telemetry/1.0/report',
  from: alice.did,
  to: [bob.did],
  created_time: 1732250000,
  body: { temp: 21.5, hum: 40, ts: 1732250000 },
};
const rich = {
  id: '6e0fbbd5-0e9f-4c3c-8b7e-0a1f3bde4a55',
  type: 'https://example.org/custom/1.0/thing',
  typ: 'application/didcomm-plain+json',
  from: alice.did,
  to: [bob.did, carol.did],
  thid: 'thread-1',
  created_time: 1732250000,
  expires_time: 1732253600,
  please_ack: [''],
  custom_header: { nested: [1, 2.5, 'x', null, true] },
  body: { hello: 'world', n: -7 },
  attachments: [{ id: 'a1', media_type: 'application/octet-stream', data: { base64: 'AAECAwQ' } }, { data: { json: { k: 'v' } } }],
};

interface Spec {
  name: string;
  description: string;
  sender?: ReturnType<typeof fixedParty>;
  receiver: ReturnType<typeof fixedParty>;
  message: Record<string, unknown>;
  options: Record<string, unknown>;
  forwardVia?: ReturnType<typeof fixedParty>;
  pairwiseSeq?: number;
}

const specs: Spec[] = [
  { name: 'plaintext-telemetry', description: 'Plaintext telemetry report, full did:key references', receiver: bob, message: telemetry, options: { mode: 'plain' } },
  { name: 'plaintext-hints', description: 'Plaintext with 2-byte DID hints (both DIDs known to the receiver)', receiver: bob, message: telemetry, options: { mode: 'plain', hints: { length: 2 } } },
  { name: 'plaintext-rich', description: 'UUID id, typ, thread, expiry, please_ack, unknown header, attachments (bytes and json), two recipients', receiver: bob, message: rich, options: { mode: 'plain' } },
  { name: 'signed', description: 'COSE_Sign1 EdDSA, from implicit (signer), to implicit (bound receiver), full key reference', sender: alice, receiver: bob, message: telemetry, options: { mode: 'signed', to: [bob.did] } },
  { name: 'signed-hints', description: 'Signed with a 2-byte signer key hint', sender: alice, receiver: bob, message: telemetry, options: { mode: 'signed', to: [bob.did], hints: { length: 2 } } },
  { name: 'anoncrypt', description: 'HPKE base mode, one recipient, from explicit (binary did:key)', sender: alice, receiver: bob, message: telemetry, options: { mode: 'anoncrypt', to: [bob.did] } },
  { name: 'anoncrypt-hints', description: 'HPKE base mode with a 2-byte from hint', sender: alice, receiver: bob, message: telemetry, options: { mode: 'anoncrypt', to: [bob.did], hints: { length: 2 } } },
  { name: 'authcrypt', description: 'HPKE auth mode, one recipient, full sender key reference', sender: alice, receiver: bob, message: telemetry, options: { mode: 'authcrypt', to: [bob.did], from: alice.did } },
  { name: 'authcrypt-hints', description: 'HPKE auth mode, 2-byte sender key hint', sender: alice, receiver: bob, message: telemetry, options: { mode: 'authcrypt', to: [bob.did], from: alice.did, hints: { length: 2 } } },
  { name: 'authcrypt-multi', description: 'HPKE auth, two recipients (bob and carol), shared CEK', sender: alice, receiver: carol, message: { ...telemetry, to: [bob.did, carol.did] }, options: { mode: 'authcrypt', to: [bob.did, carol.did], from: alice.did } },
  { name: 'anoncrypt-authcrypt-signed', description: 'Protected sender: anoncrypt(authcrypt(signed))', sender: alice, receiver: bob, message: telemetry, options: { mode: 'authcrypt', to: [bob.did], from: alice.did, sign: true, protectSender: true } },
  { name: 'pairwise', description: 'Pairwise frame, sequence number 300, static-static X25519 context', sender: alice, receiver: bob, message: telemetry, options: { mode: 'pairwise', to: [bob.did], from: alice.did }, pairwiseSeq: 300 },
  { name: 'forward-authcrypt', description: 'authcrypt to bob (hints) inside a compact forward anoncrypted to the mediator (hints)', sender: alice, receiver: mediator, message: telemetry, options: { mode: 'authcrypt', to: [bob.did], from: alice.did, hints: { length: 2 } }, forwardVia: mediator },
];

for (const s of specs) {
  const tape: RandomTape = { values: [] };
  const crypto = recordingBackend(nodeBackend, tape);
  const sctx = ctx(crypto, s.sender);
  const options: Record<string, unknown> = { ...s.options, format: 'compact' };
  let pairwise: Record<string, unknown> | undefined;
  if (s.pairwiseSeq !== undefined) {
    const store = memoryStateStore();
    const sessions = new PairwiseSessions(sctx, { store });
    const c = sessions.contextFor(alice.did, bob.did);
    await store.put(`pairwise/send/${contextId(c)}`, encodeCbor(s.pairwiseSeq));
    options.pairwise = sessions;
    pairwise = { seq: s.pairwiseSeq, idContext: toHex(c.idContext), senderId: toHex(c.senderId), senderKey: toHex(c.senderKey), recipientKey: toHex(c.recipientKey), commonIv: toHex(c.commonIv) };
  }
  let bytes = (await pack(sctx, s.message as never, options as never)).bytes;
  if (s.forwardVia) bytes = await wrapInForwards(sctx, bytes, { recipient: bob.did, routingKeys: [s.forwardVia.didDocument.keyAgreement![0] as string], hints: { length: 2 } });
  const r = await unpack(ctx(nodeBackend, s.receiver), bytes, { pairwise: new PairwiseSessions(ctx(nodeBackend, s.receiver)) });
  const { pairwise: _omit, ...printable } = options;
  const vector = {
    name: s.name,
    description: s.description,
    sender: s.sender?.did ?? null,
    receiver: s.receiver.did,
    input: s.message,
    options: printable,
    ...(s.forwardVia ? { forward: { via: s.forwardVia.did, routingKey: s.forwardVia.didDocument.keyAgreement![0], hints: 2 } } : {}),
    ...(pairwise ? { pairwise } : {}),
    random: tape.values.map(toHex),
    output: toHex(bytes),
    size: bytes.length,
    decoded: r.message,
    layers: r.meta.layers,
  };
  writeFileSync(new URL(`${s.name}.json`, out), JSON.stringify(vector, null, 2) + '\n');
  console.log(`${s.name.padEnd(28)} ${String(bytes.length).padStart(4)} B  ${r.meta.layers.join('(')}`);
}
writeFileSync(new URL('keys.json', out), JSON.stringify({ note: 'Fixed test keys (never use them for anything real). Every party is a did:key with an Ed25519 key and its X25519 twin.', parties }, null, 2) + '\n');
