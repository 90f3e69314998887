/**
 * The byte-stream interface between a LoRa modem driver and its UART, and between a modem
 * emulator and the "host side" it answers.
 *
 * It is the subset of a serialport 13 `SerialPort` (a Node `Duplex`, see embedded.md §5) that the
 * drivers use, so a real port, a `SerialPortMock` and the in-memory pair of `memory-pair.ts` all
 * fit. Chunks arrive with arbitrary boundaries (split and merged reads): consumers frame them.
 */

export type SerialDataListener = (chunk: Uint8Array) => void;
export type SerialErrorListener = (error: Error) => void;
export type SerialCloseListener = () => void;

export interface SerialDuplex {
  /** Queues bytes for the other end. The callback reports the write's completion or failure. */
  write(chunk: Uint8Array, callback?: (error: Error | null | undefined) => void): boolean;
  on(event: 'data', listener: SerialDataListener): unknown;
  on(event: 'error', listener: SerialErrorListener): unknown;
  on(event: 'close', listener: SerialCloseListener): unknown;
  removeListener(event: 'data', listener: SerialDataListener): unknown;
  removeListener(event: 'error', listener: SerialErrorListener): unknown;
  removeListener(event: 'close', listener: SerialCloseListener): unknown;
  /** serialport's open flag; absent on plain streams (treated as open). */
  readonly isOpen?: boolean;
  /** serialport's close; absent on plain streams. */
  close?(callback?: (error: Error | null) => void): void;
}

/** UART idle time the Ebyte modems wait before sending a short sub-packet: 3 byte-times (8N1). */
export function uartByteTimeMs(baudRate: number): number {
  return (10 / baudRate) * 1000;
}
