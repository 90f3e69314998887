/**
 * Fault behaviour of the LoRa drivers: oversize frames, modem busy/error replies, duty cycle
 * exhausted, garbage and partial lines on the UART, command timeouts, a port that goes away.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DidcommError } from '../../../src/errors.js';
import type { ManualClock } from '../../../src/util/clock.js';
import { latin1ToBytes } from '../../../transports/serial/latin1.js';
import { encodeCobsFrame } from '../../../transports/serial/cobs-frames.js';
import { ModemReplyError, type AtModem } from '../../../transports/lora/at-modem.js';
import { RylrModem } from '../../../transports/lora/rylr.js';
import { Rn2483Modem } from '../../../transports/lora/rn2483.js';
import { RadioChannel } from '../../../transports/lora/channel.js';
import { RylrEmulator } from '../../../transports/lora/emulators/rylr.js';
import { asAt, buildRig, closeRig, DRIVER_KINDS, type DriverKind, type Rig } from './rig.js';
import { openMockSerial } from './serial-mock.js';

async function settle<T>(clock: ManualClock, p: Promise<T>, maxMs = 3_600_000): Promise<T> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await clock.runUntilDone(() => done, maxMs);
  return p;
}

async function rejection(clock: ManualClock, p: Promise<unknown>): Promise<DidcommError> {
  try {
    await settle(clock, p);
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return e as DidcommError;
  }
  throw new Error('expected a rejection');
}

function collect(rig: Rig, i: number): { frames: string[]; errors: string[] } {
  const out = { frames: [] as string[], errors: [] as string[] };
  rig.nodes[i]!.driver.on('frame', (f) => out.frames.push(Buffer.from(f).toString('hex')));
  rig.nodes[i]!.driver.on('error', (e) => out.errors.push(e.code));
  return out;
}

let rig: Rig | undefined;
afterEach(async () => {
  if (rig) await closeRig(rig);
  rig = undefined;
});

describe.each(DRIVER_KINDS)('%s driver faults', (kind: DriverKind) => {
  it('rejects oversize and empty frames without touching the UART', async () => {
    rig = await buildRig(kind);
    const { driver, modemSide } = rig.nodes[0]!;
    const before = modemSide.recording.length;
    await expect(driver.send(new Uint8Array(driver.mtu + 1))).rejects.toMatchObject({ code: 'ERR_TOO_LARGE' });
    await expect(driver.send(new Uint8Array(0))).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
    await expect(driver.send('abc' as unknown as Uint8Array)).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
    await rig.clock.advance(1000);
    expect(modemSide.recording.length).toBe(before);
  });

  it('refuses to exceed the duty cycle: ERR_DUTY_CYCLE with a retryAfterMs that, once waited, succeeds', async () => {
    rig = await buildRig(kind);
    const { clock } = rig;
    const a = rig.nodes[0]!.driver;
    const rx = collect(rig, 1);
    const frame = new Uint8Array(40).fill(3);
    await settle(clock, a.send(frame, rig.nodes[1]!.driver.address));
    await clock.advance(123);
    const e = await rejection(clock, a.send(frame, rig.nodes[1]!.driver.address));
    expect(e.code).toBe('ERR_DUTY_CYCLE');
    // 1 % at 868.1 MHz: 100 × airtime between starts; the transparent driver also dates its start
    // after the UART transfer time + 3 byte-times.
    const air = a.airtimeFor(frame.length);
    expect(e.retryAfterMs).toBeGreaterThanOrEqual(Math.floor(100 * air - 123));
    expect(e.retryAfterMs).toBeLessThanOrEqual(Math.ceil(100 * air - 123 + 100));
    expect(a.sendDelay(frame.length)).toBe(e.retryAfterMs);
    await clock.advance(e.retryAfterMs! - 1);
    expect((await rejection(clock, a.send(frame, rig.nodes[1]!.driver.address))).code).toBe('ERR_DUTY_CYCLE');
    await clock.advance(1);
    expect(a.sendDelay(frame.length)).toBe(0);
    await settle(clock, a.send(frame, rig.nodes[1]!.driver.address));
    await clock.advance(1000);
    expect(rx.frames.length).toBe(2);
    expect(a.budget.usedInWindowMs()).toBeCloseTo(2 * air, 0);
    expect(rig.violations).toEqual([]);
  });

  it('survives garbage, partial lines and over-long noise on the UART, and still delivers', async () => {
    rig = await buildRig(kind);
    const { clock } = rig;
    const rx = collect(rig, 1);
    const noise = [
      latin1ToBytes('\x00\xff\xfegarbage\r\n'),
      latin1ToBytes('+RCV=1,5,abc'), // partial line, completed by the next chunk
      latin1ToBytes('\r\n+RCV=1,999,x,1,2\r\n+RCV=1,4,!!!!,-1,2\r\nradio_rx  XYZ\r\n+EVT:RXP2P:-1:2:ABC\r\n'),
      new Uint8Array(3000).fill(0x41),
      latin1ToBytes('\r\n'),
    ];
    for (const n of noise) rig.nodes[1]!.modemSide.write(n);
    await clock.advance(10);
    expect(rx.errors.length).toBeGreaterThan(0);
    for (const c of rx.errors) expect(['ERR_MALFORMED', 'ERR_TOO_LARGE']).toContain(c);
    const frame = Uint8Array.of(0x2c, 0x0d, 0x0a, 0x00, 0x7e);
    await settle(clock, rig.nodes[0]!.driver.send(frame, rig.nodes[1]!.driver.address));
    await clock.advance(1000);
    expect(rx.frames).toEqual(['2c0d0a007e']);
    expect(rig.nodes[1]!.driver.state).toBe('online');
  });

  it('goes offline and rejects pending work when the port closes underneath', async () => {
    rig = await buildRig(kind, { dutyCycle: 1 });
    const d = rig.nodes[0]!.driver;
    const states: string[] = [];
    d.on('state', (s) => states.push(s));
    await new Promise<void>((r) => (d as unknown as { port: { close(cb: () => void): void } }).port.close(() => r()));
    await rig.clock.advance(0);
    expect(d.state).toBe('offline');
    expect(states).toEqual(['offline']);
    await expect(d.send(Uint8Array.of(1))).rejects.toMatchObject({ code: 'ERR_TRANSPORT' });
  });
});

describe.each(['rylr', 'rn2483', 'rak3172'] as DriverKind[])('%s AT command queue', (kind) => {
  it('times out a command the modem ignores (ERR_TIMEOUT), keeps it counted, and the queue continues', async () => {
    rig = await buildRig(kind, { commandTimeoutMs: 500 });
    const { clock } = rig;
    const rx = collect(rig, 1);
    const a = rig.nodes[0]!.driver;
    // RN2483 sends `radio rxstop` first: mute that and the tx.
    asAt(rig.nodes[0]!.emulator).muteNext(kind === 'rn2483' ? 2 : 1);
    const started = clock.now();
    const e = await rejection(clock, a.send(Uint8Array.of(1, 2, 3), rig.nodes[1]!.driver.address));
    expect(e.code).toBe('ERR_TIMEOUT');
    expect(clock.now() - started).toBeGreaterThanOrEqual(500);
    expect(a.sendDelay(3)).toBeGreaterThan(0); // may have gone out: still counted
    await clock.advance(a.sendDelay(3));
    await settle(clock, a.send(Uint8Array.of(4, 5, 6), rig.nodes[1]!.driver.address));
    await clock.advance(1000);
    expect(rx.frames).toEqual(['040506']);
  });

  it('turns busy / error replies into typed rejections with the modem reply as cause', async () => {
    rig = await buildRig(kind, { dutyCycle: 1 });
    const { clock } = rig;
    const em = asAt(rig.nodes[0]!.emulator);
    const a = rig.nodes[0]!.driver;
    const to = rig.nodes[1]!.driver.address;
    const rx = collect(rig, 1);
    const errs = collect(rig, 0);
    const cases: Record<string, Array<[string[][], string, string]>> = {
      rylr: [
        [[['+ERR=17']], 'ERR_TRANSPORT', '+ERR=17'],
        [[['+ERR=13']], 'ERR_TOO_LARGE', '+ERR=13'],
        [[['+ERR=15']], 'ERR_TRANSPORT', '+ERR=15'],
      ],
      // rxstop answered 'ok' without stopping: the real modem then answers the tx with 'busy'.
      rn2483: [
        [[['ok']], 'ERR_TRANSPORT', 'busy'],
        [[['ok'], ['invalid_param']], 'ERR_TRANSPORT', 'invalid_param'],
      ],
      rak3172: [
        [[['AT_BUSY_ERROR']], 'ERR_TRANSPORT', 'AT_BUSY_ERROR'],
        [[['AT_PARAM_ERROR']], 'ERR_TRANSPORT', 'AT_PARAM_ERROR'],
      ],
    };
    for (const [canned, code, reply] of cases[kind]!) {
      for (const lines of canned) em.answerNext(lines);
      const e = await rejection(clock, a.send(Uint8Array.of(9), to));
      expect(e.code).toBe(code);
      expect(e.cause).toBeInstanceOf(ModemReplyError);
      expect((e.cause as ModemReplyError).reply).toBe(reply);
      expect(a.sendDelay(1)).toBe(0); // refused: not counted
      await clock.advance(1000);
    }
    await settle(clock, a.send(Uint8Array.of(7), to));
    await clock.advance(1000);
    expect(rx.frames).toEqual(['07']);
    expect(errs.errors).toEqual([]);
  });

  it('rejects a send still waiting for the modem with ERR_TRANSPORT when the transport closes', async () => {
    rig = await buildRig(kind);
    asAt(rig.nodes[0]!.emulator).muteNext(5);
    const p = rig.nodes[0]!.driver.send(Uint8Array.of(1), rig.nodes[1]!.driver.address);
    await rig.clock.advance(0);
    await rig.nodes[0]!.driver.close();
    await expect(p).rejects.toMatchObject({ code: 'ERR_TRANSPORT' });
    expect((rig.nodes[0]!.driver as AtModem).pendingCommands).toBe(0);
  });

  it('fails open() with ERR_TIMEOUT when the modem does not answer, and closes', async () => {
    const { host, modem } = await openMockSerial();
    const { ManualClock } = await import('../../../src/util/clock.js');
    const clock = new ManualClock();
    const channel = new RadioChannel({ clock });
    const em = new RylrEmulator({ port: modem, channel, id: 'mute' });
    em.muteNext(1);
    const p = RylrModem.open({ port: host, clock, address: 1, commandTimeoutMs: 300 });
    const e = await rejection(clock, p);
    expect(e.code).toBe('ERR_TIMEOUT');
    expect(host.isOpen).toBe(false);
  });
});

describe('driver specifics', () => {
  it('RN2483: a radio_err after ok is an error event, and the receiver is re-armed', async () => {
    rig = await buildRig('rn2483', { dutyCycle: 1 });
    const { clock } = rig;
    const em = asAt(rig.nodes[0]!.emulator);
    const errs = collect(rig, 0);
    em.answerNext(['ok']); // rxstop (radio keeps receiving)
    em.answerNext(['ok', 'radio_err']); // tx accepted, then failed
    await settle(clock, rig.nodes[0]!.driver.send(Uint8Array.of(1)));
    await clock.advance(100);
    expect(errs.errors).toEqual(['ERR_TRANSPORT']);
    const rx = collect(rig, 0);
    await settle(clock, rig.nodes[1]!.driver.send(Uint8Array.of(2)));
    await clock.advance(1000);
    expect(rx.frames).toEqual(['02']);
    expect((rig.nodes[0]!.driver as Rn2483Modem).version).toMatch(/^RN2483 1\.0\.5/);
  });

  it('RN2483 refuses to drive an RN2903 when told to expect an RN2483', async () => {
    const { host, modem } = await openMockSerial();
    const { ManualClock } = await import('../../../src/util/clock.js');
    const clock = new ManualClock();
    const channel = new RadioChannel({ clock });
    const { Rn2483Emulator } = await import('../../../transports/lora/emulators/rn2483.js');
    new Rn2483Emulator({ port: modem, channel, id: 'us', variant: 'rn2903' });
    const e = await rejection(clock, Rn2483Modem.open({ port: host, clock }));
    expect(e.code).toBe('ERR_UNSUPPORTED');
  });

  it('RYLR: unicast reaches only its address, broadcast reaches all; bad addresses are ERR_ARGUMENT', async () => {
    rig = await buildRig('rylr', { count: 3, dutyCycle: 1 });
    const { clock } = rig;
    const r1 = collect(rig, 1);
    const r2 = collect(rig, 2);
    const a = rig.nodes[0]!.driver;
    await settle(clock, a.send(Uint8Array.of(1), '2'));
    await clock.advance(1000);
    await settle(clock, a.send(Uint8Array.of(2)));
    await clock.advance(1000);
    expect(r1.frames).toEqual(['01', '02']);
    expect(r2.frames).toEqual(['02']);
    const from: Array<string | undefined> = [];
    rig.nodes[2]!.driver.on('frame', (_f, f) => from.push(f));
    await settle(clock, a.send(Uint8Array.of(3), '3'));
    await clock.advance(1000);
    expect(from).toEqual(['1']);
    expect(rig.nodes[2]!.driver.lastReception).toMatchObject({ rssiDbm: -60, snrDb: 9 });
    await expect(a.send(Uint8Array.of(1), 'abc')).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
    await expect(a.send(Uint8Array.of(1), '70000')).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
    expect(() => new RylrModem({ port: rig!.nodes[0]!.modemSide, address: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_ARGUMENT' }),
    );
  });

  it('RYLR: never issues AT+SEND while the module is still on the air (no +ERR=17)', async () => {
    rig = await buildRig('rylr', { dutyCycle: 1 });
    const { clock } = rig;
    const rx = collect(rig, 1);
    const a = rig.nodes[0]!.driver;
    const frame = new Uint8Array(100).fill(1);
    await settle(clock, a.send(frame, '2'));
    // dc = 1: the only wait is the airtime of the frame on the air.
    const e = await rejection(clock, a.send(frame, '2'));
    expect(e.code).toBe('ERR_DUTY_CYCLE');
    expect(e.retryAfterMs).toBe(Math.ceil(a.airtimeFor(100)));
    await clock.advance(e.retryAfterMs!);
    await settle(clock, a.send(frame, '2'));
    await clock.advance(1000);
    expect(rx.frames.length).toBe(2);
    expect(rig.nodes[0]!.emulator.stats.errorReplies).toBe(0);
  });

  it('transparent: close rejects frames queued behind a write in progress (ERR_TRANSPORT, no hang)', async () => {
    const { ManualClock } = await import('../../../src/util/clock.js');
    const { TransparentModem } = await import('../../../transports/lora/transparent.js');
    const held: Array<() => void> = [];
    const port = {
      write: (_c: Uint8Array, cb?: (e: Error | null | undefined) => void) => {
        held.push(() => cb?.(null));
        return true;
      },
      on: () => port,
      removeListener: () => port,
    };
    const clock = new ManualClock();
    const a = await TransparentModem.open({ port, clock, model: 'e22', dutyCycle: 1 });
    const first = a.send(new Uint8Array(100));
    await clock.advance(0);
    expect(held.length).toBe(1); // first frame's write still in progress
    // A second frame queued behind it (bypassing the budget check, which would refuse it).
    const queued = (a as unknown as { transmitFrame: (f: Uint8Array, d: undefined, r: unknown, t: number) => Promise<void> })
      .transmitFrame(Uint8Array.of(1), undefined, a.budget.reserve(10), 10);
    await a.close();
    held[0]!();
    await first;
    await expect(queued).rejects.toMatchObject({ code: 'ERR_TRANSPORT' });
  });

  it('transparent: frames survive 1-byte reads and merged frames on the UART', async () => {
    rig = await buildRig('e32', { dutyCycle: 1 });
    const { clock } = rig;
    const rx = collect(rig, 1);
    const side = rig.nodes[1]!.modemSide;
    const f1 = encodeCobsFrame(Uint8Array.of(1, 0, 2));
    const f2 = encodeCobsFrame(Uint8Array.of(3));
    const merged = new Uint8Array([...f1, ...latin1ToBytes('noise'), ...f2]);
    for (const b of merged) side.write(Uint8Array.of(b));
    await clock.advance(10);
    expect(rx.frames).toEqual(['010002', '03']);
    expect(rx.errors).toEqual(['ERR_MALFORMED']);
  });
});
