/**
 * The AT-modem driver base (embedded.md §8.4: "one AtModem base class ... with a readline
 * parser, a command queue, timeouts and unsolicited-line handlers"), shared by the REYAX RYLR,
 * Microchip RN2483 and RAK3172 drivers.
 *
 * - Lines are split on '\r\n' by a bounded `LineSplitter`; over-long garbage is discarded.
 * - One command at a time, FIFO. Each has a `match` function that classifies reply lines
 *   ('done', 'progress', a DidcommError, or 'ignore' = not mine), a timeout on the Clock
 *   (ERR_TIMEOUT, after which the queue moves on) and an optional `notBefore` time (the modem is
 *   still on the air).
 * - Unsolicited lines (+RCV=, radio_rx, +EVT:RXP2P...) go to handlers registered by subclasses,
 *   before the command in flight sees them. A line nobody claims, or a handler that fails, becomes
 *   an 'error' event (ERR_MALFORMED): garbage never crashes the driver or stalls the queue.
 * - A line identical to the command just written is taken as an echo and ignored.
 */
import { err, isDidcommError, type DidcommError, type ErrorCode } from '../../src/errors.js';
import type { Timer } from '../../src/util/clock.js';
import { latin1ToBytes } from '../serial/latin1.js';
import { LineSplitter } from '../serial/line-splitter.js';
import { LoraLinkBase, type LoraLinkOptions } from './link-base.js';

/** How a reply line relates to the command in flight. */
export type ReplyVerdict = 'ignore' | 'progress' | 'done' | DidcommError;

export interface AtCommand {
  /** Command text without the line ending. */
  text: string;
  match: (line: string) => ReplyVerdict;
  /** Default: the driver's `commandTimeoutMs`. Counted from the write. */
  timeoutMs?: number;
  /** Absolute clock time before which the command must not be written. */
  notBefore?: () => number;
}

export interface AtModemOptions extends LoraLinkOptions {
  /** Reply timeout per command, ms (default 2000). */
  commandTimeoutMs?: number;
  /** Longest accepted line from the modem (default 1024). */
  maxLineLength?: number;
  /** Most commands waiting in the queue (default 64); beyond that `command` rejects (ERR_TRANSPORT). */
  maxQueuedCommands?: number;
}

/** The modem's own words, kept as the `cause` of the DidcommError a bad reply turns into. */
export class ModemReplyError extends Error {
  readonly command: string;
  readonly reply: string;

  constructor(command: string, reply: string) {
    super(`'${command}' answered '${reply}'`);
    this.name = 'ModemReplyError';
    this.command = command;
    this.reply = reply;
  }
}

/** A typed rejection for a modem's error reply. */
export function modemError(code: ErrorCode, kind: string, command: string, reply: string): DidcommError {
  const cause = new ModemReplyError(command, reply);
  return err(code, `${kind}: ${cause.message}`, { cause });
}

interface QueuedCommand {
  command: AtCommand;
  lines: string[];
  resolve: (lines: string[]) => void;
  reject: (e: DidcommError) => void;
  timer: Timer | undefined;
  written: boolean;
}

interface UnsolicitedHandler {
  test: (line: string) => boolean;
  handle: (line: string) => void;
}

export abstract class AtModem extends LoraLinkBase {
  protected readonly commandTimeoutMs: number;
  private readonly maxQueued: number;
  private readonly splitter: LineSplitter;
  private readonly queue: QueuedCommand[] = [];
  private current: QueuedCommand | undefined;
  private readonly unsolicited: UnsolicitedHandler[] = [];
  private lastWritten = '';

  constructor(options: AtModemOptions) {
    super(options);
    this.commandTimeoutMs = options.commandTimeoutMs ?? 2000;
    this.maxQueued = options.maxQueuedCommands ?? 64;
    this.splitter = new LineSplitter({
      maxLineLength: options.maxLineLength ?? 1024,
      onLine: (line) => this.handleLine(line),
      onError: (e) => this.reportError(e),
    });
  }

  /** Queues a command; resolves with the reply lines it matched ('progress' and 'done'). */
  command(command: AtCommand): Promise<string[]> {
    if (this.state === 'closed') return Promise.reject(err('ERR_TRANSPORT', `${this.kind}: transport is closed`));
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(err('ERR_TRANSPORT', `${this.kind}: command queue full (${this.maxQueued})`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ command, lines: [], resolve, reject, timer: undefined, written: false });
      this.pump();
    });
  }

  /** Number of commands queued or in flight. */
  get pendingCommands(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  /** Registers a handler for unsolicited lines (checked before the command in flight). */
  protected onUnsolicited(test: (line: string) => boolean, handle: (line: string) => void): void {
    this.unsolicited.push({ test, handle });
  }

  protected onSerialData(chunk: Uint8Array): void {
    this.splitter.push(chunk);
  }

  protected onClosing(): void {
    this.failAll(err('ERR_TRANSPORT', `${this.kind}: transport closed`));
  }

  protected onPortLost(): void {
    this.failAll(err('ERR_TRANSPORT', `${this.kind}: serial port closed`));
  }

  private failAll(e: DidcommError): void {
    const all = this.current ? [this.current, ...this.queue] : [...this.queue];
    this.current = undefined;
    this.queue.length = 0;
    for (const q of all) {
      q.timer?.cancel();
      q.reject(e);
    }
  }

  private pump(): void {
    if (this.current || this.queue.length === 0 || this.state === 'closed') return;
    const q = this.queue.shift()!;
    this.current = q;
    const wait = (q.command.notBefore?.() ?? -Infinity) - this.clock.now();
    if (wait > 0) q.timer = this.clock.setTimer(wait, () => this.write(q));
    else this.write(q);
  }

  private write(q: QueuedCommand): void {
    if (this.current !== q) return;
    q.written = true;
    this.lastWritten = q.command.text;
    q.timer = this.clock.setTimer(q.command.timeoutMs ?? this.commandTimeoutMs, () => {
      this.finish(q, err('ERR_TIMEOUT', `${this.kind}: no reply to '${q.command.text}'`));
    });
    this.writeBytes(latin1ToBytes(`${q.command.text}\r\n`)).catch((e: DidcommError) => this.finish(q, e));
  }

  private finish(q: QueuedCommand, outcome: DidcommError | undefined): void {
    if (this.current !== q) return;
    q.timer?.cancel();
    this.current = undefined;
    if (outcome) q.reject(outcome);
    else q.resolve(q.lines);
    this.pump();
  }

  private handleLine(line: string): void {
    if (line === this.lastWritten) {
      this.lastWritten = '';
      return;
    }
    for (const h of this.unsolicited) {
      if (!h.test(line)) continue;
      try {
        h.handle(line);
      } catch (e) {
        this.reportError(isDidcommError(e) ? e : err('ERR_MALFORMED', `${this.kind}: bad line '${line}'`, { cause: e }));
      }
      return;
    }
    const q = this.current;
    if (q?.written) {
      let verdict: ReplyVerdict;
      try {
        verdict = q.command.match(line);
      } catch (e) {
        verdict = isDidcommError(e) ? e : err('ERR_MALFORMED', `${this.kind}: bad reply '${line}'`, { cause: e });
      }
      if (verdict === 'progress') {
        q.lines.push(line);
        return;
      }
      if (verdict === 'done') {
        q.lines.push(line);
        this.finish(q, undefined);
        return;
      }
      if (verdict !== 'ignore') {
        this.finish(q, verdict);
        return;
      }
    }
    this.reportError(err('ERR_MALFORMED', `${this.kind}: unexpected line from modem: ${JSON.stringify(line.slice(0, 80))}`));
  }
}
