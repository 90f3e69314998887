/**
 * RedisMediationStore: coordinate-mediation 2.0 state in Redis (connection and durability notes
 * in redis.ts). Keys under prefix P: `P grants` HASH owner → "grantedAt:routingDid",
 * `P keyowner` HASH recipient → owner, `P keys:<owner>` ZSET of the owner's recipients (score 0,
 * so ordered by bytes = code points). Key updates and revoke are Lua scripts: atomic across
 * processes.
 */
import { err } from '../errors.js';
import {
  MediationStoreBase,
  type KeyPage,
  type KeyUpdateOutcome,
  type KeyUpdateResult,
  type MediationGrant,
  type MediationStoreOptions,
} from './mediation.js';
import { redisHandleFor, type RedisHandle, type RedisStoreOptions } from './redis.js';

export interface RedisMediationStoreOptions extends MediationStoreOptions, RedisStoreOptions {}

/** ARGV: P, owner, maxKeys, key… → -1 not granted, else per key 0 success 1 no_change 2 conflict 3 limit. */
const ADD = `
local P, owner, max = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('HEXISTS', P .. 'grants', owner) == 0 then return -1 end
local zk = P .. 'keys:' .. owner
local out = {}
for i = 4, #ARGV do
  local k = ARGV[i]
  local o = redis.call('HGET', P .. 'keyowner', k)
  if o == owner then out[#out + 1] = 1
  elseif o then out[#out + 1] = 2
  elseif redis.call('ZCARD', zk) >= max then out[#out + 1] = 3
  else
    redis.call('HSET', P .. 'keyowner', k, owner)
    redis.call('ZADD', zk, 0, k)
    out[#out + 1] = 0
  end
end
return out
`;

/** ARGV: P, owner, key… → -1 not granted, else per key 0 success 1 no_change. */
const REMOVE = `
local P, owner = ARGV[1], ARGV[2]
if redis.call('HEXISTS', P .. 'grants', owner) == 0 then return -1 end
local out = {}
for i = 3, #ARGV do
  local k = ARGV[i]
  if redis.call('HGET', P .. 'keyowner', k) == owner then
    redis.call('HDEL', P .. 'keyowner', k)
    redis.call('ZREM', P .. 'keys:' .. owner, k)
    out[#out + 1] = 0
  else out[#out + 1] = 1 end
end
return out
`;

/** ARGV: P, owner → number of keys removed. */
const REVOKE = `
local P, owner = ARGV[1], ARGV[2]
local keys = redis.call('ZRANGE', P .. 'keys:' .. owner, 0, -1)
for _, k in ipairs(keys) do redis.call('HDEL', P .. 'keyowner', k) end
redis.call('DEL', P .. 'keys:' .. owner)
redis.call('HDEL', P .. 'grants', owner)
return #keys
`;

const OUTCOMES: readonly KeyUpdateOutcome[] = ['success', 'no_change', 'conflict', 'limit'];

export class RedisMediationStore extends MediationStoreBase {
  private readonly h: RedisHandle;
  private readonly scripts: Record<'add' | 'remove' | 'revoke', ReturnType<RedisHandle['script']>>;

  private constructor(handle: RedisHandle, options: RedisMediationStoreOptions) {
    super(options);
    this.h = handle;
    this.scripts = {
      add: handle.script('didcommMediationAdd', ADD),
      remove: handle.script('didcommMediationRemove', REMOVE),
      revoke: handle.script('didcommMediationRevoke', REVOKE),
    };
  }

  static async open(urlOrHandle: string | RedisHandle, options: RedisMediationStoreOptions = {}): Promise<RedisMediationStore> {
    const h = await redisHandleFor(urlOrHandle, options);
    return new RedisMediationStore(h, options);
  }

  private outcomes(keys: string[], reply: unknown): KeyUpdateResult[] {
    if (reply === -1) MediationStoreBase.notGranted();
    if (!Array.isArray(reply) || reply.length !== keys.length) throw err('ERR_STORE', 'redis mediation: unexpected reply');
    return keys.map((k, i) => ({ recipientDid: k, result: OUTCOMES[Number(reply[i])] ?? 'no_change' }));
  }

  protected async doGrant(ownerDid: string, routingDid: string, now: number): Promise<void> {
    await this.h.run('mediation grant', (c) => c.hset(`${this.h.prefix}grants`, ownerDid, `${now}:${routingDid}`));
  }

  protected async doGetGrant(ownerDid: string): Promise<MediationGrant | undefined> {
    const v = await this.h.run('mediation grant lookup', (c) => c.hget(`${this.h.prefix}grants`, ownerDid));
    if (v === null) return undefined;
    const cut = v.indexOf(':');
    if (cut < 0) throw err('ERR_STORE', 'redis mediation: corrupt grant');
    return { routingDid: v.slice(cut + 1), grantedAt: Number(v.slice(0, cut)) };
  }

  protected async doAddKeys(ownerDid: string, keys: string[]): Promise<KeyUpdateResult[]> {
    const reply = await this.h.run('mediation add keys', () => this.scripts.add.call(this.h.prefix, ownerDid, this.maxKeysPerOwner, ...keys));
    return this.outcomes(keys, reply);
  }

  protected async doRemoveKeys(ownerDid: string, keys: string[]): Promise<KeyUpdateResult[]> {
    const reply = await this.h.run('mediation remove keys', () => this.scripts.remove.call(this.h.prefix, ownerDid, ...keys));
    return this.outcomes(keys, reply);
  }

  protected async doOwnerOf(recipientDid: string): Promise<string | undefined> {
    const v = await this.h.run('mediation owner lookup', (c) => c.hget(`${this.h.prefix}keyowner`, recipientDid));
    return v ?? undefined;
  }

  protected async doListKeys(ownerDid: string, limit: number, offset: number): Promise<KeyPage> {
    const key = `${this.h.prefix}keys:${ownerDid}`;
    const replies = await this.h.run('mediation list keys', (c) => c.multi().zrange(key, String(offset), String(offset + limit - 1)).zcard(key).exec());
    if (!replies || replies.length !== 2 || replies[0]![0] || replies[1]![0]) throw err('ERR_STORE', 'redis mediation: list failed');
    return { keys: replies[0]![1] as string[], total: Number(replies[1]![1]) };
  }

  protected async doRevoke(ownerDid: string): Promise<number> {
    return Number(await this.h.run('mediation revoke', () => this.scripts.revoke.call(this.h.prefix, ownerDid)));
  }

  protected async shutdown(): Promise<void> {
    await this.h.release();
  }
}
