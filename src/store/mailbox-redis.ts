/**
 * RedisMailboxStore: the mailbox store on Redis (ioredis) for several mediator processes sharing
 * one Redis. Each enqueue/ack/fetch/status is one Lua script (mailbox-redis-lua.ts), so quota
 * checks and updates are atomic across processes. Enqueues are group-committed: one pipeline
 * carries a whole group's scripts (one round trip), then one PUBLISH names the recipients that got
 * mail. Durability is whatever the Redis server's persistence gives (see redis.ts) — with
 * persistence off, a Redis restart loses every mailbox.
 */
import { GroupCommit } from './group-commit.js';
import { MailboxStoreBase } from './mailbox-base.js';
import {
  unitRecipients,
  type EnqueueUnit,
  type MailboxStatus,
  type MailboxStoreOptions,
  type StoredMessage,
} from './mailbox.js';
import { ACK, ENQUEUE, FETCH, PURGE, STATUS } from './mailbox-redis-lua.js';
import { redisError, redisHandleFor, toBuffer, type RedisHandle, type RedisStoreOptions, type ScriptArg } from './redis.js';
import { err, type DidcommError } from '../errors.js';

export interface RedisMailboxStoreOptions extends MailboxStoreOptions, RedisStoreOptions {
  /** Subscribe for live notifications from other processes (default true; one more connection). */
  live?: boolean;
}

const PURGE_BATCH = 1000;
const COLON = 0x3a;

function parseRecord(id: string, rec: Buffer): StoredMessage {
  const a = rec.indexOf(COLON);
  const b = rec.indexOf(COLON, a + 1);
  if (a < 0 || b < 0) throw err('ERR_STORE', 'redis mailbox: corrupt record');
  const m: StoredMessage = {
    id,
    bytes: new Uint8Array(rec.subarray(b + 1)),
    receivedAt: Number(rec.toString('latin1', 0, a)),
  };
  if (b > a + 1) m.expiresAt = Number(rec.toString('latin1', a + 1, b));
  return m;
}

export class RedisMailboxStore extends MailboxStoreBase {
  private readonly h: RedisHandle;
  private readonly group: GroupCommit<EnqueueUnit, void>;
  private readonly scripts: Record<'enqueue' | 'fetch' | 'ack' | 'status' | 'purge', ReturnType<RedisHandle['script']>>;

  private constructor(handle: RedisHandle, options: RedisMailboxStoreOptions) {
    super(options, handle.notifier);
    this.h = handle;
    this.scripts = {
      enqueue: handle.script('didcommMailboxEnqueue', ENQUEUE),
      fetch: handle.script('didcommMailboxFetch', FETCH),
      ack: handle.script('didcommMailboxAck', ACK),
      status: handle.script('didcommMailboxStatus', STATUS),
      purge: handle.script('didcommMailboxPurge', PURGE),
    };
    this.group = new GroupCommit<EnqueueUnit, void>((units) => this.commitGroup(units), options.groupCommit);
  }

  /** Opens the store on a redis:// URL or a shared handle. */
  static async open(urlOrHandle: string | RedisHandle, options: RedisMailboxStoreOptions = {}): Promise<RedisMailboxStore> {
    const h = await redisHandleFor(urlOrHandle, options);
    try {
      if (options.live !== false) await h.listen();
      return new RedisMailboxStore(h, options);
    } catch (e) {
      await h.release();
      throw e;
    }
  }

  get commits(): number {
    return this.group.commits;
  }

  private enqueueArgs(unit: EnqueueUnit, now: number): ScriptArg[] {
    const args: ScriptArg[] = [this.h.prefix, now, unit.limits.maxMessages, unit.limits.maxBytes, unit.messages.length];
    for (const m of unit.messages) {
      const header = Buffer.from(`${m.receivedAt}:${m.expiresAt ?? ''}:`, 'latin1');
      args.push(m.recipient, m.id, m.bytes.length, m.expiresAt ?? '', Buffer.concat([header, toBuffer(m.bytes)]));
    }
    return args;
  }

  private async commitGroup(units: readonly EnqueueUnit[]): Promise<Array<void | DidcommError>> {
    const now = this.clock.now();
    const replies = await this.h.run('mailbox enqueue', async (client) => {
      const pipe = client.pipeline() as unknown as Record<string, (...a: ScriptArg[]) => unknown> & { exec(): Promise<unknown> };
      for (const u of units) pipe.didcommMailboxEnqueue!(...this.enqueueArgs(u, now));
      return (await pipe.exec()) as Array<[Error | null, unknown]> | null;
    });
    if (!replies || replies.length !== units.length) throw err('ERR_STORE', 'redis mailbox: pipeline aborted');
    const results = replies.map(([e, r]): void | DidcommError => {
      if (e) return redisError(e, 'mailbox enqueue');
      return r === 1 ? undefined : err('ERR_STORE_FULL', 'mailbox full');
    });
    const accepted = [...unitRecipients(units.filter((_, i) => results[i] === undefined))];
    if (accepted.length > 0) {
      // Published after the scripts ran; the mail is stored even if publishing fails.
      await this.h.client.publish(this.h.channel, accepted.join('\n')).catch(() => 0);
    }
    return results;
  }

  protected async store(unit: EnqueueUnit): Promise<void> {
    await this.group.submit(unit);
  }

  protected async doFetch(recipient: string, limit: number, now: number): Promise<StoredMessage[]> {
    const flat = (await this.h.run('mailbox fetch', () => this.scripts.fetch.callBuffer(this.h.prefix, recipient, now, limit))) as Buffer[];
    const out: StoredMessage[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push(parseRecord(flat[i]!.toString('latin1'), flat[i + 1]!));
    return out;
  }

  protected async doAck(recipient: string, ids: string[]): Promise<number> {
    return Number(await this.h.run('mailbox ack', () => this.scripts.ack.call(this.h.prefix, recipient, ...ids)));
  }

  protected async doStatus(recipient: string, now: number): Promise<MailboxStatus> {
    const [c, b, oldest, newest] = (await this.h.run('mailbox status', () => this.scripts.status.call(this.h.prefix, recipient, now))) as Array<
      number | null
    >;
    const status: MailboxStatus = { messageCount: Number(c), totalBytes: Number(b) };
    if (oldest !== null && oldest !== undefined) status.oldestReceivedAt = Number(oldest);
    if (newest !== null && newest !== undefined) status.newestReceivedAt = Number(newest);
    return status;
  }

  protected async doPurge(nowMs: number): Promise<number> {
    let total = 0;
    for (;;) {
      const [examined, removed] = (await this.h.run('mailbox purge', () => this.scripts.purge.call(this.h.prefix, nowMs, PURGE_BATCH))) as number[];
      total += Number(removed);
      if (Number(examined) < PURGE_BATCH) return total;
    }
  }

  protected async doRecipients(limit: number, after: string | undefined): Promise<string[]> {
    return this.h.run('mailbox recipients', (client) =>
      client.zrangebylex(`${this.h.prefix}rcpts`, after === undefined ? '-' : `(${after}`, '+', 'LIMIT', 0, limit),
    );
  }

  protected async shutdown(): Promise<void> {
    try {
      await this.group.close();
    } finally {
      await this.h.release();
    }
  }
}
