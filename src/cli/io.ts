/**
 * The CLI's view of the world: standard streams, environment and working directory behind one
 * small interface (`CliIo`), so `runCli` runs in-process in tests with injected streams, and the
 * bounded reading of a message from `--in FILE` or standard input.
 */
import { open } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { err } from '../errors.js';
import { concatBytes } from '../util/bytes.js';
import { ioError } from './errors.js';

export interface CliWritable {
  write(chunk: Uint8Array | string): unknown;
}

export interface CliIo {
  /** Standard input as byte chunks (an array works in tests). */
  stdin: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  stdout: CliWritable;
  stderr: CliWritable;
  env: Readonly<Record<string, string | undefined>>;
  /** Relative paths in flags resolve against this directory. */
  cwd: string;
}

export function nodeIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

export function resolvePath(io: CliIo, path: string): string {
  return isAbsolute(path) ? path : resolve(io.cwd, path);
}

/** Reads standard input to its end, refusing more than `maxBytes` (ERR_TOO_LARGE). */
export async function readStdin(io: CliIo, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of io.stdin as AsyncIterable<Uint8Array | string>) {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    total += bytes.length;
    if (total > maxBytes) throw err('ERR_TOO_LARGE', `standard input is larger than ${maxBytes} bytes`);
    chunks.push(bytes);
  }
  return concatBytes(...chunks);
}

/**
 * Reads a whole regular file named on the command line, refusing more than `maxBytes`. `check`
 * sees the stat of the opened descriptor first (so the file checked is the file read).
 */
export async function readBoundedFile(io: CliIo, path: string, maxBytes: number, what: string, check?: (st: Stats) => void): Promise<Uint8Array> {
  const full = resolvePath(io, path);
  let handle;
  try {
    handle = await open(full, 'r');
  } catch (e) {
    throw ioError(e, `cannot read ${what} ${path}`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw err('ERR_ARGUMENT', `${what} ${path} is not a regular file`);
    check?.(st);
    if (st.size > maxBytes) throw err('ERR_TOO_LARGE', `${what} ${path} is larger than ${maxBytes} bytes`);
    const buf = await handle.readFile();
    if (buf.length > maxBytes) throw err('ERR_TOO_LARGE', `${what} ${path} is larger than ${maxBytes} bytes`);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  } catch (e) {
    throw ioError(e, `cannot read ${what} ${path}`);
  } finally {
    await handle.close();
  }
}

/** `--in FILE` when given, else standard input. */
export async function readMessageInput(io: CliIo, inPath: string | undefined, maxBytes: number): Promise<Uint8Array> {
  if (inPath === undefined || inPath === '-') return readStdin(io, maxBytes);
  return readBoundedFile(io, inPath, maxBytes, 'input file');
}
