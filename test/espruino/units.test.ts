/**
 * The Espruino endpoint's building blocks, run from their TypeScript sources under Node and
 * checked against the Node implementations they must match byte for byte: deterministic CBOR
 * (src/cbor), AES-128 (node:crypto, FIPS-197), AES-CCM (node backend, RFC 3610), pairwise
 * frames (src/envelope/compact/pairwise.ts), the replay window (pairwise-sessions.ts semantics,
 * BigInt reference), the fragment wire format (transports/fragment), and the Storage state.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeCbor } from '../../src/cbor/encode.js';
import { decodeCbor } from '../../src/cbor/decode.js';
import { CborTag, type CborValue } from '../../src/cbor/types.js';
import { nodeBackend } from '../../src/crypto/node.js';
import { sealPairwise, type PairwiseContext } from '../../src/envelope/compact/pairwise.js';
import { crc32 as nodeCrc32 } from '../../transports/fragment/crc32.js';
import { encodeAck, encodeData, encodeProbe, messageCrc, planFragments } from '../../transports/fragment/header.js';
import { CMap, Raw, Tag, decode, encode, type CValue } from '../../boards/espruino/src/cbor.js';
import { jsAes128, useJsAesFallback } from '../../boards/espruino/src/aes.js';
import { ccmOpen, ccmSeal } from '../../boards/espruino/src/ccm.js';
import { accept, isReplay, openFrame, parseContext, parseFrame, sealFrame, type Window } from '../../boards/espruino/src/pairwise.js';
import { crc32, fragmentMessage, FragmentLayer, type Link } from '../../boards/espruino/src/fragment.js';
import { State } from '../../boards/espruino/src/state.js';
import { fromUtf8, utf8 } from '../../boards/espruino/src/bytes.js';

useJsAesFallback();

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// ---- CBOR ----------------------------------------------------------------------------------

/** One value in both representations: [device CValue, Node CborValue]. */
type Pair = [CValue, CborValue];
// Every BMP character outside the surrogate range, U+FEFF included (a leading BOM must survive).
const bmp = fc.oneof(fc.integer({ min: 0, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0xffff })).map((c) => String.fromCharCode(c));
const leaf: fc.Arbitrary<Pair> = fc.oneof(
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }).map((n): Pair => [n, n]),
  fc.integer({ min: -100000, max: 100000 }).map((n): Pair => [n, n]),
  fc.double().map((n): Pair => [n, n]),
  fc.constantFrom(21.75, -0.5, 0.1, 65504, 1e-7, 3.4028234663852886e38, 5.960464477539063e-8, -0).map((n): Pair => [n, n]),
  fc.string({ unit: bmp, maxLength: 30 }).map((s): Pair => [s, s]),
  fc.uint8Array({ maxLength: 40 }).map((b): Pair => [b, b]),
  fc.constantFrom<Pair>([true, true], [false, false], [null, null]),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b): Pair => [new Tag(37, b), new CborTag(37, b)]),
);
const value: fc.Arbitrary<Pair> = fc.letrec<{ v: Pair }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('v'), { maxLength: 5 }).map((xs): Pair => [xs.map((x) => x[0]), xs.map((x) => x[1])]),
    fc
      .uniqueArray(fc.tuple(fc.oneof(fc.integer({ min: -30, max: 300 }), fc.string({ unit: bmp, maxLength: 6 })), tie('v')), { maxLength: 6, selector: (e) => `${typeof e[0]}:${e[0]}` })
      .map((es): Pair => {
        const m = new CMap();
        const n = new Map<CborValue, CborValue>();
        for (const [k, v] of es) {
          m.set(k, v[0]);
          n.set(k, v[1]);
        }
        return [m, n];
      }),
  ),
})).v;

function same(a: CValue, b: CborValue): boolean {
  if (a instanceof CMap) {
    if (!(b instanceof Map) || b.size !== a.k.length) return false;
    return a.k.every((k, i) => b.has(k as CborValue) && same(a.v[i]!, b.get(k as CborValue)!));
  }
  if (a instanceof Tag) return b instanceof CborTag && a.tag === b.tag && same(a.value, b.value);
  if (a instanceof Uint8Array) return b instanceof Uint8Array && hex(a) === hex(b);
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]!));
  return Object.is(a, b);
}

describe('device CBOR', () => {
  it('encodes exactly as the Node deterministic encoder, and decodes what it encodes', () => {
    fc.assert(
      fc.property(value, ([dev, node]) => {
        const bytes = encode(dev);
        expect(hex(bytes)).toBe(hex(encodeCbor(node)));
        expect(same(dev, decodeCbor(bytes, { allowedTags: [37], maxDepth: 64 }))).toBe(true);
        try {
          expect(same(decode(bytes, 0), node)).toBe(true);
        } catch (e) {
          // Only the device reader's own limits may refuse a valid encoding.
          expect(String(e)).toMatch(/cbor (deep|items)/);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('splices Raw bytes and rejects what the Node decoder rejects', () => {
    expect(hex(encode(new CMap().set(2, 1).set(1, new Raw(Uint8Array.of(0x44, 1, 2, 3, 4)))))).toBe('a2014401020304' + '0201');
    for (const bad of ['1805', '190017', '9f00ff', 'a202000100', 'a201000100', '0000', '43010203ff', '62c328', '5a00000001', 'f7', 'f818', 'fc', '1c']) {
      expect(() => decode(Buffer.from(bad, 'hex'), 0), bad).toThrow();
    }
    expect(() => decode(Uint8Array.from([...Array(10).fill(0x81), 0]), 0)).toThrow(/deep/);
    expect(() => decode(Uint8Array.from([0x98, 200, ...Array(200).fill(0)]), 0)).toThrow(/items/);
    expect(() => encode(new CMap().set(1, 1).set(1, 2))).toThrow();
  });

  it('UTF-8 round-trips BMP text and rejects bad sequences', () => {
    fc.assert(
      fc.property(fc.string({ unit: bmp }), (s) => {
        expect(hex(utf8(s))).toBe(Buffer.from(s, 'utf8').toString('hex'));
        expect(fromUtf8(utf8(s))).toBe(s);
      }),
    );
    for (const bad of ['80', 'c3', 'c328', 'e282', 'f09f9880', 'ff']) expect(() => fromUtf8(Buffer.from(bad, 'hex')), bad).toThrow();
  });
});

// ---- AES, CCM -----------------------------------------------------------------------------

describe('device AES-128 and AES-CCM', () => {
  it('pure-JS AES matches FIPS-197 C.1 and node:crypto aes-128-ecb', () => {
    const enc = jsAes128(Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'));
    expect(hex(enc(Buffer.from('00112233445566778899aabbccddeeff', 'hex')))).toBe('69c4e0d86a7b0430d8cdb78070b4c55a');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 1, max: 4 }), (key, n) => {
        const blocks = randomBytes(16 * n);
        const c = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
        expect(hex(jsAes128(key)(blocks))).toBe(hex(Buffer.concat([c.update(blocks), c.final()])));
      }),
      { numRuns: 200 },
    );
  });

  it('CCM matches RFC 3610 packet vector #1 and the Node backend; any changed bit fails', () => {
    const key = Buffer.from('c0c1c2c3c4c5c6c7c8c9cacbcccdcecf', 'hex');
    const nonce = Buffer.from('00000003020100a0a1a2a3a4a5', 'hex');
    const aad = Buffer.from('0001020304050607', 'hex');
    const pt = Buffer.from('08090a0b0c0d0e0f101112131415161718191a1b1c1d1e', 'hex');
    expect(hex(ccmSeal(jsAes128(key), nonce, pt, aad))).toBe('588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0');
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 13, maxLength: 13 }),
        fc.uint8Array({ maxLength: 70 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.nat(),
        (k, n, p, a, flip) => {
          const sealed = ccmSeal(jsAes128(k), n, p, a);
          expect(hex(sealed)).toBe(hex(nodeBackend.aesCcmSeal(k, n, p, a, 8)));
          expect(hex(ccmOpen(jsAes128(k), n, sealed, a)!)).toBe(hex(p));
          const bad = sealed.slice();
          bad[flip % bad.length]! ^= 1 << flip % 8;
          expect(ccmOpen(jsAes128(k), n, bad, a)).toBeNull();
        },
      ),
      { numRuns: 200 },
    );
  });
});

// ---- pairwise -----------------------------------------------------------------------------

const nodeContext = fc.record({
  idContext: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  senderId: fc.uint8Array({ minLength: 1, maxLength: 7 }),
  recipientId: fc.uint8Array({ minLength: 1, maxLength: 7 }),
  senderKey: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  recipientKey: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  commonIv: fc.uint8Array({ minLength: 13, maxLength: 13 }),
}).map((c): PairwiseContext => ({ selfDid: 'did:example:a', peerDid: 'did:example:b', ...c }));

const deviceContext = (c: PairwiseContext, role = 'controller') =>
  parseContext({ role, idContext: hex(c.idContext), senderId: hex(c.senderId), recipientId: hex(c.recipientId), senderKey: hex(c.senderKey), recipientKey: hex(c.recipientKey), commonIv: hex(c.commonIv) }, 0);
const mirror = (c: PairwiseContext): PairwiseContext => ({ ...c, senderId: c.recipientId, recipientId: c.senderId, senderKey: c.recipientKey, recipientKey: c.senderKey });

describe('device pairwise frames', () => {
  it('seal byte-for-byte as sealPairwise and open what the peer seals', () => {
    fc.assert(
      fc.property(nodeContext, fc.oneof(fc.nat(300), fc.integer({ min: 0, max: 2 ** 40 - 1 })), fc.uint8Array({ maxLength: 90 }), (c, seq, inner) => {
        const dev = deviceContext(c);
        const frame = sealFrame(dev, seq, inner);
        expect(hex(frame)).toBe(hex(sealPairwise(nodeBackend, c, seq, inner)));
        const fromPeer = sealPairwise(nodeBackend, mirror(c), seq, inner);
        const h = parseFrame(fromPeer)!;
        expect(h._seq).toBe(seq);
        expect(hex(openFrame(dev, h)!)).toBe(hex(inner));
        // Its own frame is not one it accepts (other direction, other key and nonce).
        expect(openFrame(dev, parseFrame(frame)!)).toBeNull();
      }),
      { numRuns: 150 },
    );
  });

  it('rejects short frames, non-canonical or oversized sequence numbers', () => {
    const tail = '00'.repeat(8);
    expect(parseFrame(Buffer.from(`e9aa05${tail}`, 'hex'))).not.toBeNull();
    expect(parseFrame(Buffer.from(`e9aa8500${tail}`, 'hex'))).toBeNull(); // 5 with a redundant continuation
    expect(parseFrame(Buffer.from(`e9aaffffffffff7f${tail}`, 'hex'))).toBeNull(); // beyond 2^40 - 1
    expect(parseFrame(Buffer.from(`e9aaffffffffff1f${tail}`, 'hex'))!._seq).toBe(2 ** 40 - 1);
    expect(parseFrame(Buffer.from(`e9aa05${'00'.repeat(7)}`, 'hex'))).toBeNull();
    expect(parseFrame(Buffer.from(`e8aa05${tail}`, 'hex'))).toBeNull();
  });

  it('replay window matches the 64-entry BigInt window of PairwiseSessions', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.nat(150), fc.integer({ min: 0, max: 2 ** 40 - 1 })), { maxLength: 200 }), (seqs) => {
        const w: Window = [-1, 0, 0];
        let highest = -1;
        let bits = 0n;
        for (const seq of seqs) {
          const age = highest - seq;
          const replay = seq <= highest && (age >= 64 || ((bits >> BigInt(age)) & 1n) === 1n);
          expect(isReplay(w, seq)).toBe(replay);
          if (replay) continue;
          accept(w, seq);
          if (seq > highest) {
            const shift = seq - highest;
            bits = shift >= 64 ? 1n : ((bits << BigInt(shift)) | 1n) & ((1n << 64n) - 1n);
            highest = seq;
          } else bits |= 1n << BigInt(highest - seq);
          expect(w[0]).toBe(highest);
          expect(BigInt(w[1]!) | (BigInt(w[2]!) << 32n)).toBe(bits);
        }
      }),
      { numRuns: 300 },
    );
  });
});

// ---- fragments ----------------------------------------------------------------------------

class TestLink implements Link {
  sent: Array<[Uint8Array, string | undefined]> = [];
  onFrame: ((frame: Uint8Array, from: string | undefined) => void) | null = null;
  mtu: number;
  constructor(mtu: number) {
    this.mtu = mtu;
  }
  send(frame: Uint8Array, to: string | undefined, done: (ok: boolean) => void): void {
    this.sent.push([frame, to]);
    done(true);
  }
}

describe('device fragment layer', () => {
  it('splits exactly like planFragments/encodeData (one-way) with the same CRC-32', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), fc.integer({ min: 8, max: 200 }), fc.nat(31), (msg, mtu, id) => {
        expect(crc32(id, msg)).toBe(nodeCrc32(Uint8Array.of(id), msg));
        const offsets = planFragments(msg.length, mtu);
        const expected = [];
        for (let i = 0; i + 1 < offsets.length; i++) {
          const last = i + 2 === offsets.length;
          expected.push(hex(encodeData({ id, index: i, last, ackWanted: false, crc: last ? messageCrc(id, msg) : 0, payload: msg.subarray(offsets[i], offsets[i + 1]) })));
        }
        expect(fragmentMessage(id, msg, mtu).map(hex)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('reassembles shuffled, duplicated ack-on-error fragments once, ACKs, and re-ACKs duplicates', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 400 }), fc.nat(31), fc.integer({ min: 20, max: 60 }), fc.array(fc.nat(), { maxLength: 30 }), (msg, id, mtu, order) => {
        const link = new TestLink(mtu);
        const layer = new FragmentLayer(link, 512, () => 0, 60000, 0);
        const got: Uint8Array[] = [];
        layer.onMessage = (m) => got.push(m);
        const offsets = planFragments(msg.length, mtu);
        const frames = [];
        for (let i = 0; i + 1 < offsets.length; i++) {
          const last = i + 2 === offsets.length;
          frames.push(encodeData({ id, index: i, last, ackWanted: true, crc: last ? messageCrc(id, msg) : 0, payload: msg.subarray(offsets[i], offsets[i + 1]) }));
        }
        const shuffled = frames.slice();
        for (let i = 0; i < order.length; i++) {
          const j = order[i]! % shuffled.length;
          [shuffled[0], shuffled[j]] = [shuffled[j]!, shuffled[0]!];
        }
        for (const f of [...shuffled, ...shuffled.slice(0, 2)]) link.onFrame!(f, '7');
        expect(got.map(hex)).toEqual([hex(msg)]);
        const ack = hex(encodeAck(id, messageCrc(id, msg)));
        expect(link.sent.filter(([f]) => hex(f) === ack).length).toBeGreaterThanOrEqual(1);
        expect(link.sent.every(([, to]) => to === '7')).toBe(true);
        // A PROBE of the completed message is answered with the ACK again.
        link.sent = [];
        link.onFrame!(encodeProbe(id, offsets.length - 2, messageCrc(id, msg)), '7');
        expect(link.sent.map(([f]) => hex(f))).toEqual([ack]);
      }),
      { numRuns: 200 },
    );
  });

  it('survives garbage and keeps its tables bounded', () => {
    const link = new TestLink(20);
    const layer = new FragmentLayer(link, 512, () => 0, 60000, 0);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.string({ maxLength: 3 }), (f, from) => link.onFrame!(f, from)), { numRuns: 2000 });
    expect(layer._partials.length).toBeLessThanOrEqual(2);
    expect(layer._done.length).toBeLessThanOrEqual(4);
    expect(layer._partials.every((p) => p._bytes <= 512)).toBe(true);
  });
});

// ---- Storage state ------------------------------------------------------------------------

describe('device state in Storage', () => {
  it('reserves sequence numbers and ids in persisted blocks: a reboot never goes back', () => {
    const files = new Map<string, string>();
    const store = { readJSON: (n: string) => (files.has(n) ? JSON.parse(files.get(n)!) : undefined), writeJSON: (n: string, d: unknown) => (files.set(n, JSON.stringify(d)), true) };
    const used: number[] = [];
    const ids: number[] = [];
    for (let boot = 0; boot < 5; boot++) {
      const s = new State(store, 'st', 4, 16);
      for (let i = 0; i < boot + 2; i++) {
        const seq = s.nextSeq('ctx.0');
        // Persisted before it is handed out.
        expect(JSON.parse(files.get('st')!).s['ctx.0']).toBeGreaterThan(seq);
        used.push(seq);
        ids.push(s.nextMessageId());
      }
    }
    expect(new Set(used).size).toBe(used.length);
    expect(used).toEqual([...used].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    // A corrupt file starts clean rather than crashing (the device then needs re-provisioning).
    files.set('st', '{"s":1}');
    expect(new State(store, 'st', 4, 16).nextSeq('x')).toBe(0);
  });
});
