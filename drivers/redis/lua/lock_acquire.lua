-- Lock.Acquire and Lock.TryAcquire: one attempt.
-- bumpCounter comes from counter.lua, queueJoin,
-- queueHead and queueDrop from queue.lua, prepended.
-- KEYS[1] the hold: a hash with the 'version', the holder's 'session' ID
-- and its 'owner'
-- KEYS[2] the version counter (never deleted)
-- KEYS[3] the prefix of session leases: KEYS[3] .. sessionID is the lease
-- of a session in this lock's hash slot; a hold whose lease is gone has
-- ended
-- KEYS[4] the waiter queue, KEYS[5] its sequence (see queue.lua): members
-- are '<session ID>:<owner>', live while their session's lease is
-- ARGV[1] the channel, ARGV[2] the session ID, ARGV[3] the owner,
-- ARGV[4] the session TTL in ms, ARGV[5] '1' to join the queue if the
-- owner cannot take the lock now (Acquire), '0' not to (TryAcquire); a
-- waiter that joins gets its session's lease, as a holder does
-- Returns {version, 0} when the owner holds the lock (also when it already
-- did: an attempt retried after a lost reply gets the same hold), or
-- {0, ms} when it must wait, ms being how long the lease of the holder (or
-- of the waiter whose turn it is) has left unless renewed (-1: no expiry).
-- The lock goes to the waiter at the head of the queue, never to one that
-- comes later: an owner not at the head waits even if the lock is free.
-- A hold whose lease is gone is removed, and its version published as if
-- released, naming the waiter whose turn it is ('<version> <member>').
-- Messages are published before anything is written (see clear.lua).
local hold, counter, leases, queue, seq = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local sid, owner = ARGV[2], ARGV[3]
local cur = redis.call('HMGET', hold, 'version', 'session', 'owner')
-- When the lock is free and nobody is queued, the owner takes it at once:
-- the block below would find no hold and no head, and change nothing. It
-- runs only when there is a hold or a queue. Checking the queue with
-- EXISTS and skipping the block's closures and tables (here and in
-- lock_release.lua) cut an uncontended Lock+Unlock's server time by 12 to
-- 20%.
if cur[1] or not queueEmpty(queue) then
  local wait = ARGV[5] == '1'
  local me = sid .. ':' .. owner
  -- A queued waiter needs its session's lease in this slot (the session
  -- renews it once told), else it would be taken for dead.
  local function join()
    if wait then
      queueJoin(queue, seq, me)
      redis.call('SET', leases .. sid, '1', 'PX', ARGV[4])
    end
  end
  local freed = nil
  if cur[1] then
    if cur[2] == sid and cur[3] == owner then
      return {tonumber(cur[1]), 0}
    end
    local ttl = redis.call('PTTL', leases .. cur[2])
    if ttl ~= -2 then
      join()
      return {0, ttl}
    end
    freed = cur[1]
  end
  local head, left, dead = queueHead(queue, function(m)
    return redis.call('PTTL', leases .. string.match(m, '^([^:]*):'))
  end)
  if head and head ~= me then
    -- Free, but it is another waiter's turn: wake it.
    redis.call('PUBLISH', ARGV[1], (freed or '0') .. ' ' .. head)
    if freed then
      redis.call('DEL', hold)
    end
    queueDrop(queue, dead)
    join()
    return {0, left}
  end
  if freed then
    redis.call('PUBLISH', ARGV[1], freed)
    redis.call('DEL', hold)
  end
  if head then
    dead[#dead + 1] = me
  end
  queueDrop(queue, dead)
end
local v, n = bumpCounter(counter)
redis.call('HSET', hold, 'version', v, 'session', sid, 'owner', owner)
redis.call('SET', leases .. sid, '1', 'PX', ARGV[4])
return {n, 0}
