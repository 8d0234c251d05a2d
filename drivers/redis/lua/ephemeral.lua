-- Session-bound (ephemeral) entries of a map, or elements of a set,
-- prepended (after counter.lua) to the scripts that read or write them.
-- KEYS[1] the entries (a hash for a map, a Redis set for a set)
-- KEYS[2] the version counter
-- KEYS[3] the binding index: a hash from each bound key to the ID of the
-- session it is bound to
-- KEYS[4] the lease prefix of the primitive's slot: KEYS[4] .. sessionID is
-- the session's lease there (see session.go); a key whose session has no
-- lease left is expired: it is removed before anything reads or writes it
-- ephKind is 'm' (map) or 's' (set); every script sets it first.
local ephKind = 'm'

-- ephRemove removes key and its binding, publishing the removal as
-- map_remove.lua or set_change.lua do (before writing, see clear.lua).
local function ephRemove(channel, key)
  local present
  if ephKind == 'm' then
    present = redis.call('HEXISTS', KEYS[1], key) == 1
  else
    present = redis.call('SISMEMBER', KEYS[1], key) == 1
  end
  if present then
    local base, stored = readCounter(redis.call('GET', KEYS[2]))
    local seq = struct.pack('>I8', tonumber(base) + 1)
    if ephKind == 'm' then
      redis.call('PUBLISH', channel, seq .. 'R' .. struct.pack('>I4', #key) .. key)
      redis.call('HDEL', KEYS[1], key)
    else
      redis.call('PUBLISH', channel, seq .. 'R' .. key)
      redis.call('SREM', KEYS[1], key)
    end
    advanceCounter(KEYS[2], base, stored)
  end
  redis.call('HDEL', KEYS[3], key)
end

-- ephExpire removes key if it is bound to a session whose lease is gone,
-- and reports whether key is (still) bound: true if bound to a live
-- session, false if it was not bound or was removed. A script that knows
-- key is not bound need not delete its binding.
local function ephExpire(channel, key)
  local sid = redis.call('HGET', KEYS[3], key)
  if not sid then
    return false
  end
  if redis.call('EXISTS', KEYS[4] .. sid) == 1 then
    return true
  end
  ephRemove(channel, key)
  return false
end

-- ephSweep removes every key bound to a session whose lease is gone or,
-- when sid is not '', every key bound to session sid. It returns how many
-- keys were removed.
local function ephSweep(channel, sid)
  local all = redis.call('HGETALL', KEYS[3])
  local n = 0
  for i = 1, #all, 2 do
    local s = all[i + 1]
    if (sid ~= '' and s == sid) or (sid == '' and redis.call('EXISTS', KEYS[4] .. s) == 0) then
      ephRemove(channel, all[i])
      n = n + 1
    end
  end
  return n
end

-- ephBind binds key to session sid, creating its lease with ttl ms, or,
-- when sid is '' or nil, makes key persistent; bound is what ephExpire
-- returned for key (a key not bound has no binding to delete).
local function ephBind(key, sid, ttl, bound)
  if not sid or sid == '' then
    if bound then
      redis.call('HDEL', KEYS[3], key)
    end
    return
  end
  redis.call('HSET', KEYS[3], key, sid)
  redis.call('SET', KEYS[4] .. sid, '1', 'PX', ttl)
end
