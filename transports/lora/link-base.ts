/**
 * What every LoRa modem driver shares, whatever its host protocol: the `Transport` surface
 * (transports/types.ts), argument and MTU checks, and the duty-cycle budget (`duty-cycle.ts`).
 *
 * The driver refuses to exceed the budget: `send` rejects with ERR_DUTY_CYCLE and a
 * `retryAfterMs` after which the same frame is accepted, and `sendDelay(size)` says when that is.
 * A frame is counted against the budget as soon as `send` accepts it (a reservation), and
 * re-dated to the moment the modem confirms the transmission, which is never earlier than the
 * radio's real start, so the driver's view is always at least as strict as the air's. A frame the
 * modem refused is released; one whose command timed out stays counted (it may have gone out).
 */
import { err, type DidcommError } from '../../src/errors.js';
import { abytes } from '../../src/util/bytes.js';
import { systemClock, type Clock } from '../../src/util/clock.js';
import { Emitter } from '../../src/util/emitter.js';
import type { LinkAddress, Transport, TransportEvents, TransportState } from '../types.js';
import type { SerialCloseListener, SerialDataListener, SerialDuplex, SerialErrorListener } from '../serial/types.js';
import { airtimeMs, LORA_MAX_PAYLOAD, loraSettings, type LoraRadioSettings } from './airtime.js';
import { DutyCycleLimiter, type BandPlan, type DutyCycleBudget, type DutyCycleReservation } from './duty-cycle.js';

export type LinkEvents = { [K in keyof TransportEvents]: TransportEvents[K] };

export interface LoraLinkOptions {
  /** The UART (serialport 13 `SerialPort`, `SerialPortMock`, or an in-memory end). */
  port: SerialDuplex;
  /** Default: wall clock. Use a ManualClock for virtual time. */
  clock?: Clock;
  /** Carrier and modulation the modem is configured with (defaults: 868.1 MHz, SF7, BW125, 4/5). */
  radio?: Partial<LoraRadioSettings>;
  /** Duty-cycle rules (default: the band plan of the frequency, EU868 1 % on 868.1 MHz). */
  bandPlan?: BandPlan;
  /** One duty cycle for every frequency, overriding the plan. */
  dutyCycle?: number;
  /** Close the port when the transport closes (default true). */
  closePort?: boolean;
}

/** Signal quality of the last frame received (AT modems report it). */
export interface ReceptionInfo {
  rssiDbm: number;
  snrDb: number;
  at: number;
}

export abstract class LoraLinkBase extends Emitter<LinkEvents> implements Transport {
  abstract readonly kind: string;
  abstract readonly mtu: number;
  abstract readonly address: LinkAddress | undefined;
  readonly settings: LoraRadioSettings;
  readonly dutyCycle: DutyCycleLimiter;
  lastReception: ReceptionInfo | undefined;
  protected readonly clock: Clock;
  protected readonly port: SerialDuplex;
  private currentState: TransportState = 'offline';
  private readonly closePort: boolean;
  private readonly onPortData: SerialDataListener;
  private readonly onPortError: SerialErrorListener;
  private readonly onPortClose: SerialCloseListener;

  constructor(options: LoraLinkOptions) {
    super();
    if (!options || typeof options.port?.write !== 'function' || typeof options.port.on !== 'function') {
      throw err('ERR_ARGUMENT', 'port: expected a serial duplex stream');
    }
    this.port = options.port;
    this.clock = options.clock ?? systemClock;
    this.settings = loraSettings(options.radio);
    this.dutyCycle = new DutyCycleLimiter({ clock: this.clock, bandPlan: options.bandPlan, dutyCycle: options.dutyCycle });
    this.dutyCycle.budgetFor(this.settings.frequencyHz); // ERR_ARGUMENT now if outside the plan
    this.closePort = options.closePort ?? true;
    this.onPortData = (chunk) => {
      if (this.currentState !== 'closed') this.onSerialData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    };
    this.onPortError = (e) => this.reportError(err('ERR_TRANSPORT', `serial port error: ${e.message}`, { cause: e }));
    this.onPortClose = () => {
      if (this.currentState === 'closed') return;
      this.setState('offline');
      this.onPortLost();
    };
    this.port.on('data', this.onPortData);
    this.port.on('error', this.onPortError);
    this.port.on('close', this.onPortClose);
  }

  get state(): TransportState {
    return this.currentState;
  }

  /** PHY payload bytes on the air for a frame of `size` bytes after this modem's encoding. */
  abstract airBytes(size: number): number;

  /** Time on air of a frame of `size` bytes, ms. */
  airtimeFor(size: number): number {
    return airtimeMs(Math.min(LORA_MAX_PAYLOAD, Math.max(0, this.airBytes(Math.max(1, size)))), this.settings);
  }

  /** The budget of the sub-band this modem transmits in. */
  get budget(): DutyCycleBudget {
    return this.dutyCycle.budgetFor(this.settings.frequencyHz);
  }

  sendDelay(size: number): number {
    const d = this.budget.delayFor(this.airtimeFor(size));
    return Number.isFinite(d) ? Math.ceil(d) : d;
  }

  async send(frame: Uint8Array, to?: LinkAddress): Promise<void> {
    if (this.currentState === 'closed') throw err('ERR_TRANSPORT', `${this.kind}: transport is closed`);
    abytes(frame, 'frame');
    if (frame.length > this.mtu) throw err('ERR_TOO_LARGE', `${this.kind}: frame of ${frame.length} bytes > mtu ${this.mtu}`);
    if (frame.length === 0) throw err('ERR_ARGUMENT', `${this.kind}: empty frame`);
    const destination = this.resolveDestination(to);
    if (this.currentState !== 'online') throw err('ERR_TRANSPORT', `${this.kind}: link is ${this.currentState}`);
    const airtime = this.airtimeFor(frame.length);
    const delay = this.budget.delayFor(airtime);
    if (delay === Infinity) {
      throw err('ERR_TOO_LARGE', `${this.kind}: airtime ${airtime.toFixed(1)} ms exceeds the sub-band's hourly allowance`);
    }
    if (delay > 0) {
      const retryAfterMs = Math.ceil(delay);
      throw err('ERR_DUTY_CYCLE', `${this.kind}: duty cycle allows the next frame in ${retryAfterMs} ms`, { retryAfterMs });
    }
    const reservation = this.budget.reserve(airtime);
    try {
      await this.transmitFrame(frame, destination, reservation, airtime);
    } catch (e) {
      // A modem that did not answer may still have transmitted: keep counting it, to stay legal.
      if ((e as DidcommError).code === 'ERR_TIMEOUT') reservation.commit();
      else reservation.release();
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    this.setState('closed');
    this.onClosing();
    this.port.removeListener('data', this.onPortData);
    this.port.removeListener('close', this.onPortClose);
    if (this.closePort && this.port.isOpen !== false && typeof this.port.close === 'function') {
      const port = this.port;
      await new Promise<void>((resolve) => port.close!(() => resolve()));
    }
    this.port.removeListener('error', this.onPortError);
  }

  /** Checks and normalises `to`; ERR_ARGUMENT if this modem cannot address it. */
  protected abstract resolveDestination(to: LinkAddress | undefined): number | undefined;

  /**
   * Hands one checked frame to the modem. Commit `reservation` when the modem confirms the
   * transmission started; resolve when the modem accepted the frame; reject with a DidcommError.
   */
  protected abstract transmitFrame(
    frame: Uint8Array,
    destination: number | undefined,
    reservation: DutyCycleReservation,
    airtimeMs: number,
  ): Promise<void>;

  protected abstract onSerialData(chunk: Uint8Array): void;

  /** Release timers and reject pending work: the transport is closing. */
  protected abstract onClosing(): void;

  /** The port closed underneath us (unplugged). */
  protected abstract onPortLost(): void;

  protected setState(state: TransportState): void {
    if (this.currentState === state || this.currentState === 'closed') return;
    this.currentState = state;
    this.emit('state', state);
  }

  protected deliverFrame(frame: Uint8Array, from: LinkAddress | undefined, quality?: { rssiDbm: number; snrDb: number }): void {
    if (this.currentState === 'closed') return;
    if (quality) this.lastReception = { ...quality, at: this.clock.now() };
    this.emit('frame', frame, from);
  }

  protected reportError(error: DidcommError): void {
    if (this.currentState === 'closed') return;
    this.emit('error', error);
  }

  /** Writes bytes to the UART; resolves when written, rejects with ERR_TRANSPORT. */
  protected writeBytes(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.port.isOpen === false) {
        reject(err('ERR_TRANSPORT', `${this.kind}: serial port is not open`));
        return;
      }
      this.port.write(bytes, (e) => {
        if (e) reject(err('ERR_TRANSPORT', `${this.kind}: serial write failed: ${e.message}`, { cause: e }));
        else resolve();
      });
    });
  }
}
