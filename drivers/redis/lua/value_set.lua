-- Value.Set.
-- readCounter and advanceCounter come from counter.lua, prepended.
-- KEYS[1] the value: an 8-byte big-endian version, then the bytes
-- KEYS[2] the version counter of the value (never deleted)
-- ARGV[1] the channel, ARGV[2] the bytes, ARGV[3] the required version as
-- 8 bytes, or '' for none
-- Returns {1, version}, or {-1, 0} if the required version does not match
-- (also when the value is absent).
-- Publishes seq(8) 'I'|'U' bytes, the version being the sequence number,
-- before writing (see clear.lua).
local op = 'I'
if ARGV[3] ~= '' then
  local old = redis.call('GET', KEYS[1])
  if not old or string.sub(old, 1, 8) ~= ARGV[3] then
    return {-1, 0}
  end
  op = 'U'
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  op = 'U'
end
local base, stored = readCounter(redis.call('GET', KEYS[2]))
local v = tonumber(base) + 1
local header = struct.pack('>I8', v)
redis.call('PUBLISH', ARGV[1], header .. op .. ARGV[2])
redis.call('SET', KEYS[1], header .. ARGV[2])
advanceCounter(KEYS[2], base, stored)
return {1, v}
