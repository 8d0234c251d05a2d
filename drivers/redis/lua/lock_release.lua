-- Lock.Release, Lock.ReleaseVersion, and what a session's end removes.
-- KEYS[1] the hold (see lock_acquire.lua), KEYS[2] the lease prefix
-- ARGV[1] the channel, ARGV[2] what must match: 'h' the owner ARGV[3] and
-- the version ARGV[4]; 'o' the owner ARGV[3] (an attempt given up); 'v'
-- the version ARGV[3]; 's' the session ARGV[3], whose lease is deleted too
-- Returns 1 if a live matching hold was released, else 0. A hold whose
-- lease is gone had already ended: it is removed and 0 returned.
-- Publishes the version of the hold removed: it wakes the waiters and tells
-- the holder. The message is published before anything is written (see
-- clear.lua).
local hold, leases = KEYS[1], KEYS[2]
local m, a = ARGV[2], ARGV[3]
local cur = redis.call('HMGET', hold, 'version', 'session', 'owner')
local live, match = false, false
if cur[1] then
  if not (m == 's' and cur[2] == a) then
    live = redis.call('EXISTS', leases .. cur[2]) == 1
  end
  if m == 'h' then
    match = cur[3] == a and cur[1] == ARGV[4]
  elseif m == 'o' then
    match = cur[3] == a
  elseif m == 'v' then
    match = cur[1] == a
  else
    match = cur[2] == a
  end
end
local remove = cur[1] and (match or not live)
if remove then
  redis.call('PUBLISH', ARGV[1], cur[1])
end
if m == 's' then
  redis.call('DEL', leases .. a)
end
if not remove then
  return 0
end
redis.call('DEL', hold)
if match and live then
  return 1
end
return 0
