/**
 * Lua scripts of the Redis mailbox store (each runs atomically inside Redis).
 *
 * Keys under prefix P, for recipient r:
 *   P q:r     ZSET id → global sequence number (FIFO order)
 *   P m:r     HASH id → record "receivedAt:expiresAt:" .. bytes (expiresAt empty = never)
 *   P e:r     ZSET id → expiresAt (only messages that expire)
 *   P n:r     HASH c → message count, b → total bytes (quota and status)
 *   P exp     ZSET "r\nid" → expiresAt (for purgeExpired across recipients)
 *   P rcpts   ZSET r (score 0, so ordered by bytes) → recipients with mail
 *   P seq     counter
 * Expired messages are skipped by fetch and status; they are deleted by purgeExpired, or for one
 * recipient when its quota would otherwise refuse a new message.
 */

const COMMON = `
local P = ARGV[1]
local function size_of(r, id)
  local v = redis.call('HGET', P .. 'm:' .. r, id)
  if not v then return nil end
  local a = string.find(v, ':', 1, true)
  return #v - string.find(v, ':', a + 1, true)
end
local function rmmsg(r, id)
  local s = size_of(r, id)
  if not s then return nil end
  redis.call('HDEL', P .. 'm:' .. r, id)
  redis.call('ZREM', P .. 'q:' .. r, id)
  if redis.call('ZREM', P .. 'e:' .. r, id) == 1 then redis.call('ZREM', P .. 'exp', r .. '\\n' .. id) end
  return s
end
local function adjust(r, dc, db)
  local nk = P .. 'n:' .. r
  local n = redis.call('HINCRBY', nk, 'c', dc)
  redis.call('HINCRBY', nk, 'b', db)
  if n <= 0 then
    redis.call('DEL', nk, P .. 'e:' .. r, P .. 'q:' .. r, P .. 'm:' .. r)
    redis.call('ZREM', P .. 'rcpts', r)
  end
end
local function purge_r(r, now)
  local ids = redis.call('ZRANGEBYSCORE', P .. 'e:' .. r, '-inf', now)
  local n, bytes = 0, 0
  for _, id in ipairs(ids) do
    local s = rmmsg(r, id)
    if s then n = n + 1; bytes = bytes + s end
  end
  if n > 0 then adjust(r, -n, -bytes) end
  return n
end
local function expired_set(r, now)
  local ids = redis.call('ZRANGEBYSCORE', P .. 'e:' .. r, '-inf', now)
  local set = {}
  for _, id in ipairs(ids) do set[id] = true end
  return {set = set, n = #ids}
end
local function received(r, id)
  local v = redis.call('HGET', P .. 'm:' .. r, id)
  if not v then return false end
  return tonumber(string.sub(v, 1, string.find(v, ':', 1, true) - 1))
end
`;

/** ARGV: P, now, maxMessages, maxBytes, k, then k × (r, id, size, expiresAt|'', record). → 1 stored, 0 quota. */
export const ENQUEUE = `${COMMON}
local now, maxM, maxB, k = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local add, order = {}, {}
for i = 0, k - 1 do
  local r, size = ARGV[6 + i * 5], tonumber(ARGV[8 + i * 5])
  if not add[r] then add[r] = {0, 0}; order[#order + 1] = r end
  add[r][1] = add[r][1] + 1
  add[r][2] = add[r][2] + size
end
local function fits(r)
  local cur = redis.call('HMGET', P .. 'n:' .. r, 'c', 'b')
  return (tonumber(cur[1]) or 0) + add[r][1] <= maxM and (tonumber(cur[2]) or 0) + add[r][2] <= maxB
end
for _, r in ipairs(order) do
  if not fits(r) then
    if purge_r(r, now) == 0 or not fits(r) then return 0 end
  end
end
for i = 0, k - 1 do
  local b = 6 + i * 5
  local r, id, exp = ARGV[b], ARGV[b + 1], ARGV[b + 3]
  redis.call('ZADD', P .. 'q:' .. r, redis.call('INCR', P .. 'seq'), id)
  redis.call('HSET', P .. 'm:' .. r, id, ARGV[b + 4])
  if exp ~= '' then
    redis.call('ZADD', P .. 'e:' .. r, exp, id)
    redis.call('ZADD', P .. 'exp', exp, r .. '\\n' .. id)
  end
end
for _, r in ipairs(order) do
  redis.call('HINCRBY', P .. 'n:' .. r, 'c', add[r][1])
  redis.call('HINCRBY', P .. 'n:' .. r, 'b', add[r][2])
  redis.call('ZADD', P .. 'rcpts', 0, r)
end
return 1
`;

/** ARGV: P, r, now, limit → flat list id1, record1, id2, record2, … (oldest first, unexpired). */
export const FETCH = `${COMMON}
local r = ARGV[2]
local dead = expired_set(r, ARGV[3])
local ids = redis.call('ZRANGE', P .. 'q:' .. r, 0, tonumber(ARGV[4]) + dead.n - 1)
local live = {}
for _, id in ipairs(ids) do
  if not dead.set[id] and #live < tonumber(ARGV[4]) then live[#live + 1] = id end
end
if #live == 0 then return {} end
local vals = redis.call('HMGET', P .. 'm:' .. r, unpack(live))
local out = {}
for i, id in ipairs(live) do
  if vals[i] then out[#out + 1] = id; out[#out + 1] = vals[i] end
end
return out
`;

/** ARGV: P, r, id… → number deleted (only r's own messages). */
export const ACK = `${COMMON}
local r = ARGV[2]
local n, bytes = 0, 0
for i = 3, #ARGV do
  local s = rmmsg(r, ARGV[i])
  if s then n = n + 1; bytes = bytes + s end
end
if n > 0 then adjust(r, -n, -bytes) end
return n
`;

/** ARGV: P, r, now → {count, bytes, oldestReceivedAt|false, newestReceivedAt|false} of unexpired mail. */
export const STATUS = `${COMMON}
local r = ARGV[2]
local cur = redis.call('HMGET', P .. 'n:' .. r, 'c', 'b')
local c, b = tonumber(cur[1]) or 0, tonumber(cur[2]) or 0
if c <= 0 then return {0, 0, false, false} end
local dead = expired_set(r, ARGV[3])
for id in pairs(dead.set) do
  local s = size_of(r, id)
  if s then c = c - 1; b = b - s end
end
if c <= 0 then return {0, 0, false, false} end
local function first_live(ids)
  for _, id in ipairs(ids) do if not dead.set[id] then return id end end
  return nil
end
local head = redis.call('ZRANGE', P .. 'q:' .. r, 0, dead.n)
local tail = redis.call('ZRANGE', P .. 'q:' .. r, -(dead.n + 1), -1)
local rev = {}
for i = #tail, 1, -1 do rev[#rev + 1] = tail[i] end
local first, last = first_live(head), first_live(rev)
return {c, b, (first and received(r, first)) or false, (last and received(r, last)) or false}
`;

/** ARGV: P, now, batch → {members examined, messages removed} (call again while examined = batch). */
export const PURGE = `${COMMON}
local members = redis.call('ZRANGEBYSCORE', P .. 'exp', '-inf', tonumber(ARGV[2]), 'LIMIT', 0, tonumber(ARGV[3]))
local per, order, total = {}, {}, 0
for _, m in ipairs(members) do
  redis.call('ZREM', P .. 'exp', m)
  local cut = string.find(m, '\\n', 1, true)
  local r, id = string.sub(m, 1, cut - 1), string.sub(m, cut + 1)
  local s = rmmsg(r, id)
  if s then
    if not per[r] then per[r] = {0, 0}; order[#order + 1] = r end
    per[r][1] = per[r][1] + 1
    per[r][2] = per[r][2] + s
    total = total + 1
  end
end
for _, r in ipairs(order) do adjust(r, -per[r][1], -per[r][2]) end
return {#members, total}
`;
