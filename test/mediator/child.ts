/**
 * Mediator child processes for the crash and scale-out tests (fixtures/mediator-child.ts under
 * tsx), plus a pipelined HTTP sender and an HTTP pickup client used against them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'node:http';
import { unpack } from '../../src/envelope/index.js';
import type { Message } from '../../src/message/message.js';
import * as P from '../../src/protocols/pickup.js';
import { packFor, type Party } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A child process that printed `READY <a> <b>`: its two fields, and how to end it. */
export interface ReadyChild {
  fields: [string, string];
  process: ChildProcess;
  /** SIGKILL, resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (clean shutdown), resolves on exit. */
  stop(): Promise<void>;
}

export interface MediatorChild extends Omit<ReadyChild, 'fields'> {
  url: string;
  did: string;
}

/** The mediator child of the crash and scale-out tests: `READY <url> <did>`. */
export async function startChild(args: string[], timeoutMs = 20_000): Promise<MediatorChild> {
  const c = await startReadyChild(fileURLToPath(new URL('./fixtures/mediator-child.ts', import.meta.url)), args, timeoutMs);
  return { url: c.fields[0], did: c.fields[1], process: c.process, kill: c.kill, stop: c.stop };
}

/**
 * Starts `script` under tsx and waits for `READY <a> <b>`; a start that shows no sign of life within
 * `timeoutMs` is killed and tried again (up to 3 attempts), so a machine too loaded to start a
 * process in time does not fail the test. (The Node 20 keygen/JWK-export deadlock this once also
 * guarded against is avoided by the node crypto backend itself: src/crypto/node.ts.)
 */
export async function startReadyChild(script: string, args: string[], timeoutMs = 20_000): Promise<ReadyChild> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(script, args, timeoutMs);
    } catch (e) {
      last = e;
      if (!(e instanceof Error && e.message.startsWith('child did not start'))) throw e;
    }
  }
  throw last;
}

function startOnce(script: string, args: string[], timeoutMs: number): Promise<ReadyChild> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not start: ${err}`));
    }, timeoutMs);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()).length > 20_000 && (err = err.slice(-10_000)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+) (\S+)\n/u.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        fields: [m[1]!, m[2]!],
        process: child,
        kill: async () => {
          child.kill('SIGKILL');
          await exited;
        },
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}): ${err}`));
    });
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One POST; resolves with the status (0 when the connection failed) and body. */
export function post(url: string, body: Uint8Array): Promise<{ status: number; body: Uint8Array }> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-type': body[0] === 0x7b ? 'application/didcomm-encrypted+json' : 'application/didcomm-compact', 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: new Uint8Array(Buffer.concat(chunks)) }));
      res.on('error', () => resolve({ status: 0, body: new Uint8Array() }));
    });
    req.on('error', () => resolve({ status: 0, body: new Uint8Array() }));
    req.end(body);
  });
}

/** Posts every frame with `concurrency` in flight; `onAck(i)` for each 202. Stops early when `stop()` says so. */
export async function postAll(url: () => string, frames: Uint8Array[], concurrency: number, onAck: (i: number) => void, stop: () => boolean = () => false): Promise<number[]> {
  const failed: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < frames.length && !stop()) {
      const i = next++;
      const r = await post(url(), frames[i]!);
      if (r.status === 202) onAck(i);
      else failed.push(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  for (let i = next; i < frames.length; i++) failed.push(i);
  return failed;
}

/** One authcrypted request with return_route over HTTP; the reply, unpacked. */
export async function httpRequest(url: string, p: Party, mediatorDid: string, m: Message, format: 'json' | 'compact' = 'compact'): Promise<Message> {
  const r = await post(url, await packFor(p, mediatorDid, m, format, 'authcrypt'));
  if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
  return (await unpack(p.ctx, r.body)).message;
}

/** Picks up everything queued for `p` (delivery-request + messages-received until empty). */
export async function pickupAll(url: string, p: Party, mediatorDid: string): Promise<Uint8Array[]> {
  const all: Uint8Array[] = [];
  for (;;) {
    const reply = await httpRequest(url, p, mediatorDid, P.deliveryRequest(p.id(), p.did, mediatorDid, 1000));
    if (reply.type !== P.DELIVERY_TYPE) return all;
    const d = P.parseDelivery(reply);
    all.push(...d.messages.map((m) => m.bytes));
    await httpRequest(url, p, mediatorDid, P.messagesReceived(p.id(), p.did, mediatorDid, d.messages.map((m) => m.id)));
  }
}

export function closeAgent(): void {
  agent.destroy();
}
