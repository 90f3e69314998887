/**
 * Driver for transparent LoRa modems: Ebyte E22 / E32 in mode 0 (embedded.md §3.1). The module
 * turns UART bytes into air sub-packets (E32 58 B, E22 240 B by default) and back, with no
 * framing, addresses or integrity check, so this driver frames each frame itself:
 * 0x00, COBS(frame || CRC-16/CCITT-FALSE), 0x00 (`serial/cobs-frames.ts`, 5 bytes of overhead).
 *
 * MTU = sub-packet − 5 (E32 53, E22 235), so one frame is exactly one air packet and a lost packet
 * costs one frame. Reads may be split or merged and the line may carry garbage: the decoder
 * resynchronises on 0x00, and bad frames become 'error' events. The link is broadcast (no
 * addresses). Frames are written one at a time, each once the previous one is off the air, and
 * dated for the duty cycle at write time + UART transfer time + 3 byte-times of idle (the module
 * cannot start earlier), so the driver's budget is never looser than the radio's.
 */
import { err } from '../../src/errors.js';
import type { Timer } from '../../src/util/clock.js';
import { CobsFrameDecoder, COBS_FRAME_OVERHEAD, encodeCobsFrame } from '../serial/cobs-frames.js';
import { uartByteTimeMs } from '../serial/types.js';
import type { DutyCycleReservation } from './duty-cycle.js';
import { LoraLinkBase, type LoraLinkOptions } from './link-base.js';

export type TransparentModemModel = 'e22' | 'e32';

const SUB_PACKET: Record<TransparentModemModel, number> = { e32: 58, e22: 240 };

export interface TransparentModemOptions extends LoraLinkOptions {
  model: TransparentModemModel;
  /** The module's sub-packet size (E22 REG1: 240/128/64/32; E32: 58). */
  subPacketSize?: number;
  /** UART baud rate (default 9600). */
  baudRate?: number;
}

/** Validates before the base class attaches to the port. */
function checkOptions(options: TransparentModemOptions): TransparentModemOptions {
  if (options?.model !== 'e22' && options?.model !== 'e32') throw err('ERR_ARGUMENT', 'model: expected e22 or e32');
  const sub = options.subPacketSize ?? SUB_PACKET[options.model];
  if (!Number.isInteger(sub) || sub <= COBS_FRAME_OVERHEAD || sub > 240) throw err('ERR_ARGUMENT', 'subPacketSize: expected 6..240');
  const baud = options.baudRate ?? 9600;
  if (!Number.isFinite(baud) || baud <= 0) throw err('ERR_ARGUMENT', 'baudRate: expected a positive number');
  return options;
}

export class TransparentModem extends LoraLinkBase {
  readonly kind: string;
  readonly mtu: number;
  readonly address = undefined;
  readonly model: TransparentModemModel;
  readonly subPacketSize: number;
  private readonly byteTimeMs: number;
  private readonly decoder: CobsFrameDecoder;
  private chain: Promise<void> = Promise.resolve();
  private nextWriteAt = -Infinity;
  private waitTimer: { timer: Timer; reject: (e: Error) => void } | undefined;

  /** No UART configuration exists in mode 0: the module is ready as wired. */
  static async open(options: TransparentModemOptions): Promise<TransparentModem> {
    const modem = new TransparentModem(options);
    modem.setState('online');
    return modem;
  }

  constructor(options: TransparentModemOptions) {
    super(checkOptions(options));
    this.model = options.model;
    this.kind = `lora-${options.model}`;
    this.subPacketSize = options.subPacketSize ?? SUB_PACKET[options.model];
    this.mtu = this.subPacketSize - COBS_FRAME_OVERHEAD;
    this.byteTimeMs = uartByteTimeMs(options.baudRate ?? 9600);
    this.decoder = new CobsFrameDecoder({
      maxEncodedLength: this.subPacketSize,
      onFrame: (payload) => {
        if (payload.length === 0) this.reportError(err('ERR_MALFORMED', `${this.kind}: empty frame`));
        else this.deliverFrame(payload, undefined);
      },
      onError: (e) => this.reportError(e),
    });
  }

  airBytes(size: number): number {
    return size + COBS_FRAME_OVERHEAD;
  }

  protected resolveDestination(): undefined {
    return undefined;
  }

  protected transmitFrame(
    frame: Uint8Array,
    _destination: number | undefined,
    reservation: DutyCycleReservation,
    airtimeMs: number,
  ): Promise<void> {
    const run = async (): Promise<void> => {
      this.assertOnline();
      await this.waitUntil(this.nextWriteAt);
      this.assertOnline();
      const bytes = encodeCobsFrame(frame);
      const start = this.clock.now() + (bytes.length + 3) * this.byteTimeMs;
      this.nextWriteAt = start + airtimeMs;
      reservation.commit(start);
      await this.writeBytes(bytes);
    };
    const p = this.chain.then(run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private assertOnline(): void {
    if (this.state !== 'online') throw err('ERR_TRANSPORT', `${this.kind}: link is ${this.state}`);
  }

  private waitUntil(at: number): Promise<void> {
    const wait = at - this.clock.now();
    if (wait <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimer(wait, () => {
        this.waitTimer = undefined;
        resolve();
      });
      this.waitTimer = { timer, reject };
    });
  }

  protected onSerialData(chunk: Uint8Array): void {
    this.decoder.push(chunk);
  }

  protected onClosing(): void {
    this.abortWait(err('ERR_TRANSPORT', `${this.kind}: transport closed`));
  }

  protected onPortLost(): void {
    this.abortWait(err('ERR_TRANSPORT', `${this.kind}: serial port closed`));
  }

  private abortWait(e: Error): void {
    const w = this.waitTimer;
    this.waitTimer = undefined;
    w?.timer.cancel();
    w?.reject(e);
  }
}
