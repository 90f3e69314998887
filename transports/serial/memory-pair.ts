/**
 * Two connected in-memory serial ends (a null-modem cable): bytes written on one end arrive as
 * 'data' on the other, asynchronously (a microtask later, like real I/O) and in order. Used to
 * wire a modem driver to a modem emulator with no UART, fast enough for field simulations of
 * hundreds of radios on virtual time.
 *
 * Fault hooks for tests: `chunker` splits each write into several reads (a UART delivers bytes
 * in arbitrary pieces) and `inject` puts bytes on the line as if the peer had sent them
 * (garbage, partial lines).
 */
import type {
  SerialCloseListener,
  SerialDataListener,
  SerialDuplex,
  SerialErrorListener,
} from './types.js';

export interface SerialPairOptions {
  /** Splits each written chunk into the pieces the reader sees (default: one piece). */
  chunker?: (chunk: Uint8Array) => Uint8Array[];
}

export class MemorySerialEnd implements SerialDuplex {
  private peer: MemorySerialEnd | undefined;
  private open = true;
  private readonly dataListeners: SerialDataListener[] = [];
  private readonly errorListeners: SerialErrorListener[] = [];
  private readonly closeListeners: SerialCloseListener[] = [];
  private readonly chunker: ((chunk: Uint8Array) => Uint8Array[]) | undefined;
  /** Bytes written by this end so far (for assertions and stats). */
  bytesWritten = 0;

  constructor(options: SerialPairOptions = {}) {
    this.chunker = options.chunker;
  }

  /** Connects two ends. */
  static pair(options: SerialPairOptions = {}): [MemorySerialEnd, MemorySerialEnd] {
    const a = new MemorySerialEnd(options);
    const b = new MemorySerialEnd(options);
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  get isOpen(): boolean {
    return this.open;
  }

  write(chunk: Uint8Array, callback?: (error: Error | null | undefined) => void): boolean {
    if (!this.open) {
      const e = new Error('serial end is closed');
      queueMicrotask(() => (callback ? callback(e) : this.emitError(e)));
      return false;
    }
    const copy = chunk.slice();
    this.bytesWritten += copy.length;
    const peer = this.peer;
    const pieces = this.chunker ? this.chunker(copy) : [copy];
    queueMicrotask(() => {
      for (const piece of pieces) peer?.deliver(piece);
      callback?.(null);
    });
    return true;
  }

  /** Puts bytes on this end's input as if the peer had written them (fault injection). */
  inject(bytes: Uint8Array): void {
    const copy = bytes.slice();
    queueMicrotask(() => this.deliver(copy));
  }

  on(event: 'data', listener: SerialDataListener): this;
  on(event: 'error', listener: SerialErrorListener): this;
  on(event: 'close', listener: SerialCloseListener): this;
  on(event: 'data' | 'error' | 'close', listener: SerialDataListener | SerialErrorListener | SerialCloseListener): this {
    this.listFor(event).push(listener as never);
    return this;
  }

  removeListener(event: 'data', listener: SerialDataListener): this;
  removeListener(event: 'error', listener: SerialErrorListener): this;
  removeListener(event: 'close', listener: SerialCloseListener): this;
  removeListener(
    event: 'data' | 'error' | 'close',
    listener: SerialDataListener | SerialErrorListener | SerialCloseListener,
  ): this {
    const list = this.listFor(event) as unknown[];
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
    return this;
  }

  /** Closes this end only; the peer's writes are then dropped, like a UART nobody reads. */
  close(callback?: (error: Error | null) => void): void {
    if (!this.open) {
      queueMicrotask(() => callback?.(new Error('serial end is already closed')));
      return;
    }
    this.open = false;
    queueMicrotask(() => {
      for (const l of [...this.closeListeners]) l();
      callback?.(null);
    });
  }

  private listFor(event: 'data' | 'error' | 'close'): Array<SerialDataListener | SerialErrorListener | SerialCloseListener> {
    if (event === 'data') return this.dataListeners;
    if (event === 'error') return this.errorListeners;
    return this.closeListeners;
  }

  private deliver(bytes: Uint8Array): void {
    if (!this.open || bytes.length === 0) return;
    for (const l of [...this.dataListeners]) l(bytes);
  }

  private emitError(e: Error): void {
    for (const l of [...this.errorListeners]) l(e);
  }
}

/** Two connected ends: `[host side, device side]`. */
export function createSerialPair(options: SerialPairOptions = {}): [MemorySerialEnd, MemorySerialEnd] {
  return MemorySerialEnd.pair(options);
}
