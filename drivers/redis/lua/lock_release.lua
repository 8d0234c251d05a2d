-- Lock.Release and Lock.ReleaseVersion.
-- KEYS[1] the hold
-- ARGV[1] the channel, ARGV[2] what must match: 'h' the whole hold,
-- 'o' the owner ID, 'v' the version; ARGV[3] the hold, the owner ID or the
-- version as 8 bytes
-- Returns 1 if the matching hold was released, 0 if there was none.
-- Publishes the released version (8 bytes): it wakes the waiters and tells
-- the holder.
local cur = redis.call('GET', KEYS[1])
if not cur then
  return 0
end
local m = ARGV[2]
local match
if m == 'h' then
  match = cur == ARGV[3]
elseif m == 'o' then
  match = string.sub(cur, -#ARGV[3] - 1) == '/' .. ARGV[3]
else
  match = string.sub(cur, 1, 8) == ARGV[3]
end
if not match then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], string.sub(cur, 1, 8))
return 1
