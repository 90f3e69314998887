/**
 * An Espruino environment for running the built bundles under Node (embedded.md §7.4 step 2):
 * `E` (getTemperature, hwRand, toUint8Array, toString, getBattery on Puck.js), `NRF` and
 * `Bluetooth`, `Serial1`/`Serial2` (wired to a serial end, e.g. the host side of a UART whose
 * other side is a RylrEmulator), `require("Storage")` (in memory; pass the same Map again to
 * simulate a reboot), `require("crypto").AES` (node:crypto with the API shape of
 * jswrap_crypto.c: ArrayBuffer results, ECB over full blocks only, CTR ignoring the IV, CBC/CFB,
 * errors returning undefined; or absent, as on Pixl.js), `LED1` / `digitalWrite`, `getTime`
 * and timers on a Clock (a ManualClock in tests, a ScaledClock in the field simulation), `btoa` / `atob` on 8-bit strings.
 * `loadBundle` runs a bundle with these as its globals and returns its exports.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Clock, Timer } from '../../../src/util/clock.js';
import { createPrng } from '../../../src/util/prng.js';
import type { InMemoryBleLink } from '../../../transports/ble/memory-link.js';
import type { SerialDuplex } from '../../../transports/serial/types.js';

export interface EspruinoEnvOptions {
  clock: Clock;
  /** Storage files (name → contents); reuse the Map across a simulated reboot. */
  storage?: Map<string, string>;
  /** Firmware has require("crypto").AES (default true). */
  aes?: boolean;
  /** The UART that Serial1 (and Serial2) drive. */
  uart?: SerialDuplex;
  /** The peripheral end of an in-memory BLE pair (for NRF). */
  ble?: InMemoryBleLink;
  temperature?: () => number;
  battery?: number;
  /** E.toString cannot allocate a flat string (low memory): it returns undefined. */
  noFlatStrings?: boolean;
  seed?: number;
}

export interface AesCall {
  mode: string;
  encrypt: boolean;
  bytes: number;
}

function bytesOf(v: unknown): Uint8Array {
  if (typeof v === 'string') return Uint8Array.from(v, (c) => c.charCodeAt(0) & 0xff);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return Uint8Array.from(v as number[]);
  throw new Error(`shim: cannot read ${typeof v} as bytes`);
}

function binary(b: Uint8Array): string {
  return Buffer.from(b).toString('latin1');
}

export class EspruinoEnv {
  readonly clock: Clock;
  readonly storage: Map<string, string>;
  /** Every digitalWrite, in order. */
  readonly pinWrites: Array<[string, boolean]> = [];
  readonly aesCalls: AesCall[] = [];
  /** Exceptions thrown by timer callbacks and event handlers (Espruino would print them). */
  readonly uncaught: unknown[] = [];
  readonly logs: unknown[][] = [];
  readonly serialSetup: Array<[number, unknown]> = [];
  /** What the bundle passed to NRF.setServices. */
  services: { services: Record<string, Record<string, Record<string, unknown>>>; options: unknown } | undefined;
  readonly globals: Record<string, unknown>;
  private readonly timers = new Map<number, Timer>();
  private nextTimer = 1;

  private readonly o: EspruinoEnvOptions;

  constructor(o: EspruinoEnvOptions) {
    this.o = o;
    this.clock = o.clock;
    this.storage = o.storage ?? new Map();
    const prng = createPrng(o.seed ?? 7);
    const env = this;
    const E: Record<string, unknown> = {
      getTemperature: () => (o.temperature ? o.temperature() : 21.75),
      hwRand: () => (prng.next() * 0x100000000) | 0,
      toUint8Array: (...args: unknown[]) => Uint8Array.from(args.flatMap((a) => [...bytesOf(a)])),
      toString: (...args: unknown[]) => (o.noFlatStrings ? undefined : args.map((a) => binary(bytesOf(a))).join('')),
    };
    if (o.battery !== undefined) E.getBattery = () => o.battery;
    const serial = {
      setup: (baud: number, opts: unknown) => env.serialSetup.push([baud, opts]),
      write: (data: string) => o.uart?.write(bytesOf(data)),
      on: (event: string, fn: (d: string) => void) => {
        if (event === 'data') o.uart?.on('data', (chunk) => env.guard(() => fn(binary(chunk))));
      },
    };
    this.globals = {
      E,
      Serial1: serial,
      Serial2: serial,
      NRF: this.nrf(),
      Bluetooth: { on: () => {}, write: () => env.uncaught.push(new Error('Bluetooth.write used: NUS must be off the console')) },
      LED1: { pin: 'LED1' },
      digitalWrite: (pin: unknown, value: unknown) => env.pinWrites.push([typeof pin === 'string' ? pin : (pin as { pin: string }).pin, !!value]),
      getTime: () => env.clock.now() / 1000,
      setTimeout: (fn: () => void, ms: number) => env.timer(fn, ms, false),
      setInterval: (fn: () => void, ms: number) => env.timer(fn, ms, true),
      clearTimeout: (id: number) => env.clear(id),
      clearInterval: (id: number) => env.clear(id),
      btoa: (s: string) => {
        if (/[^\x00-\xff]/.test(s)) throw new Error('btoa: not an 8-bit string');
        return Buffer.from(s, 'latin1').toString('base64');
      },
      atob: (s: string) => Buffer.from(s, 'base64').toString('latin1'),
      console: { log: (...a: unknown[]) => env.logs.push(a) },
    };
  }

  /** LED1's last written state. */
  get led(): boolean {
    const w = this.pinWrites.filter(([p]) => p === 'LED1');
    return w.length > 0 && w[w.length - 1]![1];
  }

  guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.uncaught.push(e);
    }
  }

  private timer(fn: () => void, ms: number, repeat: boolean): number {
    const id = this.nextTimer++;
    const arm = (): void => {
      this.timers.set(
        id,
        this.clock.setTimer(Math.max(0, Number(ms) || 0), () => {
          if (!this.timers.has(id)) return;
          if (repeat) arm();
          else this.timers.delete(id);
          this.guard(fn);
        }),
      );
    };
    arm();
    return id;
  }

  private clear(id: number): void {
    this.timers.get(id)?.cancel();
    this.timers.delete(id);
  }

  /** Live timers the bundle holds. */
  get activeTimers(): number {
    return this.timers.size;
  }

  private nrf(): Record<string, unknown> {
    const env = this;
    const listeners: Record<string, Array<(arg?: unknown) => void>> = { connect: [], disconnect: [] };
    const link = this.o.ble;
    if (link) {
      link.on('connected', () => listeners.connect!.forEach((f) => env.guard(() => f('central'))));
      link.on('disconnected', () => listeners.disconnect!.forEach((f) => env.guard(() => f(19))));
    }
    const char = (uuid: string): Record<string, unknown> => {
      const svc = env.services?.services['6e400001-b5a3-f393-e0a9-e50e24dcca9e'];
      const c = svc?.[uuid];
      if (!c) throw new Error(`NRF: no characteristic ${uuid}`);
      return c;
    };
    return {
      setServices(services: Record<string, Record<string, Record<string, unknown>>>, options: unknown) {
        env.services = { services, options };
        link?.on('data', (packet) => {
          const rx = char('6e400002-b5a3-f393-e0a9-e50e24dcca9e');
          if (packet.length > Number(rx.maxLen)) return env.uncaught.push(new Error('NRF: write longer than maxLen'));
          env.guard(() => (rx.onWrite as (e: { data: ArrayBuffer }) => void)({ data: packet.slice().buffer }));
        });
      },
      updateServices(update: Record<string, Record<string, { value: unknown; notify?: boolean }>>) {
        const svc = update['6e400001-b5a3-f393-e0a9-e50e24dcca9e'];
        for (const [uuid, u] of Object.entries(svc ?? {})) {
          const c = char(uuid);
          const value = bytesOf(u.value);
          if (value.length > Number(c.maxLen)) throw new Error('NRF: value longer than maxLen');
          if (u.notify && c.notify && link) void link.write(value.slice()).catch((e: unknown) => env.uncaught.push(e));
        }
      },
      setAdvertising: () => {},
      on(event: string, fn: (arg?: unknown) => void) {
        listeners[event]?.push(fn);
        // Already connected when the bundle starts: tell it, as Espruino would on connection.
        if (event === 'connect' && link?.connected) queueMicrotask(() => env.guard(() => fn('central')));
      },
    };
  }

  /** require() as Espruino resolves built-in modules. */
  require = (name: string): unknown => {
    if (name === 'Storage') return this.storageModule();
    if (name === 'crypto') return this.o.aes === false ? {} : { AES: this.aes() };
    throw new Error(`Module ${name} not found`);
  };

  private storageModule(): Record<string, unknown> {
    const s = this.storage;
    return {
      read: (name: string) => s.get(name),
      readJSON: (name: string, noExceptions?: boolean) => {
        const v = s.get(name);
        if (v === undefined) return undefined;
        try {
          return JSON.parse(v) as unknown;
        } catch (e) {
          if (noExceptions) return undefined;
          throw e;
        }
      },
      write: (name: string, data: string) => (s.set(name, String(data)), true),
      writeJSON: (name: string, data: unknown) => (s.set(name, JSON.stringify(data)), true),
      erase: (name: string) => void s.delete(name),
      list: () => [...s.keys()],
    };
  }

  /** require("crypto").AES as jswrap_crypto_AEScrypt behaves. */
  private aes(): Record<string, unknown> {
    const run = (encrypt: boolean) => (message: unknown, key: unknown, options?: unknown) => {
      if (options !== undefined && (typeof options !== 'object' || options === null)) throw new Error("'options' must be undefined, or an Object");
      const opts = (options ?? {}) as { iv?: unknown; mode?: unknown };
      const mode = opts.mode === undefined ? 'CBC' : String(opts.mode);
      if (!['CBC', 'CFB', 'CTR', 'OFB', 'ECB'].includes(mode)) throw new Error(`Unknown Crypto mode ${mode}`);
      const msg = bytesOf(message);
      const k = bytesOf(key);
      this.aesCalls.push({ mode, encrypt, bytes: msg.length });
      if (![16, 24, 32].includes(k.length)) return undefined; // mbedtls_aes_setkey_* error: jsError, returns undefined
      const bits = k.length * 8;
      const iv = new Uint8Array(16);
      if (opts.iv !== undefined) iv.set(bytesOf(opts.iv).subarray(0, 16));
      const out = new Uint8Array(msg.length);
      const cipher = (name: string, ivv: Uint8Array | null, data: Uint8Array): Uint8Array => {
        const c = encrypt ? createCipheriv(name, k, ivv) : createDecipheriv(name, k, ivv);
        c.setAutoPadding(false);
        return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
      };
      switch (mode) {
        case 'ECB': {
          const full = msg.length - (msg.length % 16);
          if (full) out.set(cipher(`aes-${bits}-ecb`, null, msg.subarray(0, full)));
          break; // a partial last block stays zero
        }
        case 'CBC':
          if (msg.length % 16) return undefined; // "Invalid input length"
          out.set(cipher(`aes-${bits}-cbc`, iv, msg));
          break;
        case 'CFB':
          out.set(cipher(`aes-${bits}-cfb8`, iv, msg));
          break;
        case 'CTR': {
          // The IV is ignored: the counter restarts at zero on every call (the trap).
          const c = createCipheriv(`aes-${bits}-ctr`, k, new Uint8Array(16));
          out.set(Buffer.concat([c.update(msg), c.final()]));
          break;
        }
        default:
          return undefined; // OFB: "Feature unavailable"
      }
      return out.buffer;
    };
    return { encrypt: run(true), decrypt: run(false) };
  }
}

/** Runs a built bundle with the environment's globals; returns its exports. */
export function loadBundle(code: string, env: EspruinoEnv): { start: (config?: unknown, options?: unknown) => DeviceEndpoint } {
  const names = Object.keys(env.globals);
  const fn = new Function('exports', 'require', ...names, code) as (...args: unknown[]) => void;
  const exports: Record<string, unknown> = {};
  fn(exports, env.require, ...names.map((n) => env.globals[n]));
  return exports as { start: (config?: unknown, options?: unknown) => DeviceEndpoint };
}

/** The public surface of the bundle's Endpoint. */
export interface DeviceEndpoint {
  report(values?: Record<string, unknown>): string;
  receive(frame: Uint8Array): void;
  stop(): void;
  outbox: unknown[];
  stats: Record<'received' | 'sent' | 'malformed' | 'undecryptable' | 'replayed' | 'refused' | 'duplicates' | 'acked' | 'expired' | 'ignored', number>;
}
