/**
 * NobleBleLink against fake noble objects (the noble module is injected, no radio needed):
 * scan -> connect -> discover NUS characteristics -> subscribe -> chunked writes -> notifications.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/util/clock.js';
import { DidcommError } from '../../../src/errors.js';
import { BleNusTransport, NobleBleLink, compactUuid, NUS_RX_UUID, NUS_SERVICE_UUID, NUS_TX_UUID } from '../../../transports/ble/index.js';
import { FragmentTransport } from '../../../transports/fragment/index.js';
import { bytesOf, settle } from '../fragment/helpers.js';
import { equalBytes } from '../../../src/util/bytes.js';

class FakeCharacteristic extends EventEmitter {
  readonly writes: Array<{ data: Uint8Array; withoutResponse: boolean }> = [];
  subscribed = false;
  failWrites = false;
  readonly uuid: string;
  constructor(uuid: string) {
    super();
    this.uuid = uuid;
  }
  async writeAsync(data: Uint8Array, withoutResponse: boolean): Promise<void> {
    if (this.failWrites) throw new Error('GATT write failed');
    this.writes.push({ data: new Uint8Array(data), withoutResponse });
  }
  async subscribeAsync(): Promise<void> {
    this.subscribed = true;
  }
  async unsubscribeAsync(): Promise<void> {
    this.subscribed = false;
  }
  /** The peripheral notifies (as a Node Buffer, like noble). */
  notify(bytes: Uint8Array): void {
    this.emit('data', Buffer.from(bytes), true);
  }
}

class FakePeripheral extends EventEmitter {
  state = 'disconnected';
  connects = 0;
  readonly rx = new FakeCharacteristic(compactUuid(NUS_RX_UUID));
  readonly tx = new FakeCharacteristic(compactUuid(NUS_TX_UUID));
  discovered: string[][] = [];
  readonly id: string;
  readonly address: string;
  readonly advertisement: { localName?: string; serviceUuids?: string[] };
  mtu: number | null;
  private readonly hasNus: boolean;
  constructor(id: string, address: string, advertisement: { localName?: string; serviceUuids?: string[] }, mtu: number | null, hasNus = true) {
    super();
    this.id = id;
    this.address = address;
    this.advertisement = advertisement;
    this.mtu = mtu;
    this.hasNus = hasNus;
  }
  async connectAsync(): Promise<void> {
    this.connects++;
    this.state = 'connected';
  }
  async disconnectAsync(): Promise<void> {
    if (this.state === 'disconnected') return;
    this.state = 'disconnected';
    this.emit('disconnect', 'local');
  }
  async discoverSomeServicesAndCharacteristicsAsync(services: string[], characteristics: string[]) {
    this.discovered.push([...services, ...characteristics]);
    return { services: [], characteristics: this.hasNus ? [this.rx, this.tx] : [] };
  }
  /** The remote side drops the connection. */
  drop(): void {
    this.state = 'disconnected';
    this.emit('disconnect', 0x08);
  }
}

class FakeNoble extends EventEmitter {
  address = 'aa:bb:cc:dd:ee:ff';
  scans: Array<string[] | undefined> = [];
  scanning = false;
  state: string;
  private readonly advertising: FakePeripheral[];
  constructor(state: string, advertising: FakePeripheral[]) {
    super();
    this.state = state;
    this.advertising = advertising;
  }
  async startScanningAsync(uuids?: string[]): Promise<void> {
    this.scans.push(uuids);
    this.scanning = true;
    queueMicrotask(() => {
      for (const p of this.advertising) this.emit('discover', p);
    });
  }
  async stopScanningAsync(): Promise<void> {
    this.scanning = false;
  }
  power(state: string): void {
    this.state = state;
    this.emit('stateChange', state);
  }
}

const NUS = compactUuid(NUS_SERVICE_UUID);

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return (e as DidcommError).code;
  }
  throw new Error('expected a rejection');
}

/** Lets a promise settle while advancing virtual time. */
async function run<T>(clock: ManualClock, p: Promise<T>): Promise<T> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await clock.runUntilDone(() => done, 600_000);
  return p;
}

describe('NobleBleLink (fake noble)', () => {
  it('scans, connects, discovers NUS, subscribes; writes in chunks of ATT MTU - 3; notifications become frames', async () => {
    const clock = new ManualClock();
    const other = new FakePeripheral('other', '11:11:11:11:11:11', { localName: 'thermo', serviceUuids: ['180f'] }, 23);
    const puck = new FakePeripheral('puck-1', 'c0:ff:ee:00:00:01', { localName: 'Puck.js 1234', serviceUuids: [NUS] }, 53);
    const noble = new FakeNoble('poweredOff', [other, puck]);
    const link = new NobleBleLink({ noble, clock });
    const connecting = link.connect();
    await clock.advance(100);
    noble.power('poweredOn');
    await run(clock, connecting);
    expect(noble.scans).toEqual([[NUS]]);
    expect(noble.scanning).toBe(false);
    expect(other.connects).toBe(0);
    expect(puck.connects).toBe(1);
    expect(puck.discovered[0]).toEqual([NUS, compactUuid(NUS_RX_UUID), compactUuid(NUS_TX_UUID)]);
    expect(puck.tx.subscribed).toBe(true);
    expect(link.connected).toBe(true);
    expect(link.attMtu).toBe(53);
    expect(link.peerAddress).toBe('c0:ff:ee:00:00:01');
    expect(link.localAddress).toBe('aa:bb:cc:dd:ee:ff');

    const transport = new BleNusTransport(link);
    expect(transport.mtu).toBe(50);
    expect(transport.state).toBe('online');
    await link.write(bytesOf(120));
    expect(puck.rx.writes.map((w) => w.data.length)).toEqual([50, 50, 20]);
    expect(puck.rx.writes.every((w) => w.withoutResponse === false)).toBe(true);
    expect(equalBytes(Uint8Array.from(puck.rx.writes.flatMap((w) => [...w.data])), bytesOf(120))).toBe(true);

    const frames: Array<[number[], string | undefined]> = [];
    transport.on('frame', (f, from) => frames.push([[...f], from]));
    puck.tx.notify(Uint8Array.of(1, 2, 3));
    expect(frames).toEqual([[[1, 2, 3], 'c0:ff:ee:00:00:01']]);
    expect(frames.every(([f]) => Array.isArray(f))).toBe(true);

    // The MTU can be renegotiated while connected.
    puck.emit('mtu', 247);
    expect(transport.mtu).toBe(244);
    await transport.close();
    expect(puck.state).toBe('disconnected');
    expect(puck.tx.subscribed).toBe(false);
  });

  it('carries a fragmented 2 KB message over the noble link at the default MTU', async () => {
    const clock = new ManualClock();
    const puck = new FakePeripheral('p', 'p-addr', { serviceUuids: [NUS] }, null);
    const link = new NobleBleLink({ noble: new FakeNoble('poweredOn', [puck]), clock, withoutResponse: true });
    await run(clock, link.connect());
    expect(link.attMtu).toBe(23);
    const central = new FragmentTransport(new BleNusTransport(link), { clock, mode: 'one-way' });
    const message = bytesOf(2048, 5);
    expect(await settle(clock, central.send(message))).toBe('ok');
    expect(puck.rx.writes.every((w) => w.data.length <= 20 && w.withoutResponse)).toBe(true);
    // Play the writes back as notifications into a second receiver of the same frames.
    const rxLink = new NobleBleLink({ noble: new FakeNoble('poweredOn', [new FakePeripheral('q', 'q', { serviceUuids: [NUS] }, 23)]), clock });
    await run(clock, rxLink.connect());
    const receiver = new FragmentTransport(new BleNusTransport(rxLink), { clock });
    const got: Uint8Array[] = [];
    receiver.on('frame', (m) => got.push(m));
    const q = (rxLink as unknown as { tx: FakeCharacteristic }).tx;
    for (const w of puck.rx.writes) q.notify(w.data);
    expect(got.map((m) => equalBytes(m, message))).toEqual([true]);
  });

  it('selects a peripheral by name and scans without a service filter', async () => {
    const clock = new ManualClock();
    const a = new FakePeripheral('a', 'a', { localName: 'Bangle.js 2' }, 131);
    const b = new FakePeripheral('b', 'b', { localName: 'Puck.js' }, 53);
    const noble = new FakeNoble('poweredOn', [a, b]);
    const link = new NobleBleLink({ noble, clock, peripheral: { localName: 'Puck.js' } });
    await run(clock, link.connect());
    expect(noble.scans).toEqual([[]]);
    expect(link.peerAddress).toBe('b');
  });

  it('reports disconnects, rejects writes while down, and reconnects on the clock with backoff', async () => {
    const clock = new ManualClock();
    const puck = new FakePeripheral('p', 'p', { serviceUuids: [NUS] }, 23);
    const noble = new FakeNoble('poweredOn', [puck]);
    const link = new NobleBleLink({ noble, clock, reconnectDelayMs: 1000 });
    const transport = new BleNusTransport(link);
    const states: string[] = [];
    transport.on('state', (s) => states.push(s));
    await run(clock, link.connect());
    puck.drop();
    expect(transport.state).toBe('offline');
    expect(await code(transport.send(Uint8Array.of(1)))).toBe('ERR_TRANSPORT');
    await clock.advance(999);
    expect(puck.connects).toBe(1);
    await clock.advance(1);
    await clock.advance(0);
    expect(puck.connects).toBe(2);
    expect(transport.state).toBe('online');
    await transport.send(Uint8Array.of(9));
    expect(puck.rx.writes.at(-1)!.data).toEqual(Uint8Array.of(9));
    expect(states).toEqual(['online', 'offline', 'online']);
    await transport.close();
    expect(clock.pending).toBe(0);
  });

  it('typed errors: module missing, adapter unsupported or off, no NUS, nothing found, write failure', async () => {
    const clock = new ManualClock();
    const missing = new NobleBleLink({
      clock,
      loadNoble: async () => {
        throw Object.assign(new Error("Cannot find package '@stoprocent/noble'"), { code: 'ERR_MODULE_NOT_FOUND' });
      },
    });
    const e1 = await run(clock, missing.connect()).catch((e: DidcommError) => e);
    expect((e1 as DidcommError).code).toBe('ERR_TRANSPORT');
    expect((e1 as DidcommError).message).toContain('@stoprocent/noble');

    const notNoble = new NobleBleLink({ clock, loadNoble: async () => ({ default: {} }) });
    expect(await code(run(clock, notNoble.connect()))).toBe('ERR_TRANSPORT');

    const unsupported = new NobleBleLink({ clock, noble: new FakeNoble('unsupported', []) });
    const e2 = await run(clock, unsupported.connect()).catch((e: DidcommError) => e);
    expect((e2 as DidcommError).code).toBe('ERR_TRANSPORT');
    expect((e2 as DidcommError).message).toContain('unsupported');

    const off = new NobleBleLink({ clock, noble: new FakeNoble('poweredOff', []), poweredOnTimeoutMs: 5000 });
    expect(await code(run(clock, off.connect()))).toBe('ERR_TRANSPORT');

    const noNus = new NobleBleLink({ clock, noble: new FakeNoble('poweredOn', [new FakePeripheral('x', 'x', {}, 23, false)]) });
    expect(await code(run(clock, noNus.connect()))).toBe('ERR_TRANSPORT');
    expect(noNus.connected).toBe(false);

    const nothing = new NobleBleLink({ clock, noble: new FakeNoble('poweredOn', []), scanTimeoutMs: 3000 });
    expect(await code(run(clock, nothing.connect()))).toBe('ERR_TIMEOUT');

    const puck = new FakePeripheral('p', 'p', { serviceUuids: [NUS] }, 23);
    const link = new NobleBleLink({ clock, noble: new FakeNoble('poweredOn', [puck]) });
    expect(await code(link.write(Uint8Array.of(1)))).toBe('ERR_TRANSPORT');
    await run(clock, link.connect());
    puck.rx.failWrites = true;
    expect(await code(new BleNusTransport(link).send(Uint8Array.of(1)))).toBe('ERR_TRANSPORT');
    await link.close();
    expect(await code(link.connect())).toBe('ERR_TRANSPORT');
  });

  it('imports the BLE module without loading noble', async () => {
    const mod = await import('../../../transports/ble/index.js');
    expect(typeof mod.NobleBleLink).toBe('function');
    const loaded = Object.keys((await import('node:module')).createRequire(import.meta.url).cache).some((k) => k.includes('@stoprocent/noble'));
    expect(loaded).toBe(false);
  });
});
