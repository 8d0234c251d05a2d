-- Value.Delete.
-- readCounter and advanceCounter come from counter.lua, prepended.
-- KEYS[1] the value, KEYS[2] its version counter
-- ARGV[1] the channel, ARGV[2] the required version as 8 bytes, or ''
-- Returns 1 if deleted, 0 if absent, -1 if the version does not match.
-- Publishes seq(8) 'R', before writing (see clear.lua).
local old = redis.call('GET', KEYS[1])
if not old then
  return 0
end
if ARGV[2] ~= '' and string.sub(old, 1, 8) ~= ARGV[2] then
  return -1
end
local base, stored = readCounter(redis.call('GET', KEYS[2]))
local seq = tonumber(base) + 1
redis.call('PUBLISH', ARGV[1], struct.pack('>I8', seq) .. 'R')
redis.call('DEL', KEYS[1])
advanceCounter(KEYS[2], base, stored)
return 1
