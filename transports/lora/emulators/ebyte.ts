/**
 * Emulator of an Ebyte E32 (SX1276/78) or E22 (SX1262/68) module in transparent mode (mode 0,
 * M0 = M1 = 0; E32-868T20D manual §6.2, E22 manuals; embedded.md §3.1).
 *
 * Bytes from the UART go into the module's buffer (E32 512 B, E22 1000 B; overflow is lost) and
 * out on the air in sub-packets: a full sub-packet (E32 58 B, E22 240 B by default, REG1) goes as
 * soon as it is buffered, a shorter remainder after 3 byte-times of UART silence. Received
 * sub-packets are written to the UART as they are: no framing, no addresses, no integrity check
 * (so drivers add their own framing and CRC). The module is half duplex: it does not listen while
 * transmitting. Configuration mode (M0/M1 pins, C0 register writes), fixed-point addressing and
 * the RSSI byte are not emulated; the radio settings are given as LoRa parameters because Ebyte
 * does not publish how its "air data rates" map onto SF/BW.
 */
import type { Timer } from '../../../src/util/clock.js';
import { err } from '../../../src/errors.js';
import { uartByteTimeMs } from '../../serial/types.js';
import type { AirFrame } from '../channel.js';
import { ModemEmulator, type ModemEmulatorOptions } from './emulator-base.js';

export type EbyteModel = 'e22' | 'e32';

export const EBYTE_DEFAULTS: Record<EbyteModel, { subPacketSize: number; uartBufferSize: number }> = {
  e32: { subPacketSize: 58, uartBufferSize: 512 },
  e22: { subPacketSize: 240, uartBufferSize: 1000 },
};

export interface EbyteEmulatorOptions extends ModemEmulatorOptions {
  model: EbyteModel;
  /** E22 REG1 sub-packet setting: 240, 128, 64 or 32. E32 is fixed at 58. */
  subPacketSize?: number;
  uartBufferSize?: number;
  /** UART baud rate (default 9600), sets the 3-byte-time idle gap. */
  baudRate?: number;
}

export class EbyteEmulator extends ModemEmulator {
  readonly model: EbyteModel;
  readonly subPacketSize: number;
  readonly idleGapMs: number;
  /** Bytes lost because the UART buffer was full. */
  overflowBytes = 0;
  private readonly buffer: Uint8Array;
  private buffered = 0;
  private idleTimer: Timer | undefined;
  private txTimer: Timer | undefined;
  private transmitting = false;

  constructor(options: EbyteEmulatorOptions) {
    super(options);
    this.model = options.model;
    const defaults = EBYTE_DEFAULTS[options.model];
    if (!defaults) throw err('ERR_ARGUMENT', `model: expected e22 or e32`);
    this.subPacketSize = options.subPacketSize ?? defaults.subPacketSize;
    const allowed = options.model === 'e32' ? [58] : [240, 128, 64, 32];
    if (!allowed.includes(this.subPacketSize)) {
      throw err('ERR_ARGUMENT', `subPacketSize: ${options.model} supports ${allowed.join(', ')}`);
    }
    this.buffer = new Uint8Array(options.uartBufferSize ?? defaults.uartBufferSize);
    this.idleGapMs = 3 * uartByteTimeMs(options.baudRate ?? 9600);
    this.radio.setListening(true);
  }

  protected onHostBytes(chunk: Uint8Array): void {
    const room = this.buffer.length - this.buffered;
    const take = Math.min(room, chunk.length);
    this.buffer.set(chunk.subarray(0, take), this.buffered);
    this.buffered += take;
    if (take < chunk.length) {
      this.overflowBytes += chunk.length - take;
      this.stats.badInput++;
    }
    this.idleTimer?.cancel();
    this.idleTimer = this.clock.setTimer(this.idleGapMs, () => {
      this.idleTimer = undefined;
      this.pump();
    });
    this.pump();
  }

  private pump(): void {
    if (this.transmitting || this.buffered === 0 || this.isClosed) return;
    // The idle timer restarts with every byte: none pending means the UART has been quiet for
    // 3 byte-times (trusting the timer, not clock arithmetic, which real timers can undershoot).
    const idle = this.idleTimer === undefined;
    if (this.buffered < this.subPacketSize && !idle) return;
    const n = Math.min(this.buffered, this.subPacketSize);
    const packet = this.buffer.slice(0, n);
    this.buffer.copyWithin(0, n, this.buffered);
    this.buffered -= n;
    this.radio.setListening(false);
    const { airtimeMs } = this.radio.transmit(packet);
    this.transmitting = true;
    this.txTimer = this.clock.setTimer(airtimeMs, () => {
      this.txTimer = undefined;
      this.transmitting = false;
      this.radio.setListening(true);
      this.pump();
    });
  }

  protected onAir(frame: AirFrame): void {
    this.writeRaw(frame.payload);
  }

  protected override onClose(): void {
    this.idleTimer?.cancel();
    this.txTimer?.cancel();
  }
}
