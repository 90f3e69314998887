/**
 * The Puck.js bundle as a BLE peripheral: its NUS service (own GATT service with the NUS UUIDs,
 * `uart: false`, so the console is off NUS and every write/notification is one frame) on an
 * in-memory BLE link, with the Node central's BleNusTransport + FragmentTransport
 * (ack-on-error) and the controller agent on the other side. At the default ATT MTU (20-byte
 * packets) every message is several fragments.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { createInMemoryBlePair } from '../../transports/ble/memory-link.js';
import { BleNusTransport } from '../../transports/ble/transport.js';
import { FragmentTransport } from '../../transports/fragment/transport.js';
import { ensureEspruinoBuilt } from './build.js';
import { boot, config, controller, device, NodeAgent, TYPES } from './fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await ensureEspruinoBuilt();
});

describe('Espruino bundle over BLE NUS (in-memory link, ATT MTU 23)', () => {
  it('exchanges telemetry, acks and commands in 20-byte fragments', async () => {
    const clock = new ManualClock();
    const pair = createInMemoryBlePair({ clock, attMtu: 23, delayMs: 8 });
    const central = new FragmentTransport(new BleNusTransport(pair.central), { clock });
    const inbox: Uint8Array[] = [];
    central.on('frame', (m) => inbox.push(m));
    const cfg = { ...config({ kind: 'ble-nus' }), telemetry: { intervalMs: 0, retryMs: 10_000, maxTries: 3, outbox: 4 } };
    const d = boot(dir, 'puck-js', cfg, { clock, ble: pair.peripheral, capture: false });
    const svc = d.env.services!;
    expect(svc.options).toEqual({ uart: false, advertise: ['6e400001-b5a3-f393-e0a9-e50e24dcca9e'] });
    expect(Object.keys(svc.services['6e400001-b5a3-f393-e0a9-e50e24dcca9e']!).sort()).toEqual(['6e400002-b5a3-f393-e0a9-e50e24dcca9e', '6e400003-b5a3-f393-e0a9-e50e24dcca9e']);
    await clock.advance(0);
    const ctl = new NodeAgent(controller);

    const id = d.endpoint.report({ temp: 22.25, batt: 80 });
    expect(await clock.runUntilDone(() => inbox.length === 1, 5000)).toBe(true);
    expect(pair.peripheral.packetsSent).toBeGreaterThanOrEqual(3);
    const report = await ctl.open(inbox[0]!);
    expect(report.message).toMatchObject({ id, type: TYPES.report, from: device.did, body: { temp: 22.25, batt: 80 } });

    let done = '';
    central.send(await ctl.ack(id), undefined).then(() => (done = 'acked'), (e: { code: string }) => (done = e.code));
    expect(await clock.runUntilDone(() => done !== '', 60_000)).toBe(true);
    expect(done).toBe('acked');
    expect(d.endpoint.outbox).toEqual([]);

    done = '';
    central.send(await ctl.command('led', true, 'b1e0'), undefined).then(() => (done = 'acked'), (e: { code: string }) => (done = e.code));
    expect(await clock.runUntilDone(() => done !== '' && inbox.length === 2, 60_000)).toBe(true);
    expect(done).toBe('acked');
    expect(d.env.led).toBe(true);
    expect((await ctl.open(inbox[1]!)).message).toMatchObject({ type: TYPES.result, thid: 'b1e0', body: { status: 'ok', result: true } });
    expect(d.env.uncaught).toEqual([]);
    await central.close();
  });

  it('fails sends while disconnected and recovers after reconnection', async () => {
    const clock = new ManualClock();
    const pair = createInMemoryBlePair({ clock, attMtu: 23 });
    const central = new FragmentTransport(new BleNusTransport(pair.central), { clock });
    const inbox: Uint8Array[] = [];
    central.on('frame', (m) => inbox.push(m));
    const cfg = { ...config({ kind: 'ble-nus' }), telemetry: { intervalMs: 0, retryMs: 10_000, maxTries: 5, outbox: 4 } };
    const d = boot(dir, 'puck-js', cfg, { clock, ble: pair.peripheral, capture: false });
    await clock.advance(0);
    pair.disconnect();
    d.endpoint.report({ temp: 5 });
    await clock.advance(1000);
    expect(d.endpoint.stats.sent).toBe(0);
    pair.reconnect();
    // The report's next retry goes out over the new connection.
    expect(await clock.runUntilDone(() => inbox.length === 1, 30_000)).toBe(true);
    expect((await new NodeAgent(controller).open(inbox[0]!)).message.body).toMatchObject({ temp: 5 });
    await central.close();
  });
});
