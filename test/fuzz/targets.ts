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
import { pack, unpack, type EnvelopeContext, type WireFormat } from '../../src/envelope/index.js';
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
import { toBase64url } from '../../src/util/base64url.js';
import { createSerialPair, type MemorySerialEnd } from '../../transports/serial/memory-pair.js';
import { encodeCobsFrame } from '../../transports/serial/cobs-frames.js';
import { latin1ToBytes } from '../../transports/serial/latin1.js';
import { RadioChannel } from '../../transports/lora/channel.js';
import { LORA_MAX_PAYLOAD } from '../../transports/lora/airtime.js';
import { ModemReplyError } from '../../transports/lora/at-modem.js';
import type { LoraLinkBase } from '../../transports/lora/link-base.js';
import { RylrModem } from '../../transports/lora/rylr.js';
import { Rn2483Modem } from '../../transports/lora/rn2483.js';
import { Rak3172Modem } from '../../transports/lora/rak3172.js';
import { TransparentModem } from '../../transports/lora/transparent.js';
import type { ModemEmulator } from '../../transports/lora/emulators/emulator-base.js';
import { RylrEmulator } from '../../transports/lora/emulators/rylr.js';
import { Rn2483Emulator } from '../../transports/lora/emulators/rn2483.js';
import { Rak3172Emulator } from '../../transports/lora/emulators/rak3172.js';
import { EbyteEmulator } from '../../transports/lora/emulators/ebyte.js';
import { MqttTransport } from '../../transports/mqtt/mqtt-transport.js';
import type { MqttMessageInfo } from '../../transports/mqtt/options.js';
import {
  DEFAULT_TOPIC_PREFIX, assertInboxId, assertTopicPrefix, inboxIdForDid, inboxTopic, parseInboxTopic,
} from '../../transports/mqtt/topics.js';
import { DIDCOMM_MEDIA_TYPES, MEDIA_TYPE_COMPACT, parseDidcommMediaType, sniffMediaType } from '../../transports/http/media-types.js';
import type { IPublishPacket } from 'mqtt';
import { Mediator } from '../../src/mediator/service.js';
import type { MediatorPolicy, Session } from '../../src/mediator/types.js';
import * as CM from '../../src/protocols/coordinate-mediation.js';
import * as PU from '../../src/protocols/pickup.js';
import { ping } from '../../src/protocols/trust-ping.js';
import { queries } from '../../src/protocols/discover-features.js';
import { forwardMessage } from '../../src/routing/forward.js';
import { enroll, forwardTo, kidOf, makeParty, memoryStores, packFor, type Party, type RequestMode } from '../mediator/helpers.js';

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

// ---- at-modem: the LoRa modem drivers fed untrusted UART bytes ----

/**
 * One driver of each kind (RYLR, RN2483, RAK3172 on the shared AtModem base; Ebyte E22 on the COBS
 * framing), opened once against its emulator over an in-memory serial pair on a ManualClock. The
 * drivers' receive parsers (`+RCV=` in rylr.ts, `radio_rx` in rn2483.ts, `+EVT:RXP2P:` in
 * rak3172.ts: private, reachable only through the port) see fuzzed bytes written on the modem side
 * of the UART, exactly where a real module's output arrives.
 */
interface ModemNode {
  driver: LoraLinkBase;
  emulator: ModemEmulator;
  modemSide: MemorySerialEnd;
  /** Line protocol (AT) or COBS frames (Ebyte). */
  lines: boolean;
}

interface ModemRig {
  clock: ManualClock;
  nodes: ModemNode[];
  frames: Array<{ node: ModemNode; frame: unknown; from: unknown }>;
  errors: unknown[];
}

let modemRig: Promise<ModemRig> | undefined;

async function openModemRig(): Promise<ModemRig> {
  const clock = new ManualClock();
  const channel = new RadioChannel({ clock, dutyCycle: 1 });
  const rig: ModemRig = { clock, nodes: [], frames: [], errors: [] };
  const kinds = ['rylr', 'rn2483', 'rak3172', 'e22'] as const;
  for (const kind of kinds) {
    const [host, modemSide] = createSerialPair();
    const base = { port: host, clock, dutyCycle: 1 };
    let emulator: ModemEmulator;
    let opening: Promise<LoraLinkBase>;
    if (kind === 'rylr') {
      emulator = new RylrEmulator({ port: modemSide, channel, id: `fuzz-${kind}` });
      opening = RylrModem.open({ ...base, address: 1 });
    } else if (kind === 'rn2483') {
      emulator = new Rn2483Emulator({ port: modemSide, channel, id: `fuzz-${kind}` });
      opening = Rn2483Modem.open(base);
    } else if (kind === 'rak3172') {
      emulator = new Rak3172Emulator({ port: modemSide, channel, id: `fuzz-${kind}` });
      opening = Rak3172Modem.open(base);
    } else {
      emulator = new EbyteEmulator({ port: modemSide, channel, id: `fuzz-${kind}`, model: kind });
      opening = TransparentModem.open({ ...base, model: kind });
    }
    let driver: LoraLinkBase | undefined;
    let failed: unknown;
    opening.then(
      (d) => (driver = d),
      (e: unknown) => (failed = e),
    );
    await clock.runUntilDone(() => driver !== undefined || failed !== undefined, 600_000);
    if (!driver) throw new Error(`at-modem: cannot open the ${kind} driver: ${String(failed)}`);
    const node: ModemNode = { driver, emulator, modemSide, lines: kind !== 'e22' };
    driver.on('frame', (frame, from) => rig.frames.push({ node, frame, from }));
    driver.on('error', (e) => rig.errors.push(e));
    rig.nodes.push(node);
  }
  return rig;
}

/** A parser that crashed with a native error is masked by AtModem as ERR_MALFORMED with that cause. */
function maskedCrash(e: unknown): unknown {
  let c: unknown = e instanceof Error ? e.cause : undefined;
  for (let depth = 0; c !== undefined && depth < 4; depth++) {
    if (c instanceof DidcommError) {
      c = c.cause;
      continue;
    }
    return c instanceof ModemReplyError ? undefined : c;
  }
  return undefined;
}

const CRLF = latin1ToBytes('\r\n');
const DELIMITER = Uint8Array.of(0);

// ---- mqtt-payload: what MqttTransport does with an inbound PUBLISH ----

/**
 * Input layout: `topic 0x00 responseTopic 0x00 contentType 0x00 payload` (the first three NULs
 * split; the payload may hold more; fields after the last NUL are absent properties). Strings are decoded
 * like mqtt-packet does (UTF-8, lenient). Covered:
 * - `MqttTransport.onInbound(topic, payload, packet)` (private: the body of mqtt.js' 'message'
 *   handler; called through a cast on one transport that never reached a broker): the mtu bound
 *   (an 'error' ERR_TOO_LARGE, no frame), the copy of the payload, `from` = the sender's inbox from
 *   the v5 response topic, and the 'message' info;
 * - topics.ts: `parseInboxTopic` (default and a custom prefix) whose result must be a valid inbox
 *   id that rebuilds the same topic (the mediator answers to it with `inboxTopic`),
 *   `assertTopicPrefix`, `inboxIdForDid` / `assertDid` (hashed and clear) on untrusted text;
 * - media-types.ts: `parseDidcommMediaType` on the content type, `sniffMediaType` on the payload
 *   (what a forwarding `send` with contentType 'auto' does with a frame from elsewhere).
 * Not covered: mqtt.js / mqtt-packet's own PUBLISH decoding (third-party), and the mediator's
 * MediatorMqttListener.onPublish (private, needs a connected client), which does the same
 * parseInboxTopic + Mediator.receive covered here and by 'mediator-request'.
 */
const MQTT_MTU = 1024;
const MQTT_PREFIX = 'fuzz/p-1/didcomm/v1';

interface InboundProbe {
  transport: MqttTransport;
  onInbound: (topic: string, payload: Buffer, packet: IPublishPacket) => void;
  events: Array<['message', Uint8Array, MqttMessageInfo] | ['frame', Uint8Array, string | undefined] | ['error', unknown]>;
}

let mqttProbe: Promise<InboundProbe> | undefined;

async function openMqttProbe(): Promise<InboundProbe> {
  // Port 1 on loopback: the one connection attempt is refused; the reconnect timer is on a
  // ManualClock nobody advances, so the transport stays offline and never touches a broker.
  const transport = new MqttTransport({ url: 'mqtt://127.0.0.1:1', did: bob.did, topicPrefix: MQTT_PREFIX, maxMessageSize: MQTT_MTU, clock: new ManualClock(), connectTimeoutMs: 1000 });
  const events: InboundProbe['events'] = [];
  transport.on('message', (frame, info) => events.push(['message', frame, info]));
  transport.on('frame', (frame, from) => events.push(['frame', frame, from]));
  transport.on('error', (e) => events.push(['error', e]));
  await transport.close();
  const onInbound = (transport as unknown as { onInbound: InboundProbe['onInbound'] }).onInbound.bind(transport);
  return { transport, onInbound, events };
}

function splitFields(input: Uint8Array, n: number): { fields: string[]; payload: Uint8Array } {
  const fields: string[] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const nul = input.indexOf(0, at);
    if (nul < 0) break;
    fields.push(Buffer.from(input.subarray(at, nul)).toString('utf8'));
    at = nul + 1;
  }
  return { fields, payload: input.subarray(at) };
}

/** Runs `fn`; a DidcommError is an accepted refusal (returned), anything else propagates. */
function typed<T>(fn: () => T): T | DidcommError {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DidcommError) return e;
    throw e;
  }
}

function checkInboxTopic(topic: string, prefix: string): void {
  const id = parseInboxTopic(topic, prefix);
  if (id === undefined) return;
  const rebuilt = typed(() => inboxTopic(assertInboxId(id), prefix));
  if (rebuilt !== topic) throw new Error(`mqtt-payload: parseInboxTopic accepted ${JSON.stringify(topic)} -> ${JSON.stringify(id)}, which rebuilds ${rebuilt instanceof Error ? rebuilt.message : JSON.stringify(rebuilt)}`);
}

function checkDidInbox(did: string): void {
  for (const clear of [false, true]) {
    const id = typed(() => inboxIdForDid(did, { clear }));
    if (id instanceof DidcommError) return;
    const topic = typed(() => inboxTopic(id));
    if (topic instanceof DidcommError || parseInboxTopic(topic) !== id) {
      throw new Error(`mqtt-payload: inbox id ${JSON.stringify(id)} of DID ${JSON.stringify(did)} (clear ${clear}) is not a usable topic level`);
    }
  }
}

// ---- mediator-request: Mediator.receive fed mutated requests ----

/**
 * One in-process mediator on memory stores (small mailbox quota; recreated every
 * MEDIATOR_RUNS runs so memory stays bounded) with a granted, enrolled device, on a ManualClock
 * that a run drives only while `receive` waits (delay_milli), so a hang shows as one.
 *
 * Input: a mode byte, then either a packed frame (mode % 6 == 0: fed as is) or a plaintext
 * message as JSON that the device packs for the mediator first (1 authcrypt JSON, 2 authcrypt
 * compact, 3 pairwise compact, 4 anoncrypt JSON, 5 signed-anoncrypt compact), so mutations reach
 * the protocol handlers behind the envelope layer as well as the envelope layer itself. JSON that
 * does not parse to an object is fed as a frame.
 *
 * `receive` never throws by contract. Findings: a throw, an `outcome.error` that is not a
 * DidcommError, a non-DidcommError reported to `onError` (the core masks internal failures as
 * ERR_STORE 'internal failure' and reports the original there), or a reply that is not bytes.
 */
const MEDIATOR_RUNS = 4000;
const MEDIATOR_MODES: Array<[WireFormat, RequestMode] | undefined> = [undefined, ['json', 'authcrypt'], ['compact', 'authcrypt'], ['compact', 'pairwise'], ['json', 'anoncrypt'], ['compact', 'signed-anoncrypt']];
const MEDIATOR_POLICY: Partial<MediatorPolicy> = {
  mailbox: { maxMessages: 32, maxBytes: 64 * 1024 },
  hold: { maxMessages: 8, maxBytes: 16 * 1024, ttlMs: 60_000 },
  unknownRecipient: 'accept-and-hold',
  maxDelayMs: 2000,
  // The clock stands still between runs: buckets big enough never to refill.
  senderRate: { perSecond: 1, burst: 1e12 },
  remoteRate: { perSecond: 1, burst: 1e12 },
};

interface MediatorRig {
  clock: ManualClock;
  mediator: Mediator;
  mediatorParty: Party;
  device: Party;
  sender: Party;
  session: Session;
  internal: unknown[];
  runs: number;
  close(): Promise<void>;
}

let mediatorRig: Promise<MediatorRig> | undefined;
/** Parties are reused across mediator instances (key generation is the slow part). */
let mediatorParties: { mediatorParty: Party; device: Party; sender: Party } | undefined;

async function openMediatorRig(): Promise<MediatorRig> {
  mediatorParties ??= { mediatorParty: makeParty(), device: makeParty(), sender: makeParty() };
  const { mediatorParty, device, sender } = mediatorParties;
  // The device keeps its pairwise state (sequence numbers only grow); the mediator's starts empty
  // in its new kv store, as after a restart that lost it.
  const clock = new ManualClock();
  const internal: unknown[] = [];
  const stores = memoryStores(clock, MEDIATOR_POLICY.mailbox);
  const mediator = await Mediator.create({ did: mediatorParty.did, ctx: mediatorParty.ctx, stores, policy: MEDIATOR_POLICY, clock, onError: (e) => internal.push(e) });
  await mediator.rememberPairwisePeer(device.did);
  await enroll(mediator, device);
  const session: Session = {
    id: 'fuzz:1', kind: 'mqtt', remote: 'fuzz:1', persistent: true, duplex: true, maxFrameBytes: 64 * 1024,
    returnRoute: 'none', push: async () => undefined, isOpen: () => true,
  };
  return {
    clock, mediator, mediatorParty, device, sender, session, internal, runs: 0,
    async close() {
      mediator.close();
      await stores.close();
    },
  };
}

/** The device's requests, as plaintext messages (forwards: from the sender, to the device). */
async function mediatorRequests(rig: MediatorRig): Promise<Message[]> {
  const { mediator, device, sender, mediatorParty } = rig;
  const to = mediator.did;
  const inner = (await pack(sender.ctx, { ...message, from: sender.did, to: [device.did] }, { mode: 'authcrypt', format: 'compact', to: [device.did], from: sender.did })).bytes;
  const innerJson = (await pack(sender.ctx, { ...message, from: sender.did, to: [device.did] }, { mode: 'authcrypt', format: 'json', to: [device.did], from: sender.did })).bytes;
  const other = makeParty().did;
  return [
    CM.mediateRequest(device.id(), device.did, to),
    CM.keylistUpdate(device.id(), device.did, to, [{ recipientDid: other, action: 'add' }, { recipientDid: device.did, action: 'remove' }, { recipientDid: device.did, action: 'add' }]),
    CM.keylistQuery(device.id(), device.did, to, { limit: 5, offset: 0 }),
    PU.statusRequest(device.id(), device.did, to, { recipientDid: device.did }),
    PU.deliveryRequest(device.id(), device.did, to, 3),
    PU.messagesReceived(device.id(), device.did, to, ['0a1b2c3d4e5f', device.id()]),
    PU.liveDeliveryChange(device.id(), device.did, to, true),
    ping(device.id(), device.did, to),
    queries(device.id(), device.did, to, [{ 'feature-type': 'protocol', match: 'https://didcomm.org/*' }]),
    { ...forwardMessage(mediatorParty.ctx, device.did, inner), to: [to] },
    { ...forwardMessage(mediatorParty.ctx, device.did, innerJson, { expires_time: Math.floor(rig.clock.now() / 1000) + 60, delay_milli: 5 } as Partial<Message>), to: [to], return_route: 'all' },
  ];
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
  {
    name: 'at-modem',
    async seeds() {
      const b64 = toBase64url(Uint8Array.of(0x00, 0x11, 0xaa, 0x2c, 0x0d, 0x0a, 0xe6, 0x83, 0x01)); // 12 characters
      const frame = Uint8Array.of(0xe6, 0x83, 0x01, 0x00, 0x7e, 0x2c, 0x0a);
      const lines = [
        `+RCV=7,${b64.length},${b64},-40,9`,
        `+RCV=65535,4,AQ-_,-120,-12`,
        `+RCV=0,${toBase64url(new Uint8Array(180).fill(0x5a)).length},${toBase64url(new Uint8Array(180).fill(0x5a))},-99,-20`,
        'radio_rx  0011AA',
        'radio_rx 0011aa2c0d',
        `radio_rx  ${'ab'.repeat(255)}`,
        '+EVT:RXP2P:-40:9:0011AA',
        `+EVT:RXP2P:-112:-7:${'E6'.repeat(250)}`,
        '+EVT:RXP2P RECEIVE TIMEOUT',
        '+OK\r\n+ERR=13\r\nok\r\nradio_tx_ok\r\nradio_err\r\nOK\r\nAT_BUSY_ERROR\r\n+EVT:TXP2P DONE',
        `+RCV=7,${b64.length},${b64},-40,9\r\nradio_rx  0011AA\r\n+EVT:RXP2P:-40:9:0011AA`,
      ].map(latin1ToBytes);
      const ebyte = [encodeCobsFrame(frame), encodeCobsFrame(new Uint8Array(235).map((_, i) => i)), Uint8Array.of(...encodeCobsFrame(Uint8Array.of(1)), ...encodeCobsFrame(frame))];
      return [...lines, ...ebyte];
    },
    async run(input) {
      const rig = await (modemRig ??= openModemRig());
      rig.frames.length = 0;
      rig.errors.length = 0;
      // Every driver gets the bytes as modem output, in two reads (split reads must not matter);
      // AT drivers then get an end of line, the Ebyte decoder a delimiter, so the input is parsed now.
      const cut = input.length >> 1;
      for (const node of rig.nodes) {
        node.modemSide.write(input.subarray(0, cut));
        node.modemSide.write(input.subarray(cut));
        node.modemSide.write(node.lines ? CRLF : DELIMITER);
      }
      // Lets the reads land and the drivers' follow-up commands (RN2483 re-arms its receiver) and
      // their timeouts run on virtual time.
      await rig.clock.advance(500);
      for (const e of rig.errors) {
        if (!(e instanceof DidcommError)) throw e;
        const crash = maskedCrash(e);
        if (crash !== undefined) throw crash instanceof Error ? crash : new Error(`at-modem: parser threw ${String(crash)}`);
      }
      for (const { node, frame, from } of rig.frames) {
        const d = node.driver;
        // `mtu` bounds what `send` accepts; a receiver may take any LoRa payload (RAK3172: 255 > 250).
        if (!(frame instanceof Uint8Array) || frame.length === 0 || frame.length > Math.max(d.mtu, LORA_MAX_PAYLOAD)) {
          throw new Error(`at-modem: ${d.kind} delivered a frame of ${frame instanceof Uint8Array ? frame.length : typeof frame} bytes`);
        }
        if (d.kind === 'lora-rylr' ? typeof from !== 'string' || !/^\d{1,5}$/.test(from) || Number(from) > 65535 : from !== undefined) {
          throw new Error(`at-modem: ${d.kind} delivered a frame from ${JSON.stringify(from)}`);
        }
      }
      for (const { driver } of rig.nodes) if (driver.state !== 'online') throw new Error(`at-modem: ${driver.kind} went ${driver.state}`);
      // Accepted when some driver took a frame from the input; otherwise the first typed refusal.
      if (rig.frames.length === 0 && rig.errors.length > 0) throw rig.errors[0];
    },
  },
  {
    name: 'mqtt-payload',
    async seeds() {
      const nul = Uint8Array.of(0);
      const join = (topic: string, rt: string | undefined, ct: string | undefined, payload: Uint8Array): Uint8Array =>
        Uint8Array.from([...utf8(topic), ...nul, ...(rt === undefined ? [] : [...utf8(rt), ...nul]), ...(ct === undefined || rt === undefined ? [] : [...utf8(ct), ...nul]), ...payload]);
      const bobInbox = inboxTopic(inboxIdForDid(bob.did), MQTT_PREFIX);
      const aliceInbox = inboxTopic(inboxIdForDid(alice.did), MQTT_PREFIX);
      const [compact] = await envelopes('compact');
      const [json] = await envelopes('json');
      return [
        join(bobInbox, aliceInbox, MEDIA_TYPE_COMPACT, compact!),
        join(bobInbox, aliceInbox, 'application/didcomm-encrypted+json; charset=utf-8', json!.subarray(0, 900)),
        join(inboxTopic(bob.did, MQTT_PREFIX), inboxTopic(alice.did, MQTT_PREFIX), 'didcomm-plain+json', utf8(JSON.stringify(message))),
        join(inboxTopic(inboxIdForDid(alice.did)), inboxTopic(peer.did), 'application/didcomm-signed+json', utf8('{"payload":"e30","signatures":[{"protected":"e30","signature":"AA"}]}')),
        join(`$share/g1/${bobInbox}`, undefined, undefined, Uint8Array.of(0xe6, 0x83, 1, 2, 3)),
        join(bobInbox, peer.did, MEDIA_TYPE_COMPACT, new Uint8Array(MQTT_MTU + 1).fill(0xe6)),
      ];
    },
    async run(input) {
      const probe = await (mqttProbe ??= openMqttProbe());
      const { fields, payload } = splitFields(input, 3);
      const topic = fields[0] ?? '';
      const rt = fields[1];
      const ct = fields[2];
      checkInboxTopic(topic, DEFAULT_TOPIC_PREFIX);
      checkInboxTopic(topic, MQTT_PREFIX);
      const prefix = typed(() => assertTopicPrefix(topic));
      if (!(prefix instanceof DidcommError) && parseInboxTopic(inboxTopic('x-1', prefix), prefix) !== 'x-1') {
        throw new Error(`mqtt-payload: prefix ${JSON.stringify(prefix)} accepted but its inbox topics do not parse`);
      }
      if (rt !== undefined) {
        checkInboxTopic(rt, MQTT_PREFIX);
        checkDidInbox(rt);
      }
      const mediaType = parseDidcommMediaType(ct);
      if (mediaType !== undefined && !(DIDCOMM_MEDIA_TYPES as readonly string[]).includes(mediaType)) throw new Error(`mqtt-payload: media type ${mediaType}`);
      const sniffed = typed(() => sniffMediaType(payload));
      if (typeof sniffed === 'string' && !(DIDCOMM_MEDIA_TYPES as readonly string[]).includes(sniffed)) throw new Error(`mqtt-payload: sniffed ${sniffed}`);

      probe.events.length = 0;
      const buffer = Buffer.from(payload);
      const properties: IPublishPacket['properties'] = {};
      if (rt !== undefined) properties.responseTopic = rt;
      if (ct !== undefined) properties.contentType = ct;
      if (payload.length > 0) properties.messageExpiryInterval = payload[0]! * 1000;
      const packet: IPublishPacket = { cmd: 'publish', topic, payload: buffer, qos: 1, dup: false, retain: false, messageId: 1, properties };
      probe.onInbound(topic, buffer, packet);
      const events = probe.events.splice(0);
      if (payload.length > MQTT_MTU) {
        const [only, ...rest] = events;
        if (rest.length || only?.[0] !== 'error' || !(only[1] instanceof DidcommError) || only[1].code !== 'ERR_TOO_LARGE') {
          throw new Error(`mqtt-payload: a ${payload.length}-byte payload over the mtu gave ${JSON.stringify(events.map((e) => e[0]))}`);
        }
        throw only[1];
      }
      const from = rt === undefined ? undefined : parseInboxTopic(rt, MQTT_PREFIX);
      const [m, f, ...more] = events;
      if (more.length || m?.[0] !== 'message' || f?.[0] !== 'frame') throw new Error(`mqtt-payload: events ${JSON.stringify(events.map((e) => e[0]))}`);
      const [, mFrame, info] = m;
      const [, fFrame, fFrom] = f;
      if (!(fFrame instanceof Uint8Array) || Buffer.compare(Buffer.from(fFrame), buffer) !== 0 || fFrame.buffer === buffer.buffer || mFrame !== fFrame) {
        throw new Error('mqtt-payload: the frame is not a private copy of the payload');
      }
      if (fFrom !== from || info.from !== from || info.topic !== topic || info.contentType !== ct || info.messageExpiryInterval !== properties.messageExpiryInterval) {
        throw new Error(`mqtt-payload: wrong metadata ${JSON.stringify({ fFrom, info })}`);
      }
    },
  },
  {
    name: 'mediator-request',
    async seeds() {
      const rig = await (mediatorRig ??= openMediatorRig());
      const { mediator, mediatorParty, device, sender } = rig;
      const out: Uint8Array[] = [];
      const requests = await mediatorRequests(rig);
      // Packed frames (mode 0), each request in each envelope kind the device uses.
      for (const m of requests.slice(0, 9)) {
        for (const [format, mode] of [['json', 'authcrypt'], ['compact', 'authcrypt'], ['compact', 'pairwise']] as const) {
          out.push(Uint8Array.of(0, ...(await packFor(device, mediator.did, m, format, mode))));
        }
      }
      out.push(Uint8Array.of(0, ...(await packFor(device, mediator.did, requests[3]!, 'compact', 'signed-anoncrypt'))));
      const med = { did: mediatorParty.did, kid: kidOf(mediatorParty) };
      for (const format of ['json', 'compact'] as const) {
        out.push(Uint8Array.of(0, ...(await forwardTo(sender, device.did, med, { temp: 21.5 }, format)).bytes));
        out.push(Uint8Array.of(0, ...(await forwardTo(sender, makeParty().did, med, { temp: 3 }, format, { expires_time: Math.floor(rig.clock.now() / 1000) + 600 })).bytes));
      }
      // Plaintext requests (modes 1-5, packed per run): the device's in every envelope kind, the
      // forwards authcrypted by the device or anonymous.
      requests.forEach((m, i) => {
        for (const mode of i >= 9 ? [1, 2, 4] : [1, 2, 3, 4, 5]) out.push(Uint8Array.of(mode, ...utf8(JSON.stringify(m))));
      });
      // Seeds packed with this instance's pairwise state; the fuzzer starts over on a fresh one.
      await rig.close();
      mediatorRig = undefined;
      return out;
    },
    async run(input) {
      let rig = await (mediatorRig ??= openMediatorRig());
      if (++rig.runs > MEDIATOR_RUNS) {
        await rig.close();
        rig = await (mediatorRig = openMediatorRig());
        rig.runs = 1;
      }
      const { clock, mediator, device, session, internal } = rig;
      session.returnRoute = 'none';
      internal.length = 0;

      let frame = input.subarray(1);
      const mode = input.length ? MEDIATOR_MODES[input[0]! % MEDIATOR_MODES.length] : undefined;
      if (mode) {
        let m: unknown;
        try {
          m = JSON.parse(Buffer.from(frame).toString('utf8')); // lenient: keeps mutated text usable
        } catch {
          m = undefined;
        }
        if (m !== null && typeof m === 'object' && !Array.isArray(m)) {
          // What the device's own stack would send: pack refusing a message is not a mediator finding.
          const packed = await packFor(device, mediator.did, m as Message, mode[0], mode[1]).catch((e: unknown) => e);
          if (!(packed instanceof Uint8Array)) {
            if (packed instanceof DidcommError) throw packed;
            return;
          }
          frame = packed;
        }
      }

      let outcome: Awaited<ReturnType<Mediator['receive']>> | undefined;
      let thrown: unknown;
      let settled = false;
      mediator.receive(frame, session).then(
        (o) => {
          outcome = o;
          settled = true;
        },
        (e: unknown) => {
          thrown = e;
          settled = true;
        },
      );
      await clock.runUntilDone(() => settled, 10_000);
      if (!settled) throw new Error('mediator-request: receive did not settle within 10 s of virtual time');
      if (thrown !== undefined) throw new Error(`mediator-request: receive threw ${String(thrown)}`, { cause: thrown });
      const bad = internal.find((e) => !(e instanceof DidcommError));
      if (bad !== undefined) throw bad instanceof Error ? bad : new Error(`mediator-request: internal failure ${String(bad)}`);
      if (!outcome || !Array.isArray(outcome.replies) || outcome.replies.some((r) => !(r instanceof Uint8Array) || r.length === 0)) {
        throw new Error('mediator-request: malformed outcome');
      }
      if (outcome.error !== undefined) {
        if (!(outcome.error instanceof DidcommError)) throw new Error(`mediator-request: outcome.error is not a DidcommError: ${String(outcome.error)}`, { cause: outcome.error });
        throw outcome.error;
      }
    },
  },
];
