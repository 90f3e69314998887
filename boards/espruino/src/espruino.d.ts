/**
 * The small part of the Espruino API the thin endpoint uses (there is no @types/espruino on npm,
 * embedded.md §1.3). Signatures follow the Espruino reference (jswrap_*.c in espruino/Espruino):
 * E, Serial1, NRF, Bluetooth, LED1, digitalWrite, getTime, timers, btoa/atob, require("Storage")
 * and require("crypto").AES. Only for type-checking with boards/espruino/tsconfig.json.
 */

interface EspruinoSerial {
  setup(baudRate: number, options?: { rx?: unknown; tx?: unknown }): void;
  write(data: string): void;
  on(event: 'data', listener: (data: string) => void): void;
}

interface EspruinoE {
  getTemperature(): number;
  /** An 8-bit flat string of the bytes, or undefined when no flat string can be allocated. */
  toString(bytes: Uint8Array): string | undefined;
  toUint8Array(binary: string): Uint8Array;
  hwRand(): number;
  getBattery?: () => number;
}

interface EspruinoNrfEvent {
  data: ArrayBuffer;
}

interface EspruinoNRF {
  setServices(services: unknown, options?: { uart?: boolean; advertise?: string[] }): void;
  updateServices(services: unknown): void;
  setAdvertising(data: unknown, options?: { name?: string }): void;
  on(event: 'connect' | 'disconnect', listener: (arg?: unknown) => void): void;
}

interface EspruinoStorage {
  readJSON(name: string, noExceptions?: boolean): unknown;
  writeJSON(name: string, data: unknown): boolean;
  erase(name: string): void;
}

interface EspruinoAes {
  encrypt(message: Uint8Array, key: Uint8Array, options: { mode: 'ECB' }): ArrayBuffer | undefined;
}

declare const E: EspruinoE;
declare const Serial1: EspruinoSerial;
declare const Serial2: EspruinoSerial;
declare const NRF: EspruinoNRF;
declare const LED1: unknown;
declare function digitalWrite(pin: unknown, value: boolean | number): void;
/** Seconds since 1970 (a float); starts at 0 on boards whose clock was never set. */
declare function getTime(): number;
declare function setTimeout(fn: () => void, ms: number): number;
declare function clearTimeout(id: number): void;
declare function btoa(binary: string): string;
declare function atob(base64: string): string;
declare function require(name: 'Storage'): EspruinoStorage;
declare function require(name: 'crypto'): { AES?: EspruinoAes };
declare const console: { log(...args: unknown[]): void };

/** Espruino has Object.assign (jswrap_object.c), which lib ES5 does not declare. */
interface ObjectConstructor {
  assign<T extends object, U>(target: T, source: U): T & U;
}
