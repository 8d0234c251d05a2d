-- Set.Add and Set.Remove.
-- readCounter and advanceCounter come from counter.lua, prepended.
-- KEYS[1] the elements (a Redis set), KEYS[2] the version counter
-- ARGV[1] the channel, ARGV[2] the element, ARGV[3] 'I' add, 'R' remove
-- Returns 1 if the set changed, 0 if not.
-- Publishes seq(8) 'I'|'R' element, before writing (see clear.lua).
local present = redis.call('SISMEMBER', KEYS[1], ARGV[2]) == 1
if present == (ARGV[3] == 'I') then
  return 0
end
local base, stored = readCounter(redis.call('GET', KEYS[2]))
local seq = tonumber(base) + 1
redis.call('PUBLISH', ARGV[1], struct.pack('>I8', seq) .. ARGV[3] .. ARGV[2])
if ARGV[3] == 'I' then
  redis.call('SADD', KEYS[1], ARGV[2])
else
  redis.call('SREM', KEYS[1], ARGV[2])
end
advanceCounter(KEYS[2], base, stored)
return 1
