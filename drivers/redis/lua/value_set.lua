-- Value.Set.
-- KEYS[1] the value: an 8-byte big-endian version, then the bytes
-- KEYS[2] the version counter of the value (never deleted)
-- ARGV[1] the channel, ARGV[2] the bytes, ARGV[3] the required version as
-- 8 bytes, or '' for none
-- Returns {1, version}, or {-1, 0} if the required version does not match
-- (also when the value is absent).
-- Publishes seq(8) 'I'|'U' bytes; the version is the sequence number.
local old
if ARGV[3] ~= '' then
  old = redis.call('GET', KEYS[1])
  if not old or string.sub(old, 1, 8) ~= ARGV[3] then
    return {-1, 0}
  end
end
local v = redis.call('INCR', KEYS[2])
local header = struct.pack('>I8', v)
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[1], header .. ARGV[2])
else
  -- SET ... GET returns the value it replaced (Redis 6.2).
  old = redis.call('SET', KEYS[1], header .. ARGV[2], 'GET')
end
local op = 'I'
if old then
  op = 'U'
end
redis.call('PUBLISH', ARGV[1], header .. op .. ARGV[2])
return {1, v}
