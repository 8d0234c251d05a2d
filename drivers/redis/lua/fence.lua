-- The fence of a fenced write, prepended to the write's script.
-- KEYS[#KEYS-1] the fence lock's hold (see lock_acquire.lua),
-- KEYS[#KEYS] the fence lock's lease prefix
-- ARGV[#ARGV-1] the owner, ARGV[#ARGV] the version (decimal)
-- The hold is live only if its session's lease in the lock's slot exists.
local function fenceHolds()
  local cur = redis.call('HMGET', KEYS[#KEYS-1], 'version', 'session', 'owner')
  return cur[1] == ARGV[#ARGV] and cur[3] == ARGV[#ARGV-1]
    and redis.call('EXISTS', KEYS[#KEYS] .. cur[2]) == 1
end
