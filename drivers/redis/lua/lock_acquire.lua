-- Lock.Acquire and Lock.TryAcquire: one attempt.
-- readCounter and advanceCounter come from counter.lua, prepended.
-- KEYS[1] the hold: a hash with the 'version', the holder's 'session' ID
-- and its 'owner'
-- KEYS[2] the version counter (never deleted)
-- KEYS[3] the prefix of session leases: KEYS[3] .. sessionID is the lease
-- of a session in this lock's hash slot; a hold whose lease is gone has
-- ended
-- ARGV[1] the channel, ARGV[2] the session ID, ARGV[3] the owner,
-- ARGV[4] the session TTL in ms
-- Returns {version, 0} when the owner holds the lock (also when it already
-- did: an attempt retried after a lost reply gets the same hold), or
-- {0, ms} when another owner holds it, ms being how long its lease has
-- left unless renewed (-1: no expiry).
-- A hold whose lease is gone is removed, and its version published as if
-- released.
local hold, counter, leases = KEYS[1], KEYS[2], KEYS[3]
local cur = redis.call('HMGET', hold, 'version', 'session', 'owner')
if cur[1] then
  if cur[2] == ARGV[2] and cur[3] == ARGV[3] then
    return {tonumber(cur[1]), 0}
  end
  local ttl = redis.call('PTTL', leases .. cur[2])
  if ttl ~= -2 then
    return {0, ttl}
  end
  -- Published before anything is written (see clear.lua).
  redis.call('PUBLISH', ARGV[1], cur[1])
  redis.call('DEL', hold)
end
local v = advanceCounter(counter, readCounter(redis.call('GET', counter)))
redis.call('HSET', hold, 'version', v, 'session', ARGV[2], 'owner', ARGV[3])
redis.call('SET', leases .. ARGV[2], '1', 'PX', ARGV[4])
return {tonumber(v), 0}
