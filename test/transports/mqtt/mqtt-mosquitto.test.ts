/**
 * MqttTransport against a real MQTT v5 broker (Mosquitto in CI), used only when MQTT_URL is set:
 * the Transport contract over v5, a 2 KB round trip with the sender's inbox as `from`, `$share`
 * work splitting between two mediator instances, v5 contentType / messageExpiryInterval on arrival,
 * and broker-side queueing for a persistent v5 session. Every test uses its own topic prefix, so
 * parallel runs on a shared broker do not see each other's frames.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttTransport, type MqttMessageInfo, type MqttTransportOptions } from '../../../transports/mqtt/index.js';
import { transportContract, waitUntil } from '../contract.js';

const MQTT_URL = process.env.MQTT_URL;
const SKIP = 'skipped: MQTT_URL is not set (needs an MQTT v5 broker such as Mosquitto)';
const RUN = randomBytes(4).toString('hex');
let counter = 0;
const uniquePrefix = (): string => `test/${RUN}-${counter++}/didcomm/v1`;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const open: MqttTransport[] = [];

async function connect(options: Partial<MqttTransportOptions>): Promise<MqttTransport> {
  const t = await MqttTransport.connect({ url: MQTT_URL!, ...options });
  open.push(t);
  return t;
}

if (MQTT_URL) {
  transportContract('mqtt (MQTT_URL broker, MQTT v5)', async () => {
    const topicPrefix = uniquePrefix();
    const a = await MqttTransport.connect({ url: MQTT_URL, did: 'did:example:alice', topicPrefix });
    const b = await MqttTransport.connect({ url: MQTT_URL, did: 'did:example:bob', topicPrefix });
    return { a, b, bAddress: b.address };
  });
} else {
  describe('Transport contract: mqtt (MQTT_URL broker, MQTT v5)', () => {
    it.skipIf(!MQTT_URL)(SKIP, () => undefined);
  });
}

describe(`MqttTransport on the MQTT_URL broker (v5)${MQTT_URL ? '' : ` — ${SKIP}`}`, () => {
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });

  it.skipIf(!MQTT_URL)('carries a 2 KB message intact over v5, with the sender inbox as from', async () => {
    const topicPrefix = uniquePrefix();
    const a = await connect({ did: 'did:example:alice', topicPrefix });
    const b = await connect({ did: 'did:example:bob', topicPrefix });
    expect(a.protocolVersion).toBe(5);
    const got: Array<[Uint8Array, string | undefined]> = [];
    b.on('frame', (f, from) => got.push([f, from]));
    const twoKb = new Uint8Array(randomBytes(2048));
    await a.send(twoKb, b.address);
    await waitUntil(() => got.length === 1, {});
    expect(hex(got[0]![0])).toBe(hex(twoKb));
    expect(got[0]![1]).toBe(a.address);
  });

  it.skipIf(!MQTT_URL)('splits a $share group: each message reaches exactly one of two mediator instances', async () => {
    const topicPrefix = uniquePrefix();
    const mediator = { did: 'did:example:mediator', topicPrefix, shareGroup: `mediators-${RUN}` };
    const m1 = await connect(mediator);
    const m2 = await connect(mediator);
    const device = await connect({ did: 'did:example:device', topicPrefix, defaultTo: m1.address! });
    const seen = [new Map<number, number>(), new Map<number, number>()];
    [m1, m2].forEach((m, i) => m.on('frame', (f) => seen[i]!.set(f[0]!, (seen[i]!.get(f[0]!) ?? 0) + 1)));
    const n = 20;
    for (let k = 0; k < n; k++) await device.send(Uint8Array.of(k, 0xee));
    await waitUntil(() => seen[0]!.size + seen[1]!.size >= n, {});
    await new Promise((r) => setTimeout(r, 100)); // a duplicate would show up by now
    const all = [...seen[0]!.keys(), ...seen[1]!.keys()].sort((x, y) => x - y);
    expect(all).toEqual([...Array(n).keys()]); // every message once overall
    for (const s of seen) for (const count of s.values()) expect(count).toBe(1);
    expect(seen[0]!.size).toBeGreaterThan(0);
    expect(seen[1]!.size).toBeGreaterThan(0);
  });

  it.skipIf(!MQTT_URL)('delivers v5 contentType and messageExpiryInterval; "auto" sniffs the media type', async () => {
    const topicPrefix = uniquePrefix();
    const a = await connect({ did: 'did:example:a5', topicPrefix, contentType: 'auto' });
    const b = await connect({ did: 'did:example:b5', topicPrefix });
    const infos: MqttMessageInfo[] = [];
    b.on('message', (_f, info) => infos.push(info));
    await a.send(Uint8Array.of(0xd8, 1, 2), b.address, { contentType: 'application/didcomm-encrypted+json', messageExpiryInterval: 600 });
    await a.send(new TextEncoder().encode('{"protected":"x","recipients":[],"ciphertext":"y"}'), b.address);
    await a.send(Uint8Array.of(0xa1, 0x01), b.address);
    await waitUntil(() => infos.length === 3, {});
    expect(infos[0]!.contentType).toBe('application/didcomm-encrypted+json');
    expect(infos[0]!.messageExpiryInterval).toBeGreaterThan(590);
    expect(infos[0]!.messageExpiryInterval).toBeLessThanOrEqual(600);
    expect(infos[0]!.from).toBe(a.address);
    expect(infos[1]!.contentType).toBe('application/didcomm-encrypted+json');
    expect(infos[1]!.messageExpiryInterval).toBeUndefined();
    expect(infos[2]!.contentType).toBe('application/didcomm-compact');
  });

  it.skipIf(!MQTT_URL)('a persistent v5 session gets the frames sent while it was away', async () => {
    const topicPrefix = uniquePrefix();
    const clientId = `didcomm-test-${RUN}-${counter}`;
    const device = { did: 'did:example:sleepy', topicPrefix, clean: false, sessionExpiryInterval: 60, clientId };
    const first = await connect(device);
    const address = first.address!;
    await first.close();
    const sender = await connect({ did: 'did:example:sender', topicPrefix });
    await sender.send(Uint8Array.of(1, 2, 3), address);
    const got: Uint8Array[] = [];
    const again = new MqttTransport({ url: MQTT_URL!, ...device });
    open.push(again);
    again.on('frame', (f) => got.push(f));
    await waitUntil(() => got.length === 1, {});
    expect(hex(got[0]!)).toBe('010203');
    // End the session now rather than leaving it on a shared broker for its expiry.
    await again.close();
    const cleanup = await connect({ ...device, clean: true, sessionExpiryInterval: 0 });
    await cleanup.close();
  });
});
