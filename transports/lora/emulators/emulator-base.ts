/**
 * Common plumbing of the modem emulators: each one is the "other end" of a serial port (the
 * modem side of a UART) and one radio on a `RadioChannel`. Subclasses speak a real modem's
 * command set (embedded.md §3.1) over `SerialDuplex`.
 *
 * Fault hooks for driver tests: `muteNext(n)` swallows the next commands without executing or
 * answering them (command timeouts), `answerNext(lines)` answers the next command with canned
 * lines instead of executing it (busy / error replies), `injectLine` / `injectBytes` put
 * unsolicited text or garbage on the host's input.
 */
import type { Clock } from '../../../src/util/clock.js';
import type { LoraRadioSettings } from '../airtime.js';
import type { AirFrame, ChannelRadio, RadioChannel } from '../channel.js';
import { latin1ToBytes } from '../../serial/latin1.js';
import { LineSplitter } from '../../serial/line-splitter.js';
import type { SerialDataListener, SerialDuplex, SerialErrorListener } from '../../serial/types.js';

export interface ModemEmulatorOptions {
  /** The modem side of the serial link. */
  port: SerialDuplex;
  channel: RadioChannel;
  /** Radio id on the channel (unique). */
  id: string;
  /** Initial radio settings (the modem's power-on configuration). */
  radio?: Partial<LoraRadioSettings>;
}

export interface EmulatorStats {
  commands: number;
  errorReplies: number;
  /** Lines or bytes the host sent that the modem could not use. */
  badInput: number;
  /** Errors reported by the serial port (counted, never thrown). */
  portErrors: number;
}

export abstract class ModemEmulator {
  readonly radio: ChannelRadio;
  readonly stats: EmulatorStats = { commands: 0, errorReplies: 0, badInput: 0, portErrors: 0 };
  protected readonly clock: Clock;
  protected readonly port: SerialDuplex;
  private readonly onData: SerialDataListener;
  private readonly onError: SerialErrorListener;
  private closed = false;

  constructor(options: ModemEmulatorOptions) {
    this.port = options.port;
    this.clock = options.channel.clock;
    this.radio = options.channel.join(options.id, options.radio ?? {}, (frame) => {
      if (!this.closed) this.onAir(frame);
    });
    this.onData = (chunk) => {
      if (!this.closed) this.onHostBytes(chunk);
    };
    this.onError = () => {
      this.stats.portErrors++;
    };
    this.port.on('data', this.onData);
    this.port.on('error', this.onError);
  }

  /** Bytes from the host (driver). */
  protected abstract onHostBytes(chunk: Uint8Array): void;
  /** A frame the radio received. */
  protected abstract onAir(frame: AirFrame): void;

  /** Puts raw bytes on the host's input (garbage, partial lines). */
  injectBytes(bytes: Uint8Array): void {
    this.writeRaw(bytes);
  }

  protected writeRaw(bytes: Uint8Array): void {
    if (this.closed || this.port.isOpen === false) return;
    this.port.write(bytes);
  }

  /** Leaves the channel and stops answering. Does not close the port. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.removeListener('data', this.onData);
    this.port.removeListener('error', this.onError);
    this.radio.leave();
    this.onClose();
  }

  protected onClose(): void {}

  get isClosed(): boolean {
    return this.closed;
  }
}

/** Emulators of line-oriented AT modems (RYLR, RN2483, RAK3172). */
export abstract class AtModemEmulator extends ModemEmulator {
  private readonly splitter: LineSplitter;
  private muted = 0;
  private canned: string[][] = [];

  constructor(options: ModemEmulatorOptions, maxLineLength = 600) {
    super(options);
    this.splitter = new LineSplitter({
      maxLineLength,
      onLine: (line) => this.onHostLine(line),
      onError: () => {
        this.stats.badInput++;
        this.onOverlongLine();
      },
    });
  }

  /** The next `n` commands are neither executed nor answered. */
  muteNext(n = 1): void {
    this.muted += n;
  }

  /** The next command is answered with `lines` instead of being executed. */
  answerNext(lines: string[]): void {
    this.canned.push([...lines]);
  }

  /** Sends `line` + CRLF to the host, unsolicited. */
  injectLine(line: string): void {
    this.writeLine(line);
  }

  protected writeLine(line: string): void {
    this.writeRaw(latin1ToBytes(`${line}\r\n`));
  }

  /** Answer line that counts as an error reply in the stats. */
  protected writeError(line: string): void {
    this.stats.errorReplies++;
    this.writeLine(line);
  }

  protected onHostBytes(chunk: Uint8Array): void {
    this.splitter.push(chunk);
  }

  private onHostLine(line: string): void {
    this.stats.commands++;
    if (this.muted > 0) {
      this.muted--;
      return;
    }
    const canned = this.canned.shift();
    if (canned) {
      for (const l of canned) this.writeLine(l);
      return;
    }
    this.onCommand(line);
  }

  /** A line longer than the modem's buffer; default: no answer. */
  protected onOverlongLine(): void {}

  protected abstract onCommand(line: string): void;
}
