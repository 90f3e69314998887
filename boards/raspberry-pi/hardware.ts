/**
 * The Raspberry Pi's sensors and actuators through johnny-five (2.1): Thermometer and generic
 * Sensor produce readings; Relay, Led and Servo execute commands. The board is a Firmata device
 * on a serialport 13 port (johnny-five's own serialport 8 binding does not build on current Node,
 * so we always hand it a port or an io plugin), Linux GPIO through an io plugin, or mock-firmata in
 * tests. johnny-five is loaded lazily: the rest of the project never needs it.
 */
import { createRequire } from 'node:module';
import { err } from '../../src/errors.js';
import type { Reading } from '../../src/protocols/telemetry.js';
import type { JsonValue } from '../../src/util/json.js';

export type SensorSpec =
  | { type: 'thermometer'; name?: string; controller?: string; pin: string | number; field?: string }
  | { type: 'sensor'; name: string; pin: string | number; field?: string; scale?: number };

export type ActuatorSpec = { type: 'relay' | 'led' | 'servo'; name: string; pin: string | number; relayType?: 'NO' | 'NC'; range?: [number, number] };

export interface HardwareConfig {
  sensors: SensorSpec[];
  actuators: ActuatorSpec[];
}

/** Minimal shapes of the johnny-five objects we use. */
interface J5Board {
  on(event: 'ready' | 'error', cb: (e?: unknown) => void): void;
  io?: unknown;
}
interface J5Thermometer {
  celsius: number | null;
  on(e: 'data' | 'change', cb: () => void): void;
}
interface J5Sensor {
  value: number | null;
  on(e: 'data' | 'change', cb: () => void): void;
}
interface J5Relay {
  isClosed?: boolean;
  open(): void;
  close(): void;
  toggle(): void;
}
interface J5Led {
  isOn: boolean;
  on(): void;
  off(): void;
  toggle(): void;
  brightness(v: number): void;
}
interface J5Servo {
  position: number;
  to(deg: number): void;
}
interface J5 {
  Board: new (o: Record<string, unknown>) => J5Board;
  Thermometer: new (o: Record<string, unknown>) => J5Thermometer;
  Sensor: new (o: Record<string, unknown>) => J5Sensor;
  Relay: new (o: Record<string, unknown>) => J5Relay;
  Led: new (o: Record<string, unknown>) => J5Led;
  Servo: new (o: Record<string, unknown>) => J5Servo;
}

function loadJohnnyFive(): J5 {
  try {
    return createRequire(import.meta.url)('johnny-five') as J5;
  } catch (e) {
    throw err('ERR_UNSUPPORTED', 'johnny-five is not installed (npm i johnny-five)', { cause: e });
  }
}

export interface BoardSource {
  /** A johnny-five io plugin (mock-firmata in tests, linux-io / raspi-io on a Pi). */
  io?: unknown;
  /** Or a serialport-13 port to a Firmata board (e.g. an Arduino on USB). */
  port?: unknown;
  /** Milliseconds to wait for the board to become ready (default 10 s). */
  timeoutMs?: number;
}

export interface Actuator {
  name: string;
  type: ActuatorSpec['type'];
  /** Executes one action; returns the new state. Bad actions are ERR_INVALID_MESSAGE. */
  execute(args: JsonValue | undefined): JsonValue;
  state(): JsonValue;
}

export interface Hardware {
  /** The latest value of every sensor as one telemetry reading (fields with no value yet omitted). */
  read(): Reading;
  actuators: Map<string, Actuator>;
}

/** Connects to the board and builds the sensors and actuators. */
export async function openHardware(config: HardwareConfig, source: BoardSource): Promise<Hardware> {
  const five = loadJohnnyFive();
  if (!source.io && !source.port) throw err('ERR_ARGUMENT', 'hardware: give an io plugin or a serialport port');
  const board = new five.Board({ ...(source.io ? { io: source.io } : { port: source.port }), repl: false, debug: false, timeout: (source.timeoutMs ?? 10_000) / 1000 });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(err('ERR_TIMEOUT', 'hardware: board did not become ready')), source.timeoutMs ?? 10_000);
    board.on('ready', () => {
      clearTimeout(t);
      resolve();
    });
    board.on('error', (e) => {
      clearTimeout(t);
      reject(err('ERR_TRANSPORT', `hardware: ${String(e)}`, { cause: e }));
    });
  });
  const readers: Array<(r: Reading) => void> = [];
  for (const s of config.sensors) {
    if (s.type === 'thermometer') {
      const t = new five.Thermometer({ controller: s.controller ?? 'LM35', pin: s.pin, board });
      const field = s.field ?? 'temp';
      readers.push((r) => {
        if (typeof t.celsius === 'number' && Number.isFinite(t.celsius)) r[field] = Math.round(t.celsius * 10) / 10;
      });
    } else {
      const sensor = new five.Sensor({ pin: s.pin, board });
      const field = s.field ?? s.name;
      readers.push((r) => {
        if (typeof sensor.value === 'number') r[field] = s.scale ? sensor.value * s.scale : sensor.value;
      });
    }
  }
  const actuators = new Map<string, Actuator>();
  for (const a of config.actuators) actuators.set(a.name, makeActuator(five, board, a));
  return {
    read() {
      const r: Reading = {};
      for (const f of readers) f(r);
      return r;
    },
    actuators,
  };
}

function bad(name: string, args: unknown): never {
  throw err('ERR_INVALID_MESSAGE', `${name}: unsupported action ${JSON.stringify(args)?.slice(0, 40)}`);
}

function makeActuator(five: J5, board: J5Board, a: ActuatorSpec): Actuator {
  if (a.type === 'relay') {
    const r = new five.Relay({ pin: a.pin, type: a.relayType ?? 'NO', board });
    return {
      name: a.name,
      type: a.type,
      execute(args) {
        if (args === true || args === 'on' || args === 'close') r.close();
        else if (args === false || args === 'off' || args === 'open') r.open();
        else if (args === 'toggle') r.toggle();
        else bad(a.name, args);
        return r.isClosed === true;
      },
      state: () => r.isClosed === true,
    };
  }
  if (a.type === 'led') {
    const l = new five.Led({ pin: a.pin, board });
    return {
      name: a.name,
      type: a.type,
      execute(args) {
        if (args === true || args === 'on') l.on();
        else if (args === false || args === 'off') l.off();
        else if (args === 'toggle') l.toggle();
        else if (typeof args === 'number' && args >= 0 && args <= 255) l.brightness(Math.round(args));
        else bad(a.name, args);
        return l.isOn === true;
      },
      state: () => l.isOn === true,
    };
  }
  const s = new five.Servo({ pin: a.pin, board, ...(a.range ? { range: a.range } : {}) });
  const [lo, hi] = a.range ?? [0, 180];
  return {
    name: a.name,
    type: a.type,
    execute(args) {
      if (typeof args !== 'number' || !Number.isFinite(args) || args < lo || args > hi) bad(a.name, args);
      s.to(args);
      return s.position;
    },
    state: () => s.position,
  };
}
