-- mapEntryWrite and mapEntryRemove: the write and the removal of one entry
-- of a map, shared by map_write.lua and map_remove.lua (one of them) and
-- map_write_batch.lua (several in one run).
-- readCounter and advanceCounter come from counter.lua, ephExpire and
-- ephBind from ephemeral.lua, both prepended.
-- KEYS[1] the entries: a hash from key to an 8-byte big-endian version
-- followed by the value
-- KEYS[2] the map's version counter (never deleted)
-- KEYS[3], KEYS[4] the binding index and the lease prefix (ephemeral.lua:
-- a key bound to an expired session is removed first)
-- mapEntryWrite(channel, mode, key, value, want, sid, ttl): mode is 'p'
-- put, 'i' insert (only if absent), 'u' update (only if present); want the
-- required version as 8 bytes, or '' for none; sid the session to bind the
-- entry to, or '' or nil to make it persistent, ttl that session's TTL in
-- ms.
-- Returns status, version: status 1 stored, 0 absent (update), -1 the
-- version does not match, -2 present (insert); version the entry's new
-- version when stored, else 0.
-- Publishes seq(8) 'I'|'U' keylen(4) key value, the version being seq,
-- before writing (see clear.lua), and advances the counter last.
local function mapEntryWrite(channel, mode, key, value, want, sid, ttl)
  local entries = KEYS[1]
  local bound = ephExpire(channel, key)
  local op
  if mode == 'p' and want == '' then
    op = 'I'
    if redis.call('HEXISTS', entries, key) == 1 then
      op = 'U'
    end
  else
    local old = redis.call('HGET', entries, key)
    if old then
      if mode == 'i' then
        return -2, 0
      end
      if want ~= '' and string.sub(old, 1, 8) ~= want then
        return -1, 0
      end
      op = 'U'
    else
      if mode == 'u' then
        return 0, 0
      end
      if want ~= '' then
        return -1, 0
      end
      op = 'I'
    end
  end
  local base, stored = readCounter(redis.call('GET', KEYS[2]))
  local v = tonumber(base) + 1
  local header = struct.pack('>I8', v)
  redis.call('PUBLISH', channel, header .. op .. struct.pack('>I4', #key) .. key .. value)
  redis.call('HSET', entries, key, header .. value)
  ephBind(key, sid, ttl, bound)
  advanceCounter(KEYS[2], base, stored)
  return 1, v
end

-- mapEntryRemove(channel, key, want): want is the required version as 8
-- bytes, or ''.
-- Returns status, stored: status 1 removed, stored being the removed
-- entry's stored bytes; 0 absent, -1 the version does not match (stored is
-- then 0).
-- Publishes seq(8) 'R' keylen(4) key, before writing (see clear.lua).
local function mapEntryRemove(channel, key, want)
  local bound = ephExpire(channel, key)
  local old = redis.call('HGET', KEYS[1], key)
  if not old then
    return 0, 0
  end
  if want ~= '' and string.sub(old, 1, 8) ~= want then
    return -1, 0
  end
  local base, stored = readCounter(redis.call('GET', KEYS[2]))
  local seq = tonumber(base) + 1
  redis.call('PUBLISH', channel, struct.pack('>I8', seq) .. 'R' .. struct.pack('>I4', #key) .. key)
  redis.call('HDEL', KEYS[1], key)
  if bound then
    redis.call('HDEL', KEYS[3], key)
  end
  advanceCounter(KEYS[2], base, stored)
  return 1, old
end
