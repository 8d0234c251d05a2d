-- setElementChange: the addition or removal of one element of a set,
-- shared by set_change.lua (one change) and set_change_batch.lua (several
-- in one run).
-- readCounter and advanceCounter come from counter.lua, ephExpire and
-- ephBind from ephemeral.lua, both prepended.
-- KEYS[1] the elements (a Redis set), KEYS[2] the version counter,
-- KEYS[3], KEYS[4] the binding index and the lease prefix (ephemeral.lua:
-- an element bound to an expired session is removed first)
-- setElementChange(channel, element, op, sid, ttl): op is 'I' add, 'R'
-- remove; sid (add) the session to bind the element to, or '' or nil, ttl
-- its TTL in ms.
-- Returns 1 if the set changed, 0 if not.
-- Publishes seq(8) 'I'|'R' element, before writing (see clear.lua), and
-- advances the counter last.
ephKind = 's'
local function setElementChange(channel, element, op, sid, ttl)
  local bound = ephExpire(channel, element)
  local present = redis.call('SISMEMBER', KEYS[1], element) == 1
  if present == (op == 'I') then
    return 0
  end
  local base, stored = readCounter(redis.call('GET', KEYS[2]))
  local seq = tonumber(base) + 1
  redis.call('PUBLISH', channel, struct.pack('>I8', seq) .. op .. element)
  if op == 'I' then
    redis.call('SADD', KEYS[1], element)
    ephBind(element, sid, ttl, bound)
  else
    redis.call('SREM', KEYS[1], element)
    if bound then
      redis.call('HDEL', KEYS[3], element)
    end
  end
  advanceCounter(KEYS[2], base, stored)
  return 1
end
