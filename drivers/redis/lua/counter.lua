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
-- as Lua numbers passed to redis.call, whose conversion of a number to
-- an argument Redis does not document (7.0 prints 17 significant digits,
-- exact; another version could print an exponent).

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
-- new value as INCR's reply: a Lua number, exact below 2^53. A caller that
-- needs it as text prints it with string.format('%.0f', ...), which is
-- exact where tostring and '..' would round it; most callers need nothing
-- back, and formatting costs a write script about a tenth of its server
-- time.
local function advanceCounter(key, value, stored)
  if not stored then
    redis.call('SET', key, value)
  end
  return redis.call('INCR', key)
end

-- bumpCounter(key) increments the counter at key, starting it from the
-- server's clock if it is missing, and returns the new value as a decimal
-- string and as INCR's reply (a Lua number, for a script's reply, which
-- tonumber of the string would parse again): advanceCounter(key,
-- readCounter(GET key)) in one command when the counter exists, for a
-- script that needs no value before it writes.
-- INCR of a missing counter returns 1, which a counter started from the
-- clock never does.
local function bumpCounter(key)
  local n = redis.call('INCR', key)
  if n == 1 then
    redis.call('SET', key, (readCounter(nil)))
    n = redis.call('INCR', key)
  end
  return string.format('%.0f', n), n
end

