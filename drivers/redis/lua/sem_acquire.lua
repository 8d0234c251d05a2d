-- Semaphore.Acquire and Semaphore.TryAcquire: one attempt.
-- sem_lib.lua (the keys, settle), queue.lua and counter.lua are prepended.
-- ARGV[1] the channel, ARGV[2] the session ID, ARGV[3] the owner,
-- ARGV[4] the permits, ARGV[5] the session TTL in ms, ARGV[6] the limit,
-- ARGV[7] 'a' to queue the owner if the permits are not free (Acquire),
-- 't' to leave nothing behind then (TryAcquire)
-- Returns {version, 0} when the owner holds its permits (also when it
-- already did, or was granted them while queued: an attempt retried gets
-- the same hold); {0, ms} when it waits in the queue (or, for 't', would
-- have to), ms being how long the first lease ahead of it (a holder's or an
-- earlier waiter's) has left unless renewed (-1: none expires);
-- {-1, limit} when the recorded limit differs from ARGV[6].
local ch, sid, owner, permits = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local used = settle(ch, recordedLimit(ARGV[6]))
local mine = redis.call('HGET', H, owner)
if mine then
  local f = fields(mine)
  if f[3] == sid then
    return {tonumber(f[1]), 0}
  end
end
local queued = redis.call('HGET', W, owner)
if queued and fields(queued)[2] ~= sid then
  -- Left by an attempt of an ended session that could not withdraw it.
  queueDrop(Q, {owner}, W)
  queued = nil
end
if not queued then
  local stored = redis.call('GET', L)
  if stored and stored ~= ARGV[6] then
    if not idle() then
      return {-1, tonumber(stored)}
    end
  end
  if used + permits <= tonumber(ARGV[6]) and queueEmpty(Q) then
    local v, n = bumpCounter(C)
    redis.call('SET', L, ARGV[6])
    redis.call('HSET', H, owner, v .. ' ' .. ARGV[4] .. ' ' .. sid)
    redis.call('SET', P .. sid, '1', 'PX', ARGV[5])
    return {n, 0}
  end
  if ARGV[7] == 't' then
    return {0, -1}
  end
  redis.call('SET', L, ARGV[6])
  queueJoin(Q, S, owner)
  redis.call('HSET', W, owner, ARGV[4] .. ' ' .. sid)
  redis.call('SET', P .. sid, '1', 'PX', ARGV[5])
end
-- How long until a lease ahead of the owner may expire: then the attempt
-- is made again, which removes what that lease bound.
local first = -1
local function consider(s)
  local t = redis.call('PTTL', P .. s)
  if t >= 0 and (first < 0 or t < first) then
    first = t
  end
end
local hs = redis.call('HGETALL', H)
for i = 2, #hs, 2 do
  consider(fields(hs[i])[3])
end
for _, o in ipairs(redis.call('ZRANGE', Q, 0, -1)) do
  if o == owner then
    break
  end
  local rec = redis.call('HGET', W, o)
  if rec then
    consider(fields(rec)[2])
  end
end
return {0, first}
