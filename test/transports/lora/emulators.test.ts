import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/util/clock.js';
import { airtimeMs, loraSettings } from '../../../transports/lora/airtime.js';
import { RadioChannel, type AirFrame } from '../../../transports/lora/channel.js';
import { EbyteEmulator } from '../../../transports/lora/emulators/ebyte.js';
import { Rak3172Emulator } from '../../../transports/lora/emulators/rak3172.js';
import { Rn2483Emulator } from '../../../transports/lora/emulators/rn2483.js';
import { RylrEmulator } from '../../../transports/lora/emulators/rylr.js';
import { latin1ToBytes } from '../../../transports/serial/latin1.js';
import { LineSplitter } from '../../../transports/serial/line-splitter.js';
import { createSerialPair, type MemorySerialEnd } from '../../../transports/serial/memory-pair.js';

/** A raw terminal on the host side of an emulator: type lines, read lines. */
class Terminal {
  readonly lines: string[] = [];
  readonly bytes: number[] = [];
  readonly port: MemorySerialEnd;
  readonly clock: ManualClock;
  constructor(port: MemorySerialEnd, clock: ManualClock) {
    this.port = port;
    this.clock = clock;
    const s = new LineSplitter({ onLine: (l) => this.lines.push(l), onError: () => undefined });
    port.on('data', (c) => {
      this.bytes.push(...c);
      s.push(c);
    });
  }
  /** Sends a command, lets the modem answer, returns the new lines. */
  async ask(line: string): Promise<string[]> {
    const from = this.lines.length;
    this.port.write(latin1ToBytes(`${line}\r\n`));
    await this.clock.advance(0);
    return this.lines.slice(from);
  }
  /** Advances time, returns lines that arrived meanwhile. */
  async wait(ms: number): Promise<string[]> {
    const from = this.lines.length;
    await this.clock.advance(ms);
    return this.lines.slice(from);
  }
}

function world() {
  const clock = new ManualClock();
  const channel = new RadioChannel({ clock, dutyCycle: 1 });
  const air: AirFrame[] = [];
  const sniffer = channel.join('sniffer', {}, (f) => air.push(f));
  sniffer.setListening(true);
  const make = <T>(build: (port: MemorySerialEnd) => T): [T, Terminal] => {
    const [hostEnd, modemEnd] = createSerialPair();
    return [build(modemEnd), new Terminal(hostEnd, clock)];
  };
  return { clock, channel, air, sniffer, make };
}

describe('RYLR998 emulator', () => {
  it('answers configuration commands and queries like the module', async () => {
    const { channel, make } = world();
    const [, t] = make((port) => new RylrEmulator({ port, channel, id: 'r1' }));
    expect(await t.ask('AT')).toEqual(['+OK']);
    expect(await t.ask('AT+ADDRESS=7')).toEqual(['+OK']);
    expect(await t.ask('AT+ADDRESS?')).toEqual(['+ADDRESS=7']);
    expect(await t.ask('AT+NETWORKID?')).toEqual(['+NETWORKID=18']);
    expect(await t.ask('AT+BAND=868100000')).toEqual(['+OK']);
    expect(await t.ask('AT+PARAMETER=9,7,1,12')).toEqual(['+OK']);
    expect(await t.ask('AT+PARAMETER?')).toEqual(['+PARAMETER=9,7,1,12']);
    expect(await t.ask('AT+VER?')).toEqual(['+VER=RYLR998_REYAX_V1.2.2']);
    expect(await t.ask('AT+RESET')).toEqual(['+RESET', '+READY']);
  });

  it('uses the guide\'s error numbers', async () => {
    const { channel, make } = world();
    const [, t] = make((port) => new RylrEmulator({ port, channel, id: 'r1' }));
    expect(await t.ask('HELLO')).toEqual(['+ERR=2']);
    expect(await t.ask('AT+FOO=1')).toEqual(['+ERR=4']);
    expect(await t.ask('AT+SEND=0,5,HELL')).toEqual(['+ERR=5']);
    expect(await t.ask(`AT+SEND=0,241,${'A'.repeat(241)}`)).toEqual(['+ERR=13']);
    expect(await t.ask('AT+NETWORKID=16')).toEqual(['+ERR=4']);
    expect(await t.ask('AT+PARAMETER=9,7,1,8')).toEqual(['+OK']); // NETWORKID 18: 4..24
    expect(await t.ask('AT+NETWORKID=5')).toEqual(['+OK']);
    expect(await t.ask('AT+PARAMETER=9,7,1,8')).toEqual(['+ERR=18']); // other networks: 12 only
    expect(await t.ask('AT+PARAMETER=12,7,1,12')).toEqual(['+ERR=4']); // RYLR998: SF <= 11
    expect(await t.ask('AT+SEND=0,5,HELLO')).toEqual(['+OK']);
    expect(await t.ask('AT+SEND=0,5,HELLO')).toEqual(['+ERR=17']); // still on the air
  });

  it('puts 8 header bytes + data on the air, and reports receptions as +RCV with RSSI/SNR', async () => {
    const { clock, channel, air, make } = world();
    const [, t1] = make((port) => new RylrEmulator({ port, channel, id: 'r1', address: 1 }));
    const [, t2] = make((port) => new RylrEmulator({ port, channel, id: 'r2', address: 2 }));
    const [, t3] = make((port) => new RylrEmulator({ port, channel, id: 'r3', address: 3 }));
    expect(await t1.ask('AT+SEND=2,9,HE,LO,+OK')).toEqual(['+OK']);
    expect(await t2.wait(1000)).toEqual(['+RCV=1,9,HE,LO,+OK,-60,9']);
    expect(t3.lines).toEqual([]); // not addressed to 3
    expect(air[0]!.payload.length).toBe(8 + 9);
    expect(air[0]!.endedAt - air[0]!.startedAt).toBeCloseTo(airtimeMs(17, loraSettings()), 3);
    expect(await t1.ask('AT+SEND=0,2,hi')).toEqual(['+OK']); // broadcast
    await clock.advance(1000);
    expect(t2.lines.at(-1)).toBe('+RCV=1,2,hi,-60,9');
    expect(t3.lines.at(-1)).toBe('+RCV=1,2,hi,-60,9');
    // Other network id or password: not heard.
    expect(await t3.ask('AT+CPIN=0000ABCD')).toEqual(['+OK']);
    expect(await t1.ask('AT+SEND=0,2,yo')).toEqual(['+OK']);
    expect(await t3.wait(1000)).toEqual([]);
    expect(t2.lines.at(-1)).toBe('+RCV=1,2,yo,-60,9');
  });
});

describe('RN2483 emulator', () => {
  it('needs mac pause, answers radio set/get, tx ok → radio_tx_ok after the airtime', async () => {
    const { clock, channel, air, make } = world();
    const [, t] = make((port) => new Rn2483Emulator({ port, channel, id: 'rn' }));
    expect(await t.ask('sys get ver')).toEqual(['RN2483 1.0.5 Oct 31 2018 15:06:52']);
    expect(await t.ask('radio tx 01')).toEqual(['busy']); // LoRaWAN stack not paused
    expect(await t.ask('mac pause')).toEqual(['4294967245']);
    expect(await t.ask('radio set sf sf9')).toEqual(['ok']);
    expect(await t.ask('radio set sf sf13')).toEqual(['invalid_param']);
    expect(await t.ask('radio set freq 915000000')).toEqual(['invalid_param']);
    expect(await t.ask('radio set bw 250')).toEqual(['ok']);
    expect(await t.ask('radio set cr 4/7')).toEqual(['ok']);
    expect(await t.ask('radio get sf')).toEqual(['sf9']);
    expect(await t.ask('radio get cr')).toEqual(['4/7']);
    expect(await t.ask('radio tx 0G')).toEqual(['invalid_param']);
    expect(await t.ask('radio tx 123')).toEqual(['invalid_param']);
    expect(await t.ask(`radio tx ${'00'.repeat(256)}`)).toEqual(['invalid_param']);
    expect(await t.ask('foo bar')).toEqual(['invalid_param']);
    const air10 = airtimeMs(10, loraSettings({ sf: 9, bandwidthHz: 250_000, codingRate: 3 }));
    expect(await t.ask('radio tx 00112233445566778899')).toEqual(['ok']);
    expect(await t.ask('radio tx 00')).toEqual(['busy']);
    expect(await t.wait(Math.ceil(air10) - 1)).toEqual([]);
    expect(await t.wait(1)).toEqual(['radio_tx_ok']);
    expect(air.length).toBe(0); // sniffer is on SF7/125
    expect(clock.pending).toBe(0);
  });

  it('receives one packet per radio rx, with two spaces, and honours the watchdog', async () => {
    const { channel, sniffer, make } = world();
    const [, t] = make((port) => new Rn2483Emulator({ port, channel, id: 'rn' }));
    await t.ask('mac pause');
    expect(await t.ask('radio rx 0')).toEqual(['ok']);
    expect(await t.ask('radio tx 01')).toEqual(['busy']); // receiving
    expect(await t.ask('radio set sf sf8')).toEqual(['busy']);
    sniffer.transmit(Uint8Array.of(0xca, 0xfe));
    expect(await t.wait(100)).toEqual(['radio_rx  CAFE']);
    sniffer.transmit(Uint8Array.of(1)); // not re-armed: missed
    expect(await t.wait(100)).toEqual([]);
    expect(await t.wait(15_000)).toEqual([]); // idle: no watchdog
    expect(await t.ask('radio rx 0')).toEqual(['ok']);
    expect(await t.wait(15_000)).toEqual(['radio_err']); // default wdt 15 s
    expect(await t.ask('radio set wdt 0')).toEqual(['ok']);
    expect(await t.ask('radio rx 0')).toEqual(['ok']);
    expect(await t.wait(3_600_000)).toEqual([]);
    expect(await t.ask('radio rxstop')).toEqual(['ok']);
    expect(await t.ask('radio tx 01')).toEqual(['ok']);
  });
});

describe('RAK3172 emulator (RUI3 P2P)', () => {
  it('refuses P2P commands in LoRaWAN mode and validates AT+P2P / AT+PSEND', async () => {
    const { channel, make } = world();
    const [, t] = make((port) => new Rak3172Emulator({ port, channel, id: 'rak' }));
    expect(await t.ask('AT')).toEqual(['OK']);
    expect(await t.ask('AT+PSEND=01')).toEqual(['AT_MODE_NO_SUPPORT']);
    expect(await t.ask('at+nwm=0')).toEqual(['OK']); // case-insensitive
    expect(await t.ask('AT+NWM=?')).toEqual(['AT+NWM=0', 'OK']);
    expect(await t.ask('AT+P2P=868100000:7:125:0:8:14')).toEqual(['OK']);
    expect(await t.ask('AT+P2P=?')).toEqual(['AT+P2P=868100000:7:125:0:8:14', 'OK']);
    expect(await t.ask('AT+P2P=868100000:13:125:0:8:14')).toEqual(['AT_PARAM_ERROR']);
    expect(await t.ask('AT+P2P=868100000:7:125:0:8')).toEqual(['AT_PARAM_ERROR']);
    expect(await t.ask('AT+PSEND=0')).toEqual(['AT_PARAM_ERROR']);
    expect(await t.ask('AT+PSEND=XY')).toEqual(['AT_PARAM_ERROR']);
    expect(await t.ask(`AT+PSEND=${'AB'.repeat(251)}`)).toEqual(['AT_PARAM_ERROR']);
    expect(await t.ask('AT+FOO')).toEqual(['AT_COMMAND_NOT_FOUND']);
    expect(await t.ask(`AT+PSEND=${'AB'.repeat(250)}`)).toEqual(['OK']);
    expect(await t.ask('AT+PSEND=01')).toEqual(['AT_BUSY_ERROR']);
    expect(await t.wait(airtimeMs(250, loraSettings()))).toEqual(['+EVT:TXP2P DONE']);
  });

  it('continuous RX: 65534 blocks PSEND, 65533 allows it; receptions as +EVT:RXP2P', async () => {
    const { channel, sniffer, make } = world();
    const [, t] = make((port) => new Rak3172Emulator({ port, channel, id: 'rak', workMode: 0 }));
    expect(await t.ask('AT+PRECV=65534')).toEqual(['OK']);
    expect(await t.ask('AT+PSEND=01')).toEqual(['AT_BUSY_ERROR']);
    expect(await t.ask('AT+PRECV=65533')).toEqual(['AT_BUSY_ERROR']);
    sniffer.transmit(Uint8Array.of(0xab, 0xcd));
    expect(await t.wait(100)).toEqual(['+EVT:RXP2P:-60:9:ABCD']);
    expect(await t.ask('AT+PRECV=0')).toEqual(['OK']);
    expect(await t.ask('AT+PRECV=65533')).toEqual(['OK']);
    expect(await t.ask('AT+PSEND=01')).toEqual(['OK']);
    expect(await t.wait(100)).toEqual(['+EVT:TXP2P DONE']);
    sniffer.transmit(Uint8Array.of(1)); // still listening after its own transmission
    expect(await t.wait(100)).toEqual(['+EVT:RXP2P:-60:9:01']);
    expect(await t.ask('AT+PRECV=0')).toEqual(['OK']);
    expect(await t.ask('AT+PRECV=500')).toEqual(['OK']);
    expect(await t.wait(500)).toEqual(['+EVT:RXP2P RECEIVE TIMEOUT']);
  });
});

describe('Ebyte E32/E22 emulator (transparent)', () => {
  it('sends full sub-packets at once and the remainder after 3 byte-times of silence', async () => {
    const { clock, channel, air, make } = world();
    const [e32, t] = make((port) => new EbyteEmulator({ port, channel, id: 'e32', model: 'e32' }));
    expect(e32.idleGapMs).toBeCloseTo(3.125, 9);
    t.port.write(new Uint8Array(130).fill(7));
    await clock.advance(0);
    expect(air.map((f) => f.payload.length)).toEqual([]); // first packet still on the air
    await clock.advance(airtimeMs(58, loraSettings()));
    expect(air.map((f) => f.payload.length)).toEqual([58]);
    await clock.advance(1000);
    expect(air.map((f) => f.payload.length)).toEqual([58, 58, 14]);
    // A short write waits for the idle gap.
    t.port.write(new Uint8Array(10).fill(1));
    await clock.advance(3);
    expect(channel.stats().onAir).toBe(0);
    await clock.advance(0.2);
    expect(channel.stats().onAir).toBe(1);
  });

  it('writes received sub-packets to the UART unchanged, and loses what overflows its buffer', async () => {
    const { clock, channel, sniffer, make } = world();
    const [e22, t] = make((port) => new EbyteEmulator({ port, channel, id: 'e22', model: 'e22', uartBufferSize: 1000 }));
    sniffer.transmit(Uint8Array.of(0, 1, 2, 0x0d, 0x0a));
    await clock.advance(100);
    expect(t.bytes).toEqual([0, 1, 2, 0x0d, 0x0a]);
    t.port.write(new Uint8Array(1500));
    await clock.advance(0);
    expect(e22.overflowBytes).toBe(500);
    expect(() => new EbyteEmulator({ port: t.port, channel, id: 'x', model: 'e32', subPacketSize: 64 })).toThrow(
      expect.objectContaining({ code: 'ERR_ARGUMENT' }),
    );
  });
});
