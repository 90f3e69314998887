/**
 * src/provision/espruino.ts: the device config is derived so that each peer, deriving its side
 * from its own key and the device's DID (PairwiseSessions.contextFor), gets the mirror image;
 * transports are validated and completed with the Node side's defaults; bad input is a typed
 * DidcommError.
 */
import { describe, expect, it } from 'vitest';
import { createDid } from '../../src/did/create.js';
import { DidcommError } from '../../src/errors.js';
import { encodeCbor } from '../../src/cbor/encode.js';
import { didKeyBytes } from '../../src/envelope/compact/did-ref.js';
import { OfflineResolver } from '../../src/did/resolver.js';
import { contextFromConfig, deviceConfig, didRefHex, ESPRUINO_BOARDS, type DeviceConfigOptions } from '../../src/provision/espruino.js';
import { controller, device, mediator, NodeAgent } from './fixtures.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const base = (): DeviceConfigOptions => ({
  deviceSecrets: device,
  board: 'puck-js',
  peers: [
    { role: 'mediator', did: mediator.did },
    { role: 'controller', did: controller.did, via: 'mediator' },
  ],
  transport: { kind: 'lora-rylr', address: 7, gateway: 1 },
});

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return (e as DidcommError).code;
  }
  return 'accepted';
}

describe('deviceConfig', () => {
  it('derives one context per peer; each peer derives the mirror image from its own key', () => {
    const cfg = deviceConfig(base());
    expect(cfg).toMatchObject({ v: 1, board: 'puck-js', did: device.did });
    expect(cfg.contexts.map((c) => [c.role, c.via, c.peerDid])).toEqual([
      ['mediator', 'direct', mediator.did],
      ['controller', 'mediator', controller.did],
    ]);
    for (const [c, peer] of [
      [cfg.contexts[0]!, mediator],
      [cfg.contexts[1]!, controller],
    ] as const) {
      const mine = contextFromConfig(c);
      const theirs = new NodeAgent(peer).sessions.contextFor(peer.did, device.did);
      expect(hex(theirs.idContext)).toBe(c.idContext);
      expect(hex(theirs.commonIv)).toBe(c.commonIv);
      expect(hex(theirs.senderId)).toBe(hex(mine.recipientId));
      expect(hex(theirs.recipientId)).toBe(hex(mine.senderId));
      expect(hex(theirs.senderKey)).toBe(hex(mine.recipientKey));
      expect(hex(theirs.recipientKey)).toBe(hex(mine.senderKey));
      expect(c.selfDid).toBe(device.did);
      expect(c.peerRef).toBe(hex(encodeCbor(didKeyBytes(peer.did)!)));
      expect(c.peerRef.startsWith('5822ed01')).toBe(true); // 34-byte string: ed25519-pub multicodec + key
    }
    expect(cfg.contexts[0]!.idContext).not.toBe(cfg.contexts[1]!.idContext);
    expect(JSON.parse(JSON.stringify(cfg))).toEqual(cfg);
    expect(JSON.stringify(cfg).length).toBeLessThan(1500);
  });

  it('completes transports with the Node defaults (RYLR: SF7, BW125, CR4/5, preamble 8, 868.1 MHz, 1 %)', () => {
    expect(deviceConfig(base()).transport).toEqual({ kind: 'lora-rylr', address: 7, gateway: 1, networkId: 18, frequencyHz: 868_100_000, sf: 7, bandwidthHz: 125_000, codingRate: 1, preamble: 8, powerDbm: 14, dutyCycle: 0.01 });
    const custom = deviceConfig({ ...base(), transport: { kind: 'lora-rylr', address: 7, gateway: 0, sf: 9, preamble: 12, password: 'abcdef01', rx: 'D2', tx: 'D3', fragment: false, dutyCycle: 0.1 } }).transport;
    expect(custom).toMatchObject({ sf: 9, preamble: 12, password: 'ABCDEF01', rx: 'D2', tx: 'D3', fragment: false, dutyCycle: 0.1, gateway: 0 });
    expect(deviceConfig({ ...base(), transport: { kind: 'ble-nus' } }).transport).toEqual({ kind: 'ble-nus', mtu: 20, gapMs: 20 });
    expect(deviceConfig({ ...base(), transport: { kind: 'lora-rylr', address: 7, gateway: 1, commandTimeoutMs: 30_000 } }).transport).toMatchObject({ commandTimeoutMs: 30_000 });
    expect(() => deviceConfig({ ...base(), transport: { kind: 'lora-rylr', address: 7, gateway: 1, commandTimeoutMs: 5 } })).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
    expect(deviceConfig(base()).telemetry).toEqual({ intervalMs: 300_000, retryMs: 60_000, maxTries: 5, outbox: 4 });
  });

  it('names a did:peer:2 peer by its text (no binary form), and takes a given resolver', () => {
    const peer = createDid({ method: 'peer', services: ['https://mediator.example/didcomm'] });
    const cfg = deviceConfig({ ...base(), peers: [{ role: 'controller', did: peer.did }], resolver: new OfflineResolver({ documents: [peer.didDocument] }) });
    expect(cfg.contexts[0]!.peerRef).toBe(didRefHex(peer.did));
    expect(cfg.contexts[0]!.peerRef).toBe(hex(encodeCbor(peer.did)));
  });

  it.each<[string, (o: DeviceConfigOptions) => unknown]>([
    ['unknown board', (o) => ({ ...o, board: 'arduino' })],
    ['transport not in the bundle', (o) => ({ ...o, board: 'pico', transport: { kind: 'ble-nus' } })],
    ['unknown transport', (o) => ({ ...o, transport: { kind: 'carrier-pigeon' } })],
    ['address 0', (o) => ({ ...o, transport: { kind: 'lora-rylr', address: 0, gateway: 1 } })],
    ['address = gateway', (o) => ({ ...o, transport: { kind: 'lora-rylr', address: 3, gateway: 3 } })],
    ['sf 13', (o) => ({ ...o, transport: { kind: 'lora-rylr', address: 2, gateway: 1, sf: 13 } })],
    ['bandwidth', (o) => ({ ...o, transport: { kind: 'lora-rylr', address: 2, gateway: 1, bandwidthHz: 62_500 } })],
    ['duty cycle', (o) => ({ ...o, transport: { kind: 'lora-rylr', address: 2, gateway: 1, dutyCycle: 0 } })],
    ['password', (o) => ({ ...o, transport: { kind: 'lora-rylr', address: 2, gateway: 1, password: 'secret' } })],
    ['pin', (o) => ({ ...o, transport: { kind: 'lora-rylr', address: 2, gateway: 1, rx: 'D2;reset()' } })],
    ['ble mtu', (o) => ({ ...o, transport: { kind: 'ble-nus', mtu: 10 } })],
    ['no peers', (o) => ({ ...o, peers: [] })],
    ['two mediators', (o) => ({ ...o, peers: [{ role: 'mediator', did: mediator.did }, { role: 'mediator', did: controller.did }] })],
    ['bad role', (o) => ({ ...o, peers: [{ role: 'admin', did: controller.did }] })],
    ['via mediator without one', (o) => ({ ...o, peers: [{ role: 'controller', did: controller.did, via: 'mediator' }] })],
    ['the device as its own peer', (o) => ({ ...o, peers: [{ role: 'controller', did: device.did }] })],
    ['a peer twice', (o) => ({ ...o, peers: [{ role: 'controller', did: controller.did }, { role: 'controller', did: controller.did }] })],
    ['not a DID', (o) => ({ ...o, peers: [{ role: 'controller', did: 'controller' }] })],
    ['telemetry', (o) => ({ ...o, telemetry: { outbox: 0 } })],
    ['no secrets', (o) => ({ ...o, deviceSecrets: { did: device.did } })],
  ])('rejects %s with ERR_ARGUMENT', (_name, mutate) => {
    expect(code(() => deviceConfig(mutate(base()) as DeviceConfigOptions))).toBe('ERR_ARGUMENT');
  });

  it('needs X25519 on both sides', () => {
    const p256 = createDid({ keyType: 'P-256' });
    expect(code(() => deviceConfig({ ...base(), deviceSecrets: p256 }))).toBe('ERR_SECRET_NOT_FOUND');
    expect(code(() => deviceConfig({ ...base(), peers: [{ role: 'controller', did: p256.did }] }))).toBe('ERR_UNSUPPORTED');
    expect(code(() => deviceConfig({ ...base(), deviceSecrets: { did: device.did, secrets: controller.secrets } }))).toBe('ERR_SECRET_NOT_FOUND');
  });

  it('lists the boards that have bundles', () => {
    expect(Object.keys(ESPRUINO_BOARDS)).toEqual(['puck-js', 'pico', 'esp32', 'generic']);
  });
});
