/**
 * The Raspberry Pi app on mock-firmata (how johnny-five itself is tested): a Thermometer reading
 * becomes signed telemetry that a controller verifies, and a Relay follows authenticated commands
 * from the allowed controller only.
 */
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { createDid } from '../../src/did/create.js';
import { ManualClock } from '../../src/util/clock.js';
import { MemoryHub } from '../../transports/memory.js';
import { MemoryKvStore } from '../../src/store/kv-memory.js';
import { startPiApp, type PiProfile } from '../../boards/raspberry-pi/app.js';
import type { TelemetryEvent } from '../../src/agent/types.js';
import { drive, makeAgent } from '../agent/helpers.js';

const require = createRequire(import.meta.url);
const { Firmata: MockFirmata } = require('mock-firmata') as { Firmata: new () => any };

async function setup() {
  const clock = new ManualClock();
  const hub = new MemoryHub({ clock, mtu: 8192 });
  const pi = createDid();
  const controller = createDid();
  const intruder = createDid();
  const known = [pi, controller, intruder];
  const addr = { [pi.did]: 'pi', [controller.did]: 'ctl', [intruder.did]: 'x' };
  const io = new MockFirmata();
  // LM35: raw 51 of 1023 at 5 V is 24.9 mV/°C... johnny-five reports 25 °C.
  io.analogRead = (_pin: number, cb: (v: number) => void) => cb(51);
  const profile: PiProfile = {
    board: 'raspberry-pi',
    secrets: pi,
    controller: controller.did,
    controllers: { [controller.did]: ['relay1'] },
    telemetry: { intervalMs: 60_000, signing: 'signed' },
    hardware: {
      sensors: [{ type: 'thermometer', controller: 'LM35', pin: 'A0' }],
      actuators: [{ type: 'relay', name: 'relay1', pin: 8 }],
    },
  };
  const started = startPiApp(profile, { board: { io }, clock, store: new MemoryKvStore(), links: [{ transport: hub.attach('pi'), peers: addr }] });
  io.emit('connect');
  io.emit('ready');
  const app = await started;
  const ctl = makeAgent({ id: controller, clock, known, transport: hub.attach('ctl'), peers: addr });
  const bad = makeAgent({ id: intruder, clock, known, transport: hub.attach('x'), peers: addr });
  await ctl.start();
  await bad.start();
  return { clock, app, ctl, bad, pi };
}

describe('Raspberry Pi app (johnny-five on mock-firmata)', () => {
  it('turns a Thermometer reading into signed telemetry the controller verifies', async () => {
    const { clock, app, ctl, pi } = await setup();
    const got: TelemetryEvent[] = [];
    ctl.on('telemetry', (e) => got.push(e));
    await drive(clock, app.reportNow());
    await clock.runUntilDone(() => got.length > 0, 600_000);
    expect(got).toHaveLength(1);
    expect(got[0]!.from).toBe(pi.did);
    expect(got[0]!.signed).toBe(true);
    expect(got[0]!.readings[0]!.temp).toBeCloseTo(25, 0);
    // The periodic timer reports again after the interval.
    await clock.runUntilDone(() => got.length > 1, 120_000);
    expect(got.length).toBeGreaterThan(1);
    await app.stop();
  });

  it('the relay follows authenticated commands from the allowed controller only', async () => {
    const { clock, app, ctl, bad, pi } = await setup();
    const relay = app.hardware.actuators.get('relay1')!;
    expect(relay.state()).toBe(false);
    const r = await drive(clock, ctl.command(pi.did, { command: 'relay1', args: 'close' }));
    expect(r.status).toBe('ok');
    expect(relay.state()).toBe(true);
    await expect(drive(clock, bad.command(pi.did, { command: 'relay1', args: 'open' }))).rejects.toMatchObject({ code: 'ERR_NOT_AUTHORIZED' });
    expect(relay.state()).toBe(true);
    const off = await drive(clock, ctl.command(pi.did, { command: 'relay1', args: 'open' }));
    expect(off.status).toBe('ok');
    expect(relay.state()).toBe(false);
    await app.stop();
  });
});
