/**
 * End to end over a real pty pair (socat) with the real serialport 13 bindings: the driver opens
 * one pty, the modem emulator the other (embedded.md §5). The emulator is one radio on a channel
 * whose other radio is a simulated modem + driver, so a frame crosses: driver → pty → emulator →
 * air → emulator → driver, and back. Real time (wall clock), short airtime (SF7, 500 kHz).
 * Skipped, with a message, only when socat is not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/util/clock.js';
import { RadioChannel } from '../../../transports/lora/channel.js';
import type { ModemEmulator } from '../../../transports/lora/emulators/emulator-base.js';
import { EbyteEmulator } from '../../../transports/lora/emulators/ebyte.js';
import { Rn2483Emulator } from '../../../transports/lora/emulators/rn2483.js';
import { RylrEmulator } from '../../../transports/lora/emulators/rylr.js';
import type { LoraLinkBase } from '../../../transports/lora/link-base.js';
import { Rn2483Modem } from '../../../transports/lora/rn2483.js';
import { RylrModem } from '../../../transports/lora/rylr.js';
import { createSimulatedLoraRadio, type SimulatedLoraRadio } from '../../../transports/lora/simulated.js';
import { TransparentModem } from '../../../transports/lora/transparent.js';
import { openSerialPort } from '../../../transports/serial/node-port.js';
import type { SerialDuplex } from '../../../transports/serial/types.js';

const hasSocat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
if (!hasSocat) console.warn('socat is not installed: skipping the LoRa pty end-to-end tests (apt-get install socat)');

const RADIO = { sf: 7, bandwidthHz: 500_000 } as const;

async function waitFor(done: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface PtyPair {
  proc: ChildProcess;
  a: string;
  b: string;
}

async function startSocat(): Promise<PtyPair> {
  const base = join(tmpdir(), `didcomm-lora-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const a = `${base}-A`;
  const b = `${base}-B`;
  const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  await waitFor(() => existsSync(a) && existsSync(b), 5000, 'socat pty links');
  return { proc, a, b };
}

async function stopSocat(p: PtyPair): Promise<void> {
  if (p.proc.exitCode === null && p.proc.pid !== undefined) {
    const exited = new Promise((r) => p.proc.once('exit', r));
    process.kill(p.proc.pid, 'SIGTERM');
    await exited;
  }
  for (const l of [p.a, p.b]) if (existsSync(l)) unlinkSync(l);
}

type Kind = 'rylr' | 'rn2483' | 'e22';

function emulatorFor(kind: Kind, port: SerialDuplex, channel: RadioChannel): ModemEmulator {
  if (kind === 'rylr') return new RylrEmulator({ port, channel, id: 'pty-modem' });
  if (kind === 'rn2483') return new Rn2483Emulator({ port, channel, id: 'pty-modem' });
  return new EbyteEmulator({ port, channel, id: 'pty-modem', model: 'e22', radio: RADIO });
}

function driverFor(kind: Kind, port: SerialDuplex): Promise<LoraLinkBase> {
  const base = { port, clock: systemClock, radio: RADIO, commandTimeoutMs: 3000 };
  if (kind === 'rylr') return RylrModem.open({ ...base, address: 1 });
  if (kind === 'rn2483') return Rn2483Modem.open(base);
  return TransparentModem.open({ ...base, model: 'e22' });
}

describe.skipIf(!hasSocat)('LoRa drivers over a socat pty pair (real serialport bindings)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  });

  it.each(['rylr', 'rn2483', 'e22'] as Kind[])('%s: frames cross pty → emulator → air → simulated modem and back', async (kind) => {
    const pty = await startSocat();
    cleanups.push(() => stopSocat(pty));
    const channel = new RadioChannel({ clock: systemClock });
    const violations: string[] = [];
    channel.on('violation', (v) => violations.push(v.error.message));
    const modemPort = await openSerialPort({ path: pty.b, baudRate: 115200 });
    cleanups.push(() => new Promise<void>((r) => (modemPort.isOpen ? modemPort.close!(() => r()) : r())));
    const emulator = emulatorFor(kind, modemPort, channel);
    cleanups.push(async () => emulator.close());
    const hostPort = await openSerialPort({ path: pty.a, baudRate: 115200 });
    const driver = await driverFor(kind, hostPort);
    cleanups.push(() => driver.close());
    const peer: SimulatedLoraRadio = await createSimulatedLoraRadio({
      channel,
      modem: kind,
      address: 2,
      clock: systemClock,
      radio: RADIO,
    });
    cleanups.push(() => peer.close());

    const atPeer: Uint8Array[] = [];
    const atDriver: Array<[Uint8Array, string | undefined]> = [];
    peer.transport.on('frame', (f) => atPeer.push(f));
    driver.on('frame', (f, from) => atDriver.push([f, from]));
    const errors: string[] = [];
    driver.on('error', (e) => errors.push(e.message));

    const out = new Uint8Array(Math.min(driver.mtu, 180)).map((_, i) => (i * 37) & 0xff);
    out.set([0x0d, 0x0a, 0x2c, 0x00], 0);
    await driver.send(out, peer.transport.address);
    await waitFor(() => atPeer.length === 1, 5000, 'frame at the simulated peer');
    expect(Buffer.from(atPeer[0]!).equals(Buffer.from(out))).toBe(true);

    // Half duplex: the pty modem listens again only once its driver has seen the end of its own
    // transmission (RN2483: radio_tx_ok, then `radio rx 0` over the pty).
    await waitFor(() => emulator.radio.listening && !emulator.radio.transmitting, 5000, 'the pty modem to listen again');
    const back = Uint8Array.of(0, 1, 2, 0xff, 0x0a, 0x0d);
    await peer.transport.send(back, driver.address);
    await waitFor(() => atDriver.length === 1, 5000, 'frame at the pty driver');
    expect(Buffer.from(atDriver[0]![0]).equals(Buffer.from(back))).toBe(true);
    expect(atDriver[0]![1]).toBe(kind === 'rylr' ? '2' : undefined);

    // The budget now forbids a second frame from the pty driver (EU868 1 %).
    await expect(driver.send(out, peer.transport.address)).rejects.toMatchObject({ code: 'ERR_DUTY_CYCLE' });
    expect(errors).toEqual([]);
    expect(violations).toEqual([]);
  });
});
