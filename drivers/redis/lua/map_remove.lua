-- Map.Remove.
-- readCounter and advanceCounter come from counter.lua, prepended.
-- KEYS[1] the entries, KEYS[2] the version counter, KEYS[3], KEYS[4] the
-- binding index and the lease prefix (ephemeral.lua, prepended)
-- ARGV[1] the channel, ARGV[2] the key, ARGV[3] the required version as 8
-- bytes, or ''
-- Returns {1, stored} with the removed entry's stored bytes, {0} if
-- absent, {-1} if the version does not match.
-- Publishes seq(8) 'R' keylen(4) key, before writing (see clear.lua).
local bound = ephExpire(ARGV[1], ARGV[2])
local old = redis.call('HGET', KEYS[1], ARGV[2])
if not old then
  return {0}
end
if ARGV[3] ~= '' and string.sub(old, 1, 8) ~= ARGV[3] then
  return {-1}
end
local base, stored = readCounter(redis.call('GET', KEYS[2]))
local seq = tonumber(base) + 1
redis.call('PUBLISH', ARGV[1], struct.pack('>I8', seq) .. 'R' .. struct.pack('>I4', #ARGV[2]) .. ARGV[2])
redis.call('HDEL', KEYS[1], ARGV[2])
if bound then
  redis.call('HDEL', KEYS[3], ARGV[2])
end
advanceCounter(KEYS[2], base, stored)
return {1, old}
