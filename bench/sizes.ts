/**
 * Sizes of the reference telemetry message in every mode, ours (compact, with hints for known
 * peers and with full references on first contact) against didcomm-node's JSON in the same run,
 * with LoRa airtime at SF7 and SF12 (Semtech AN1200.13, BW125, CR4/5, 8-symbol preamble, CRC on)
 * and the distance to each mode's physical floor.
 */
import { pack } from '../src/envelope/index.js';
import { PairwiseSessions } from '../src/envelope/compact/pairwise-sessions.js';
import { encodePlaintextMap } from '../src/envelope/compact/plaintext.js';
import { encodeCbor } from '../src/cbor/encode.js';
import { wrapInForwards } from '../src/routing/forward.js';
import { airtimeMs, loraSettings } from '../transports/lora/airtime.js';
import { planFragments } from '../transports/fragment/header.js';
import type { DidDocument } from '../src/did/document.js';
import { PeerMessage, peerResolvers } from '../test/helpers/didcomm-node.js';
import { contextFor, parties, telemetryMessage, type Row } from './common.js';

const RAW_LORA_MTU = 255;

/** Airtime of a message sent over a raw LoRa radio: one packet if it fits, else our fragments. */
export function messageAirtimeMs(size: number, sf: number, mtu = RAW_LORA_MTU, airBytes = (n: number) => n): number {
  const settings = loraSettings({ sf: sf as 7 });
  if (size <= mtu) return airtimeMs(airBytes(size), settings);
  const offsets = planFragments(size, mtu);
  let total = 0;
  for (let i = 0; i + 1 < offsets.length; i++) {
    const payload = offsets[i + 1]! - offsets[i]!;
    const header = 1 + (i < 128 ? 1 : 2) + (i + 2 === offsets.length ? 4 : 0);
    total += airtimeMs(airBytes(payload + header), settings);
  }
  return total;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export async function sizes(): Promise<Row[]> {
  const { alice, bob, mediator } = parties;
  const A = contextFor(alice);
  const msg = telemetryMessage();
  const hints = { length: 2 };
  const medKid = mediator.didDocument.keyAgreement![0] as string;
  const bobWithMediator: DidDocument = {
    ...bob.didDocument,
    service: [{ id: `${bob.did}#didcomm`, type: 'DIDCommMessaging', serviceEndpoint: { uri: 'https://mediator.example', routingKeys: [medKid] } }],
  };
  const peer = peerResolvers([alice.didDocument, bobWithMediator, mediator.didDocument], alice.secrets);
  const peerSize = async (mode: string, forward = false): Promise<number | undefined> => {
    if (mode === 'pairwise') return undefined;
    const m = new PeerMessage(msg);
    if (mode === 'plaintext') return (await m.pack_plaintext(peer.didResolver)).length;
    if (mode === 'signed') return (await m.pack_signed(alice.did, peer.didResolver, peer.secretsResolver))[0].length;
    const from = mode === 'authcrypt' ? alice.did : null;
    if (!forward) {
      const noService = { resolve: async (d: string) => ({ ...(await peer.didResolver.resolve(d)), service: [] }) };
      return (await m.pack_encrypted(bob.did, from, null, noService, peer.secretsResolver, { forward: false }))[0].length;
    }
    const routed = {
      resolve: async (d: string) => {
        const doc = await peer.didResolver.resolve(d);
        if (d === bob.did) doc.service = [{ id: `${bob.did}#didcomm`, type: 'DIDCommMessaging', serviceEndpoint: { uri: 'https://mediator.example', accept: ['didcomm/v2'], routingKeys: [medKid] } }];
        return doc;
      },
    };
    return (await m.pack_encrypted(bob.did, from, null, routed, peer.secretsResolver, { forward: true }))[0].length;
  };
  const compact = async (mode: string, withHints: boolean): Promise<number> => {
    if (mode === 'plaintext') return (await pack(A, msg, { mode: 'plain', format: 'compact', ...(withHints ? { hints } : {}) })).bytes.length;
    if (mode === 'pairwise') return (await pack(A, msg, { mode: 'pairwise', format: 'compact', to: [bob.did], from: alice.did, pairwise: new PairwiseSessions(A) })).bytes.length;
    return (await pack(A, msg, { mode: mode as 'signed', format: 'compact', to: [bob.did], from: alice.did, ...(withHints ? { hints } : {}) })).bytes.length;
  };
  // The floors: the plaintext each mode must carry plus the unavoidable cryptographic bytes.
  const innerImplicit = encodeCbor(encodePlaintextMap(A, msg, { implicitFrom: alice.did, implicitTo: bob.did }).map).length + 1;
  const floors: Record<string, number> = {
    signed: innerImplicit + 64,
    anoncrypt: innerImplicit + 32 + 16,
    authcrypt: innerImplicit + 32 + 16,
    pairwise: innerImplicit + 8 + 1,
  };
  const rows: Row[] = [];
  for (const mode of ['plaintext', 'signed', 'anoncrypt', 'authcrypt', 'pairwise']) {
    const ours = await compact(mode, true);
    const theirs = await peerSize(mode);
    rows.push({
      name: mode,
      unit: 'bytes',
      ours,
      oursFirstContact: await compact(mode, false),
      peer: theirs,
      peerName: 'didcomm-node',
      ratio: theirs ? ours / theirs : undefined,
      floor: floors[mode],
      airtimeMsSF7: round1(messageAirtimeMs(ours, 7)),
      airtimeMsSF12: round1(messageAirtimeMs(ours, 12)),
      peerAirtimeMsSF12: theirs ? round1(messageAirtimeMs(theirs, 12)) : undefined,
    });
  }
  const inner = (await pack(A, msg, { mode: 'authcrypt', format: 'compact', to: [bob.did], from: alice.did, hints })).bytes;
  const fwd = await wrapInForwards(A, inner, { recipient: bob.did, routingKeys: [medKid], hints });
  const innerFull = (await pack(A, msg, { mode: 'authcrypt', format: 'compact', to: [bob.did], from: alice.did })).bytes;
  const fwdFull = await wrapInForwards(A, innerFull, { recipient: bob.did, routingKeys: [medKid] });
  const theirFwd = await peerSize('authcrypt', true);
  rows.push({
    name: 'authcrypt+1 mediator',
    unit: 'bytes',
    ours: fwd.length,
    oursFirstContact: fwdFull.length,
    peer: theirFwd,
    peerName: 'didcomm-node',
    ratio: theirFwd ? fwd.length / theirFwd : undefined,
    floor: floors.authcrypt! + 32 + 16 + 6,
    airtimeMsSF7: round1(messageAirtimeMs(fwd.length, 7)),
    airtimeMsSF12: round1(messageAirtimeMs(fwd.length, 12)),
    peerAirtimeMsSF12: theirFwd ? round1(messageAirtimeMs(theirFwd, 12)) : undefined,
  });
  return rows;
}
