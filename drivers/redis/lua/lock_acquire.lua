-- Lock.Acquire and Lock.TryAcquire: one attempt.
-- KEYS[1] the hold: the version as 8 big-endian bytes, the holder's
-- session ID, '/', the owner ID; with the session's TTL, renewed by the
-- holder's session while it holds the lock, so the hold of a vanished
-- client expires by itself
-- KEYS[2] the version counter (never deleted)
-- ARGV[1] the session ID, ARGV[2] the owner ID, ARGV[3] the TTL in ms
-- Returns {1, hold} when the owner holds the lock (also when it already
-- did: an attempt retried after a lost reply gets the same hold), or
-- {0, ms} when another owner holds it, ms being how long the hold has left
-- unless renewed.
-- An attempt that finds the lock held uses up a version: versions are
-- unique and increasing, not consecutive.
local me = ARGV[1] .. '/' .. ARGV[2]
local hold = struct.pack('>I8', redis.call('INCR', KEYS[2])) .. me
if redis.call('SET', KEYS[1], hold, 'NX', 'PX', ARGV[3]) then
  return {1, hold}
end
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 9) == me then
  return {1, cur}
end
return {0, redis.call('PTTL', KEYS[1])}
