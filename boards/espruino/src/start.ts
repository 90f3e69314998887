/**
 * `start(config?, options?)`: what a board bundle exports. Reads the provisioned config from
 * Storage (`didcomm.json`, written from src/provision/espruino.ts) when none is given, opens the
 * configured link (RYLR LoRa modem or BLE NUS: whichever drivers this board's bundle contains),
 * puts the fragmentation layer on top (unless `transport.fragment` is false) and starts the
 * endpoint. `options.link` replaces the driver (any object with mtu / send / onFrame),
 * `options.read` the sensor read, `options.commands` adds or overrides commands (`led` and
 * `ping` are built in).
 */
import type { BoardProfile } from '../boards.js';
import { fail } from './bytes.js';
import { Endpoint, type CommandHandler, type EndpointConfig } from './endpoint.js';
import { FragmentLayer, type Link } from './fragment.js';

export interface TransportConfig {
  kind: string;
  /** false: whole messages go as single link frames (they must fit the mtu). Default true. */
  fragment?: boolean;
  [option: string]: unknown;
}

export interface DeviceConfig extends EndpointConfig {
  v?: number;
  board?: string;
  transport: TransportConfig;
}

export interface StartOptions {
  link?: Link;
  read?: () => Record<string, unknown>;
  commands?: Record<string, CommandHandler>;
}

export type DriverFactory = (t: TransportConfig, board: BoardProfile, now: () => number) => Link;

function now(): number {
  return getTime() * 1000;
}

/** The board's internal temperature (0.25 °C steps fit a CBOR half float) and battery. */
function read(): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  try {
    r.temp = Math.round(E.getTemperature() * 4) / 4;
  } catch (e) {
    // no temperature sensor on this board
  }
  if (E.getBattery) r.batt = E.getBattery();
  return r;
}

export function makeStart(board: BoardProfile, drivers: Record<string, DriverFactory>): (config?: DeviceConfig, options?: StartOptions) => Endpoint {
  return (config, options) => {
    const store = require('Storage');
    const cfg = config || (store.readJSON('didcomm.json', true) as DeviceConfig);
    if (!cfg || !cfg.transport) fail('no didcomm.json');
    const o = options || {};
    const tr = cfg.transport;
    const make = drivers[tr.kind];
    if (!o.link && !make) fail('no ' + tr.kind + ' on ' + board.name);
    const link = o.link || make(tr, board, now);
    const pin = board.ledPin === 'LED1' && typeof LED1 !== 'undefined' ? LED1 : board.ledPin;
    let led = false;
    const commands: Record<string, CommandHandler> = {
      led: (args) => {
        if (args !== !!args && args !== 'toggle') fail('args');
        led = args === 'toggle' ? !led : !!args;
        digitalWrite(pin, led);
        return led;
      },
      ping: () => 'pong',
    };
    for (const k in o.commands || {}) commands[k] = (o.commands as Record<string, CommandHandler>)[k];
    let endpoint: Endpoint | null = null;
    const deliver = (m: Uint8Array): void => {
      if (endpoint) endpoint.receive(m);
    };
    let send = (m: Uint8Array, done: (ok: boolean) => void): void => link.send(m, undefined, done);
    if (tr.fragment === false) link.onFrame = deliver;
    else {
      const frag = new FragmentLayer(link, board.maxMessage, now, 60000, E.hwRand());
      frag.onMessage = deliver;
      send = (m, done) => frag.send(m, done);
    }
    endpoint = new Endpoint(cfg, { store, now, send, read: o.read || read, commands });
    return endpoint;
  };
}
