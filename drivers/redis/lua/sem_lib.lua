-- Prepended, after counter.lua and queue.lua, to every semaphore script.
-- The keys of one semaphore, all in its hash slot, in KEYS order:
-- KEYS[1] the holds: a hash, owner -> 'VERSION PERMITS SESSION'
-- KEYS[2] the waiters: a hash, owner -> 'PERMITS SESSION'
-- KEYS[3] the queue: a sorted set of the waiting owners, scored by arrival
-- (queue.lua, whose records are KEYS[2])
-- KEYS[4] the version counter (never deleted)
-- KEYS[5] the arrival counter of the queue
-- KEYS[6] the limit record, kept while anything is held or queued
-- KEYS[7] the prefix of session leases: KEYS[7] .. sessionID is the lease
-- of a session in this semaphore's slot; a hold or waiter whose lease is
-- gone has ended
local H, W, Q, C, S, L, P = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]

-- fields(s) splits a record on spaces (owners are hash fields, never in a
-- record, so they may hold any byte).
local function fields(s)
  local t = {}
  for f in string.gmatch(s, '%S+') do
    t[#t + 1] = f
  end
  return t
end

local function alive(sid)
  return redis.call('EXISTS', P .. sid) == 1
end

-- waiterTTL(o) is how long the lease of queued owner o's session has left
-- in ms (-1: no expiry), -2 if it is gone or o has no record.
local function waiterTTL(o)
  local rec = redis.call('HGET', W, o)
  if not rec then
    return -2
  end
  return redis.call('PTTL', P .. fields(rec)[2])
end

-- settle(ch, limit) brings the semaphore up to date: it removes the holds
-- whose lease is gone, publishing each one's version (as a release does),
-- then grants the waiters at the head of the queue, in arrival order, while
-- their permits fit in limit, each with a new version, publishing
-- 'g ' .. owner; a waiter whose lease is gone is dropped when it reaches the
-- head. A waiter that does not fit stops the grants: nobody overtakes it.
-- Returns the permits held afterwards.
local function settle(ch, limit)
  local used = 0
  local hs = redis.call('HGETALL', H)
  for i = 1, #hs, 2 do
    local f = fields(hs[i + 1])
    if alive(f[3]) then
      used = used + tonumber(f[2])
    else
      redis.call('PUBLISH', ch, f[1])
      redis.call('HDEL', H, hs[i])
    end
  end
  if queueEmpty(Q) then
    return used
  end
  while true do
    local head, _, dead = queueHead(Q, waiterTTL)
    queueDrop(Q, dead, W)
    if not head then
      break
    end
    local f = fields(redis.call('HGET', W, head))
    local n = tonumber(f[1])
    if used + n > limit then
      break
    end
    redis.call('PUBLISH', ch, 'g ' .. head)
    queueDrop(Q, {head}, W)
    local v = bumpCounter(C)
    redis.call('HSET', H, head, v .. ' ' .. f[1] .. ' ' .. f[2])
    used = used + n
  end
  return used
end

-- idle reports whether nothing is held and nobody waits.
local function idle()
  return redis.call('EXISTS', H) == 0 and queueEmpty(Q)
end

-- recordedLimit(mine) returns the limit to grant with: the recorded one,
-- else mine (a string).
local function recordedLimit(mine)
  return tonumber(redis.call('GET', L) or mine)
end
