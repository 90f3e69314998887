/**
 * Opens a real UART (or a pty, e.g. one end of a socat pair) with serialport 13, imported lazily
 * so that nothing else in transports/ pulls in the native binding (docs/conventions.md,
 * "Node-only packages ... lazily"). Never calls `SerialPort.list()`: it spawns udevadm, which
 * crashes in containers (embedded.md §5). Port discovery is the caller's business.
 */
import { err } from '../../src/errors.js';
import { astring } from '../../src/util/bytes.js';
import type { SerialDuplex } from './types.js';

export interface OpenSerialPortOptions {
  path: string;
  baudRate: number;
}

export async function openSerialPort(options: OpenSerialPortOptions): Promise<SerialDuplex> {
  astring(options.path, 'path');
  if (!Number.isInteger(options.baudRate) || options.baudRate <= 0) {
    throw err('ERR_ARGUMENT', 'baudRate: expected a positive integer');
  }
  const { SerialPort } = await import('serialport');
  return new Promise<SerialDuplex>((resolve, reject) => {
    const port = new SerialPort({ path: options.path, baudRate: options.baudRate, autoOpen: false });
    port.open((e) => {
      if (e) reject(err('ERR_TRANSPORT', `cannot open ${options.path}: ${e.message}`, { cause: e }));
      else resolve(port);
    });
  });
}
