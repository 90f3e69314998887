/**
 * Small helpers shared by the store tests: error-code capture, UTF-8 byte order, unique names for
 * isolating runs on shared PostgreSQL/Redis services, and waiting for a live notification.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { DidcommError } from '../../src/errors.js';

/** Awaits `p`, expects a DidcommError, returns its code. */
export async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(DidcommError);
    return (e as DidcommError).code;
  }
  throw new Error('expected a rejection');
}

/** Compares strings by their UTF-8 bytes (the reference order every store must follow). */
export function utf8Order(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** A name unique to this test run, safe as a SQL identifier part or a Redis key part. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** A fresh temporary directory and its remover. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'didcomm-store-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A counter a listener can increment, with `next(n)` resolving once the count reaches n. Real
 * services deliver notifications over sockets, so this waits in real time, up to `timeoutMs`.
 */
export function notificationCounter(timeoutMs = 5000): { listener: () => void; count: () => number; reach: (n: number) => Promise<void> } {
  let count = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  return {
    listener: () => {
      count++;
      for (const w of [...waiters]) if (count >= w.n) w.resolve();
    },
    count: () => count,
    reach: (n) =>
      new Promise<void>((resolve, reject) => {
        if (count >= n) return resolve();
        const timer = setTimeout(() => reject(new Error(`notification ${n} not received in ${timeoutMs} ms (got ${count})`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
  };
}
