-- IndexedMap.Remove and IndexedMap.RemoveIndex.
-- readCounter and advanceCounter come from counter.lua, prepended.
-- KEYS[1] the entries, KEYS[2] the order, KEYS[3] the version counter
-- ARGV[1] the channel, ARGV[2] 'k' by key or 'i' by index, ARGV[3] the key
-- or the index, ARGV[4] the required version as 8 bytes, or ''
-- Returns {1, key, stored}, {0} if absent, {-1} if the version does not
-- match.
-- Publishes seq(8) 'R' keylen(4) key, before writing (see clear.lua).
local key = ARGV[3]
if ARGV[2] == 'i' then
  local keys = redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[3], ARGV[3], 'LIMIT', 0, 1)
  if #keys == 0 then
    return {0}
  end
  key = keys[1]
end
local old = redis.call('HGET', KEYS[1], key)
if not old then
  return {0}
end
if ARGV[4] ~= '' and string.sub(old, 1, 8) ~= ARGV[4] then
  return {-1}
end
local base, stored = readCounter(redis.call('GET', KEYS[3]))
local seq = tonumber(base) + 1
redis.call('PUBLISH', ARGV[1], struct.pack('>I8', seq) .. 'R' .. struct.pack('>I4', #key) .. key)
redis.call('HDEL', KEYS[1], key)
redis.call('ZREM', KEYS[2], key)
advanceCounter(KEYS[3], base, stored)
return {1, key, old}
