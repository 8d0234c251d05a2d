-- A FIFO queue of waiters, prepended to the scripts that use it (a lock's
-- acquire and release; a semaphore's can use it the same way). The queue
-- is a sorted set of members '<session ID>:<owner>' scored by their
-- arrival, numbered by INCR of a sequence key. A member whose session's
-- lease is gone is dead: it is skipped and dropped when it reaches the
-- head. Only the waiter at the head may take what is queued for, and a
-- release wakes only it, by naming it in the message it publishes.
--
-- queueJoin adds member at the tail unless it is queued already (a waiter
-- that tries again keeps its place). (ZADD NX rather than a ZSCORE check,
-- so that the commands are those the driver's ACL already lists; a number
-- drawn for a member already queued is simply not used.)
local function queueJoin(queue, seq, member)
  redis.call('ZADD', queue, 'NX', redis.call('INCR', seq), member)
end

-- queueHead returns the first live member (nil if none), how long its
-- session's lease has left in ms (-1: no expiry), and the dead members
-- before it, for queueDrop. It writes nothing, so that a script can
-- publish before it writes. skip, if given, is a member to treat as dead
-- (one that is leaving), and skipSession a session ID whose members are.
local function queueHead(queue, leases, skip, skipSession)
  local dead = {}
  local i = 0
  while true do
    local first = redis.call('ZRANGE', queue, i, i)
    if #first == 0 then
      return nil, 0, dead
    end
    local member = first[1]
    local sid = string.match(member, '^([^:]*):')
    if member ~= skip and sid ~= skipSession then
      local ttl = redis.call('PTTL', leases .. sid)
      if ttl ~= -2 then
        return member, ttl, dead
      end
    end
    dead[#dead + 1] = member
    i = i + 1
  end
end

-- queueDrop removes the members queueHead found dead.
local function queueDrop(queue, dead)
  if #dead > 0 then
    redis.call('ZREM', queue, unpack(dead))
  end
end
