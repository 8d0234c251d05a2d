-- A FIFO queue of waiters, prepended to the scripts of the primitives that
-- queue them (a lock's and a semaphore's). The queue is a sorted set of
-- members scored by their arrival, numbered by INCR of a sequence key; a
-- primitive may keep a record per member in a hash (the semaphore's
-- waiters) that the queue removes with the member. Whether a member is
-- live is the primitive's to say (its session's lease, found from the
-- member or its record): a dead member is skipped and dropped when it
-- reaches the head. Only the member at the head may be served, so nobody
-- overtakes an earlier waiter.

-- queueEmpty reports whether nobody is queued. A sorted set with no
-- members does not exist, so this is EXISTS, which costs the server a
-- third of what reading the head with ZRANGE does.
local function queueEmpty(queue)
  return redis.call('EXISTS', queue) == 0
end

-- queueJoin adds member at the tail unless it is queued already (a waiter
-- that tries again keeps its place; a number drawn for a member already
-- queued is simply not used).
local function queueJoin(queue, seq, member)
  redis.call('ZADD', queue, 'NX', redis.call('INCR', seq), member)
end

-- queueHead returns the first member for which ttlOf(member) is not -2
-- (nil if none), that TTL in ms (-1: no expiry), and the dead members
-- before it, for queueDrop. It writes nothing, so that a script can
-- publish before it writes.
local function queueHead(queue, ttlOf)
  local dead = {}
  local i = 0
  while true do
    local first = redis.call('ZRANGE', queue, i, i)
    if #first == 0 then
      return nil, 0, dead
    end
    local ttl = ttlOf(first[1])
    if ttl ~= -2 then
      return first[1], ttl, dead
    end
    dead[#dead + 1] = first[1]
    i = i + 1
  end
end

-- queueDrop removes members (those queueHead found dead, or one that
-- leaves) from the queue and, if records is given, their records there.
local function queueDrop(queue, members, records)
  if #members > 0 then
    redis.call('ZREM', queue, unpack(members))
    if records then
      redis.call('HDEL', records, unpack(members))
    end
  end
end
