-- IndexedMap.Append and IndexedMap.Update.
-- readCounter and advanceCounter come from counter.lua, prepended.
-- KEYS[1] the entries: a hash from key to an 8-byte big-endian version,
-- an 8-byte big-endian index, then the value
-- KEYS[2] the order: a sorted set of the keys scored by index
-- KEYS[3] the version counter, KEYS[4] the index counter (never deleted)
-- ARGV[1] the channel, ARGV[2] 'a' append or 'u' update, ARGV[3] the key,
-- ARGV[4] the value, ARGV[5] the required version as 8 bytes, or ''
-- Returns {1, version, index}, {0} if absent (update), {-1} if the version
-- does not match, {-2} if present (append).
-- Publishes seq(8) 'I'|'U' index(8) keylen(4) key value; version = seq;
-- before writing (see clear.lua). The counters are incremented last.
local old = redis.call('HGET', KEYS[1], ARGV[3])
local index
local op
if ARGV[2] == 'a' then
  if old then
    return {-2}
  end
  index = (tonumber(redis.call('GET', KEYS[4])) or 0) + 1
  op = 'I'
else
  if not old then
    return {0}
  end
  if ARGV[5] ~= '' and string.sub(old, 1, 8) ~= ARGV[5] then
    return {-1}
  end
  index = struct.unpack('>I8', string.sub(old, 9, 16))
  op = 'U'
end
local base, stored = readCounter(redis.call('GET', KEYS[3]))
local v = tonumber(base) + 1
local ix = struct.pack('>I8', index)
local seq = struct.pack('>I8', v)
redis.call('PUBLISH', ARGV[1], seq .. op .. ix .. struct.pack('>I4', #ARGV[3]) .. ARGV[3] .. ARGV[4])
redis.call('HSET', KEYS[1], ARGV[3], seq .. ix .. ARGV[4])
if op == 'I' then
  redis.call('ZADD', KEYS[2], index, ARGV[3])
  redis.call('INCR', KEYS[4])
end
advanceCounter(KEYS[3], base, stored)
return {1, v, index}
