/**
 * Files the CLI reads and writes, with the care private keys need (the `ssh` rules): secrets
 * files are read only when no group/other permission bit is set, and are created with mode 0600
 * from the first byte (O_CREAT|O_EXCL with the mode, never chmod after the fact). Replacing a
 * file is atomic: write a temporary file in the same directory, fsync, rename over the target.
 */
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { err } from '../errors.js';
import { fromUtf8 } from '../util/bytes.js';
import { parseJson, type JsonValue } from '../util/json.js';
import { ioError } from './errors.js';
import { readBoundedFile, resolvePath, type CliIo } from './io.js';

/** Secrets and DID files are small; anything bigger is not one. */
export const MAX_KEY_FILE_BYTES = 4 * 1024 * 1024;

const checkPermissions = process.platform !== 'win32';

/**
 * Reads and parses a JSON file holding private keys. Refuses it (ERR_NOT_AUTHORIZED) when group or
 * others have any access, checked on the opened descriptor so the file checked is the file read.
 */
export async function readSecretsJson(io: CliIo, path: string): Promise<JsonValue> {
  const bytes = await readBoundedFile(io, path, MAX_KEY_FILE_BYTES, 'secrets file', (st) => {
    if (checkPermissions && (st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw err('ERR_NOT_AUTHORIZED', `secrets file ${path} is accessible by group or others (mode ${mode}); private keys must be private: run "chmod 600 ${path}"`);
    }
  });
  return parseJson(fromUtf8(bytes), `secrets file ${path}`);
}

async function writeAll(full: string, data: Uint8Array | string, flags: string, mode: number): Promise<void> {
  const handle = await open(full, flags, mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Best-effort fsync of a directory, so a rename inside it survives a power cut. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // some platforms cannot fsync a directory; the rename itself is still atomic
  }
}

/**
 * Replaces `full` atomically with `data`: a fresh temporary file (created exclusively with `mode`)
 * in the same directory, fsync, rename. Readers see the old or the new content, never a mix.
 */
export async function atomicWriteFile(full: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
  const tmp = join(dirname(full), `.${basename(full)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeAll(tmp, data, 'wx', mode);
    await rename(tmp, full);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await syncDirectory(dirname(full));
}

/**
 * Writes a file holding private keys, mode 0600 from creation. Without `force` an existing file is
 * never touched (ERR_REFUSED); with `force` it is replaced atomically.
 */
export async function writeSecretsFile(io: CliIo, path: string, text: string, force: boolean): Promise<void> {
  const full = resolvePath(io, path);
  try {
    if (force) {
      await atomicWriteFile(full, text, 0o600);
      return;
    }
    try {
      await writeAll(full, text, 'wx', 0o600);
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') await unlink(full).catch(() => undefined);
      throw e;
    }
    await syncDirectory(dirname(full));
  } catch (e) {
    if ((e as { code?: string }).code === 'EEXIST') throw err('ERR_REFUSED', `${path} already exists; not overwriting it (use --force to replace it)`, { cause: e });
    throw ioError(e, `cannot write secrets file ${path}`);
  }
}

/** Writes a non-secret output file (an envelope), replacing it atomically. */
export async function writeOutputFile(io: CliIo, path: string, data: Uint8Array | string): Promise<void> {
  const full = resolvePath(io, path);
  try {
    await atomicWriteFile(full, data, 0o644);
  } catch (e) {
    throw ioError(e, `cannot write ${path}`);
  }
}

/** Reads and parses a public JSON file (DID documents). */
export async function readPublicJson(io: CliIo, path: string, what: string): Promise<JsonValue> {
  return parseJson(fromUtf8(await readBoundedFile(io, path, MAX_KEY_FILE_BYTES, what)), `${what} ${path}`);
}
