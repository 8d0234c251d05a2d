-- Set.Add and Set.Remove.
-- readCounter and advanceCounter come from counter.lua, prepended.
-- KEYS[1] the elements (a Redis set), KEYS[2] the version counter,
-- KEYS[3], KEYS[4] the binding index and the lease prefix (ephemeral.lua,
-- prepended: an element bound to an expired session is removed first)
-- ARGV[1] the channel, ARGV[2] the element, ARGV[3] 'I' add, 'R' remove,
-- ARGV[4] (add) the session to bind the element to, or '', ARGV[5] its TTL
-- in ms
-- Returns 1 if the set changed, 0 if not.
-- Publishes seq(8) 'I'|'R' element, before writing (see clear.lua).
ephKind = 's'
local bound = ephExpire(ARGV[1], ARGV[2])
local present = redis.call('SISMEMBER', KEYS[1], ARGV[2]) == 1
if present == (ARGV[3] == 'I') then
  return 0
end
local base, stored = readCounter(redis.call('GET', KEYS[2]))
local seq = tonumber(base) + 1
redis.call('PUBLISH', ARGV[1], struct.pack('>I8', seq) .. ARGV[3] .. ARGV[2])
if ARGV[3] == 'I' then
  redis.call('SADD', KEYS[1], ARGV[2])
  ephBind(ARGV[2], ARGV[4], ARGV[5], bound)
else
  redis.call('SREM', KEYS[1], ARGV[2])
  if bound then
    redis.call('HDEL', KEYS[3], ARGV[2])
  end
end
advanceCounter(KEYS[2], base, stored)
return 1
