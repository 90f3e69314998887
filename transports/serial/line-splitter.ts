/**
 * A bounded readline parser for AT-command UARTs: splits a byte stream on LF, drops the CR of
 * CRLF (embedded.md §3.3: modems end lines with '\r\n') and skips empty lines.
 *
 * Unlike @serialport/parser-readline it never grows without bound: a line longer than
 * `maxLineLength` (garbage with no newline) is reported once as ERR_TOO_LARGE and discarded up
 * to the next newline, so a noisy line cannot exhaust memory or wedge the parser.
 */
import { err, type DidcommError } from '../../src/errors.js';
import { bytesToLatin1 } from './latin1.js';

export interface LineSplitterOptions {
  onLine: (line: string) => void;
  onError: (error: DidcommError) => void;
  /** Longest accepted line in bytes, without the line ending. Default 1024. */
  maxLineLength?: number;
}

export class LineSplitter {
  private readonly onLine: (line: string) => void;
  private readonly onError: (error: DidcommError) => void;
  private readonly maxLineLength: number;
  private partial = '';
  private discarding = false;

  constructor(options: LineSplitterOptions) {
    this.onLine = options.onLine;
    this.onError = options.onError;
    this.maxLineLength = options.maxLineLength ?? 1024;
  }

  /** Feeds one chunk; calls `onLine` for each complete line in it. */
  push(chunk: Uint8Array): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      this.append(chunk.subarray(start, end));
      if (nl < 0) return;
      this.finishLine();
      start = nl + 1;
    }
  }

  /** Forgets any partial line (after a port reopen, for instance). */
  reset(): void {
    this.partial = '';
    this.discarding = false;
  }

  private append(bytes: Uint8Array): void {
    if (this.discarding || bytes.length === 0) return;
    // +1: a trailing CR of CRLF is not part of the line.
    if (this.partial.length + bytes.length > this.maxLineLength + 1) {
      this.partial = '';
      this.discarding = true;
      this.onError(err('ERR_TOO_LARGE', `serial line longer than ${this.maxLineLength} bytes discarded`));
      return;
    }
    this.partial += bytesToLatin1(bytes);
  }

  private finishLine(): void {
    let line = this.partial;
    const wasDiscarding = this.discarding;
    this.partial = '';
    this.discarding = false;
    if (wasDiscarding) return;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length > this.maxLineLength) {
      this.onError(err('ERR_TOO_LARGE', `serial line longer than ${this.maxLineLength} bytes discarded`));
      return;
    }
    if (line.length > 0) this.onLine(line);
  }
}
