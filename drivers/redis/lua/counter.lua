-- Prepended to every script that advances a per-primitive counter: the
-- version counter of a map, value, set, list or indexed map (which is also
-- its watch sequence), a lock's fencing versions, an election's term and
-- event counter.
--
-- A counter that is missing (a new primitive, or a server that came back
-- empty: no persistence, or a failover to a replica without it) starts
-- from the server's clock, TIME in microseconds, instead of 0. Numbers
-- given out before an empty restart stay below those given out after it,
-- as long as the server's clock does not go back and the primitive had
-- fewer changes than microseconds went by since its counter started
-- (Redis runs far fewer than a million scripts a second). The values, about
-- 2^51 today, are exact as Lua numbers (doubles, exact below 2^53); the
-- scripts store them as strings and move them with INCR and HINCRBY, never
-- as Lua numbers passed to redis.call (which Redis would format with
-- 14 significant digits).

-- readCounter(stored) returns the counter's value as a decimal string and
-- whether it is stored: stored itself (the counter's GET or HGET), else the
-- server's clock in microseconds.
local function readCounter(stored)
  if stored then
    return stored, true
  end
  local t = redis.call('TIME')
  return t[1] .. string.format('%06d', tonumber(t[2])), false
end

-- advanceCounter(key, value, stored) increments the counter at key, first
-- storing value (from readCounter) if it was not stored, and returns the
-- new value as a string.
local function advanceCounter(key, value, stored)
  if not stored then
    redis.call('SET', key, value)
  end
  redis.call('INCR', key)
  return redis.call('GET', key)
end

