/**
 * NobleBleLink: the Node-side BLE central for the Nordic UART Service (`link.ts`), on
 * `@stoprocent/noble` (an optional dependency). The module is loaded lazily with a dynamic import
 * on the first `connect()`, so this library imports fine where BLE is absent; a missing module or
 * an unusable adapter (state 'unsupported' / 'unauthorized', or not powered on in time) is a typed
 * ERR_TRANSPORT with a clear message. Tests inject a fake noble via `options.noble`.
 *
 * connect(): wait for the adapter to be 'poweredOn' -> scan for a peripheral advertising NUS (or
 * matching `options.peripheral`) -> connect -> discover the NUS RX (6e400002) and TX (6e400003)
 * characteristics -> subscribe to TX notifications. `write` splits bytes into chunks of at most
 * ATT_MTU - 3 and writes them to RX in order; each TX notification is one 'data' event. On
 * disconnect the link reports 'disconnected' and, with `reconnectDelayMs`, reconnects on the
 * Clock with exponential backoff (up to `maxReconnectDelayMs`). Sequence as in EspruinoDocs
 * "Interfacing" and the stoprocent/noble README (see reference/embedded.md §2.2).
 */
import { err, isDidcommError, type DidcommError } from '../../src/errors.js';
import { abytes } from '../../src/util/bytes.js';
import { systemClock, type Clock, type Timer } from '../../src/util/clock.js';
import { Emitter } from '../../src/util/emitter.js';
import { ATT_HEADER, compactUuid, DEFAULT_ATT_MTU, NUS_RX_UUID, NUS_SERVICE_UUID, NUS_TX_UUID, splitPackets, type BleLink, type BleLinkEvents } from './link.js';

/* Structural subsets of @stoprocent/noble's types (its own typings are not imported: optional). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (...args: any[]) => void;

export interface NobleCharacteristicLike {
  readonly uuid: string;
  writeAsync(data: Uint8Array, withoutResponse: boolean): Promise<void>;
  subscribeAsync(): Promise<void>;
  unsubscribeAsync?(): Promise<void>;
  on(event: 'data', listener: (data: Uint8Array, isNotification?: boolean) => void): unknown;
  removeListener(event: 'data', listener: Listener): unknown;
}

export interface NoblePeripheralLike {
  readonly id: string;
  readonly address?: string;
  readonly mtu?: number | null;
  readonly advertisement?: { localName?: string; serviceUuids?: string[] };
  connectAsync(): Promise<void>;
  disconnectAsync(): Promise<void>;
  discoverSomeServicesAndCharacteristicsAsync(services: string[], characteristics: string[]): Promise<{ characteristics: NobleCharacteristicLike[] }>;
  on(event: 'disconnect' | 'mtu', listener: Listener): unknown;
  removeListener(event: 'disconnect' | 'mtu', listener: Listener): unknown;
}

export interface NobleLike {
  readonly state: string;
  readonly address?: string;
  on(event: 'stateChange' | 'discover', listener: Listener): unknown;
  removeListener(event: 'stateChange' | 'discover', listener: Listener): unknown;
  startScanningAsync(serviceUuids?: string[], allowDuplicates?: boolean): Promise<void>;
  stopScanningAsync(): Promise<void>;
}

export interface NobleBleLinkOptions {
  /** A noble instance (tests); default: `import('@stoprocent/noble')` on first connect. */
  noble?: NobleLike;
  /** Loads the noble module (default: dynamic import of '@stoprocent/noble'). */
  loadNoble?: () => Promise<unknown>;
  /** Which peripheral: by id, address or advertised name. Default: the first advertising NUS. */
  peripheral?: { id?: string; address?: string; localName?: string };
  clock?: Clock;
  poweredOnTimeoutMs?: number;
  scanTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Use ATT Write Command (no response) for RX writes (default false: Write Request). */
  withoutResponse?: boolean;
  /** Reconnect this long after an unexpected disconnect (default: no automatic reconnect). */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
}

const NOBLE_MODULE = '@stoprocent/noble';

async function defaultLoadNoble(): Promise<unknown> {
  const specifier = NOBLE_MODULE; // a variable, so bundlers and tsc leave the optional module alone
  return import(specifier);
}

function transportError(what: string, e: unknown): DidcommError {
  if (isDidcommError(e)) return e;
  return err('ERR_TRANSPORT', `ble: ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/** Rejects with `onTimeout()` if `p` has not settled after `ms` on the clock. */
function withTimeout<T>(clock: Clock, ms: number, p: Promise<T>, onTimeout: () => DidcommError): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimer(ms, () => reject(onTimeout()));
    p.then(
      (v) => {
        timer.cancel();
        resolve(v);
      },
      (e: unknown) => {
        timer.cancel();
        reject(e);
      },
    );
  });
}

export class NobleBleLink extends Emitter<BleLinkEvents> implements BleLink {
  readonly role = 'central';
  private readonly options: NobleBleLinkOptions;
  private readonly clock: Clock;
  private noble: NobleLike | undefined;
  private peripheral: NoblePeripheralLike | undefined;
  private rx: NobleCharacteristicLike | undefined;
  private tx: NobleCharacteristicLike | undefined;
  private mtuValue = DEFAULT_ATT_MTU;
  private isConnected = false;
  private closed = false;
  private connecting: Promise<void> | undefined;
  private writeChain: Promise<void> = Promise.resolve();
  private reconnectTimer: Timer | undefined;
  private reconnectDelay: number;
  private cleanup: Array<() => void> = [];

  constructor(options: NobleBleLinkOptions = {}) {
    super();
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.noble = options.noble;
    this.reconnectDelay = options.reconnectDelayMs ?? 0;
  }

  get attMtu(): number {
    return this.mtuValue;
  }

  get connected(): boolean {
    return this.isConnected;
  }

  get localAddress(): string | undefined {
    const a = this.noble?.address;
    return a && a !== 'unknown' ? a : undefined;
  }

  get peerAddress(): string | undefined {
    if (!this.isConnected || !this.peripheral) return undefined;
    return this.peripheral.address || this.peripheral.id;
  }

  /** Scans, connects and subscribes. Resolves when connected; concurrent calls share one attempt. */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(err('ERR_TRANSPORT', 'ble: link is closed'));
    if (this.isConnected) return Promise.resolve();
    this.connecting ??= this.establish().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  async write(bytes: Uint8Array): Promise<void> {
    abytes(bytes, 'bytes');
    const run = async (): Promise<void> => {
      for (const chunk of splitPackets(bytes, this.mtuValue - ATT_HEADER)) {
        const rx = this.rx;
        if (!this.isConnected || !rx) throw err('ERR_TRANSPORT', 'ble: not connected');
        try {
          await rx.writeAsync(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length), this.options.withoutResponse ?? false);
        } catch (e) {
          throw transportError('write to NUS RX failed', e);
        }
      }
    };
    const result = this.writeChain.then(run);
    this.writeChain = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reconnectTimer?.cancel();
    const peripheral = this.peripheral;
    const wasConnected = this.isConnected;
    const tx = this.tx;
    this.detach();
    if (wasConnected && peripheral) {
      await tx?.unsubscribeAsync?.().catch(() => undefined);
      await peripheral.disconnectAsync().catch(() => undefined);
      this.emit('disconnected', 'closed');
    }
    this.removeAllListeners();
  }

  private async loadNoble(): Promise<NobleLike> {
    if (this.noble) return this.noble;
    let mod: unknown;
    try {
      mod = await (this.options.loadNoble ?? defaultLoadNoble)();
    } catch (e) {
      throw err(
        'ERR_TRANSPORT',
        `ble: BLE needs the optional dependency ${NOBLE_MODULE}, which could not be loaded (${e instanceof Error ? e.message : String(e)}); install it with npm i ${NOBLE_MODULE}`,
        { cause: e },
      );
    }
    const candidate = (mod as { default?: unknown } | undefined)?.default ?? mod;
    if (!candidate || typeof (candidate as NobleLike).startScanningAsync !== 'function') {
      throw err('ERR_TRANSPORT', `ble: ${NOBLE_MODULE} did not provide a noble instance`);
    }
    this.noble = candidate as NobleLike;
    return this.noble;
  }

  private waitPoweredOn(noble: NobleLike): Promise<void> {
    const timeoutMs = this.options.poweredOnTimeoutMs ?? 10_000;
    return new Promise<void>((resolve, reject) => {
      let timer: Timer | undefined;
      const finish = (e?: DidcommError): void => {
        timer?.cancel();
        noble.removeListener('stateChange', onState);
        if (e) reject(e);
        else resolve();
      };
      const onState = (state: string): void => {
        if (state === 'poweredOn') finish();
        else if (state === 'unsupported' || state === 'unauthorized') {
          finish(err('ERR_TRANSPORT', `ble: Bluetooth adapter is ${state} (no usable BLE adapter, or no permission: run with cap_net_raw or use the dbus bindings)`));
        }
      };
      noble.on('stateChange', onState);
      timer = this.clock.setTimer(timeoutMs, () =>
        finish(err('ERR_TRANSPORT', `ble: Bluetooth adapter not powered on after ${timeoutMs} ms (state ${noble.state})`)),
      );
      onState(noble.state);
    });
  }

  private matches(p: NoblePeripheralLike): boolean {
    const want = this.options.peripheral;
    if (want?.id !== undefined || want?.address !== undefined || want?.localName !== undefined) {
      return (
        (want.id === undefined || p.id === want.id) &&
        (want.address === undefined || (p.address ?? '').toLowerCase() === want.address.toLowerCase()) &&
        (want.localName === undefined || p.advertisement?.localName === want.localName)
      );
    }
    const uuids = p.advertisement?.serviceUuids;
    return !uuids || uuids.map(compactUuid).includes(compactUuid(NUS_SERVICE_UUID));
  }

  private async scan(noble: NobleLike): Promise<NoblePeripheralLike> {
    const timeoutMs = this.options.scanTimeoutMs ?? 30_000;
    let resolveFound: (p: NoblePeripheralLike) => void = () => undefined;
    const found = new Promise<NoblePeripheralLike>((resolve) => (resolveFound = resolve));
    const onDiscover = (p: NoblePeripheralLike): void => {
      if (this.matches(p)) resolveFound(p);
    };
    noble.on('discover', onDiscover);
    try {
      const filter = this.options.peripheral ? [] : [compactUuid(NUS_SERVICE_UUID)];
      await noble.startScanningAsync(filter, false);
      return await withTimeout(this.clock, timeoutMs, found, () => err('ERR_TIMEOUT', `ble: no Nordic UART peripheral found in ${timeoutMs} ms`));
    } finally {
      noble.removeListener('discover', onDiscover);
      await noble.stopScanningAsync().catch(() => undefined);
    }
  }

  private async establish(): Promise<void> {
    const noble = await this.loadNoble();
    await this.waitPoweredOn(noble);
    const peripheral = await this.scan(noble).catch((e: unknown) => {
      throw transportError('scan failed', e);
    });
    if (this.closed) throw err('ERR_TRANSPORT', 'ble: link is closed');
    const timeoutMs = this.options.connectTimeoutMs ?? 15_000;
    try {
      await withTimeout(this.clock, timeoutMs, peripheral.connectAsync(), () => err('ERR_TIMEOUT', `ble: connection not established in ${timeoutMs} ms`));
      const { characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync(
        [compactUuid(NUS_SERVICE_UUID)],
        [compactUuid(NUS_RX_UUID), compactUuid(NUS_TX_UUID)],
      );
      const rx = characteristics.find((c) => compactUuid(c.uuid) === compactUuid(NUS_RX_UUID));
      const tx = characteristics.find((c) => compactUuid(c.uuid) === compactUuid(NUS_TX_UUID));
      if (!rx || !tx) throw err('ERR_TRANSPORT', 'ble: the peripheral has no Nordic UART Service RX/TX characteristics');
      const onData = (data: Uint8Array): void => {
        if (this.isConnected) this.emit('data', new Uint8Array(data));
      };
      tx.on('data', onData);
      this.cleanup.push(() => tx.removeListener('data', onData));
      await tx.subscribeAsync();
      const onMtu = (mtu: number): void => {
        if (Number.isInteger(mtu) && mtu >= DEFAULT_ATT_MTU) this.mtuValue = mtu;
      };
      const onDisconnect = (reason: unknown): void => this.lost(String(reason ?? 'disconnected'));
      peripheral.on('mtu', onMtu);
      peripheral.on('disconnect', onDisconnect);
      this.cleanup.push(() => {
        peripheral.removeListener('mtu', onMtu);
        peripheral.removeListener('disconnect', onDisconnect);
      });
      const mtu = peripheral.mtu;
      this.mtuValue = typeof mtu === 'number' && mtu >= DEFAULT_ATT_MTU ? mtu : DEFAULT_ATT_MTU;
      this.peripheral = peripheral;
      this.rx = rx;
      this.tx = tx;
      if (this.closed) {
        this.detach();
        await peripheral.disconnectAsync().catch(() => undefined);
        throw err('ERR_TRANSPORT', 'ble: link is closed');
      }
      this.isConnected = true;
      this.reconnectDelay = this.options.reconnectDelayMs ?? 0;
      this.emit('connected');
    } catch (e) {
      this.detach();
      await peripheral.disconnectAsync().catch(() => undefined);
      throw transportError('connecting to the NUS peripheral failed', e);
    }
  }

  private detach(): void {
    for (const off of this.cleanup.splice(0)) off();
    this.isConnected = false;
    this.rx = undefined;
    this.tx = undefined;
  }

  private lost(reason: string): void {
    if (!this.isConnected) return;
    this.detach();
    this.emit('disconnected', reason);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.options.reconnectDelayMs === undefined) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(Math.max(1, delay * 2), this.options.maxReconnectDelayMs ?? 60_000);
    this.reconnectTimer = this.clock.setTimer(delay, () => {
      this.reconnectTimer = undefined;
      this.connect().catch((e: unknown) => {
        if (this.closed) return;
        this.emit('error', transportError('reconnect failed', e));
        this.scheduleReconnect();
      });
    });
  }
}
