-- Lock.Release, Lock.ReleaseVersion, and what a session's end removes.
-- queueHead and queueDrop come from queue.lua, prepended.
-- KEYS[1] the hold (see lock_acquire.lua), KEYS[2] the lease prefix,
-- KEYS[3] the waiter queue
-- ARGV[1] the channel, ARGV[2] what must match: 'h' the owner ARGV[3] and
-- the version ARGV[4]; 'o' the owner ARGV[3] of session ARGV[4] (an
-- attempt given up: it also leaves the queue); 'v' the version ARGV[3];
-- 's' the session ARGV[3], whose lease is deleted too (its waiters are
-- dead from then on)
-- Returns 1 if a live matching hold was released, else 0. A hold whose
-- lease is gone had already ended: it is removed and 0 returned.
-- Publishes the version of the hold removed, followed by the waiter at the
-- head of the queue if there is one ('<version> <member>'): the holder
-- hears that its hold is gone, and only that waiter wakes. A holder's own
-- release of its live hold ('h') publishes no version, since the holder
-- learns from the reply (and reads the hold if the reply is lost): with
-- nobody queued it publishes nothing, a message every subscribed client
-- would otherwise receive and drop. A waiter that leaves the queue while
-- the lock is free wakes the next one the same way, with version 0. The
-- message is published before anything is written (see clear.lua).
local hold, leases, queue = KEYS[1], KEYS[2], KEYS[3]
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
-- The holder's own release of its live hold, with nobody queued: what the
-- rest would do then (no message, nothing to drop), without building its
-- closures and tables.
if m == 'h' and match and live and queueEmpty(queue) then
  redis.call('DEL', hold)
  return 1
end
-- The waiter leaving, or the session whose waiters are dead.
local leaving, leavingSession = nil, nil
if m == 'o' then
  leaving = ARGV[4] .. ':' .. a
elseif m == 's' then
  leavingSession = a
end
local head, dead = nil, {}
if remove or not cur[1] then
  local _
  head, _, dead = queueHead(queue, function(member)
    local s = string.match(member, '^([^:]*):')
    if member == leaving or s == leavingSession then
      return -2
    end
    return redis.call('PTTL', leases .. s)
  end)
end
local msg = nil
if remove and not (m == 'h' and match and live) then
  msg = cur[1]
end
if head and (remove or m == 'o' or m == 's') then
  msg = (msg or '0') .. ' ' .. head
end
if msg then
  redis.call('PUBLISH', ARGV[1], msg)
end
if m == 's' then
  redis.call('DEL', leases .. a)
end
if leaving then
  dead[#dead + 1] = leaving
end
queueDrop(queue, dead)
if not remove then
  return 0
end
redis.call('DEL', hold)
if match and live then
  return 1
end
return 0
