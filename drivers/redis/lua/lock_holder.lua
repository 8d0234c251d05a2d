-- Lock.Holder: the version of the live hold, or 0.
-- KEYS[1] the hold (see lock_acquire.lua), KEYS[2] the lease prefix
local cur = redis.call('HMGET', KEYS[1], 'version', 'session')
if cur[1] and redis.call('EXISTS', KEYS[2] .. cur[2]) == 1 then
  return tonumber(cur[1])
end
return 0
