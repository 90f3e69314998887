/**
 * Test plumbing: a serialport 13 `SerialPortMock` (the host side the driver uses) whose other end
 * is handed to a modem emulator. SerialPortMock comes from 'serialport' (never from
 * @serialport/binding-mock: two registries in ESM, embedded.md §5). Host writes reach the modem
 * side by wrapping the mock binding's `write`; the modem side answers through `emitData`.
 */
import { SerialPortMock } from 'serialport';
import type { SerialDataListener, SerialDuplex } from '../../../transports/serial/types.js';

interface MockBinding {
  isOpen: boolean;
  write(buffer: Buffer): Promise<void>;
  emitData(data: Buffer): void;
  recording: Buffer;
}

/** The modem's side of a SerialPortMock. */
export class MockModemSide implements SerialDuplex {
  private readonly binding: MockBinding;
  private readonly listeners: SerialDataListener[] = [];

  constructor(binding: MockBinding) {
    this.binding = binding;
    const original = binding.write.bind(binding);
    binding.write = async (buffer: Buffer) => {
      await original(buffer);
      const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length).slice();
      for (const l of [...this.listeners]) l(bytes);
    };
  }

  get isOpen(): boolean {
    return this.binding.isOpen;
  }

  /** Everything the host wrote (the mock's `record: true`). */
  get recording(): Buffer {
    return this.binding.recording;
  }

  write(chunk: Uint8Array, callback?: (error: Error | null | undefined) => void): boolean {
    if (!this.binding.isOpen) {
      queueMicrotask(() => callback?.(new Error('port closed')));
      return false;
    }
    this.binding.emitData(Buffer.from(chunk));
    queueMicrotask(() => callback?.(null));
    return true;
  }

  on(event: 'data' | 'error' | 'close', listener: never): this {
    if (event === 'data') this.listeners.push(listener as SerialDataListener);
    return this;
  }

  removeListener(event: 'data' | 'error' | 'close', listener: never): this {
    if (event === 'data') {
      const i = this.listeners.indexOf(listener as SerialDataListener);
      if (i >= 0) this.listeners.splice(i, 1);
    }
    return this;
  }
}

let counter = 0;

/** Opens a fresh SerialPortMock (unique path) and returns it with its modem side. */
export async function openMockSerial(): Promise<{ host: SerialPortMock; modem: MockModemSide }> {
  const path = `/dev/ttyLORA-${process.pid}-${++counter}`;
  SerialPortMock.binding.createPort(path, { echo: false, record: true });
  const host = new SerialPortMock({ path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => host.open((e) => (e ? reject(e) : resolve())));
  return { host, modem: new MockModemSide(host.port as unknown as MockBinding) };
}
