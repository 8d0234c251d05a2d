-- Map.Put, Map.Insert and Map.Update.
-- readCounter and advanceCounter come from counter.lua, prepended.
-- KEYS[1] the entries: a hash from key to an 8-byte big-endian version
-- followed by the value
-- KEYS[2] the map's version counter (never deleted)
-- KEYS[3], KEYS[4] the binding index and the lease prefix (ephemeral.lua,
-- prepended: a key bound to an expired session is removed first)
-- ARGV[1] the channel, ARGV[2] the mode: 'p' put, 'i' insert (only if
-- absent), 'u' update (only if present), ARGV[3] the key, ARGV[4] the
-- value, ARGV[5] the required version as 8 bytes, or '' for none,
-- ARGV[6] the session to bind the entry to, or '' to make it persistent,
-- ARGV[7] that session's TTL in ms. ARGV[5..7] may be left out together
-- (no version, persistent): every argument costs the server time.
-- Returns {status, version}: status 1 stored, 0 absent (update), -1 the
-- version does not match, -2 present (insert).
-- Publishes seq(8) 'I'|'U' keylen(4) key value, the version being seq,
-- before writing (see clear.lua).
local entries, mode, key, want = KEYS[1], ARGV[2], ARGV[3], ARGV[5] or ''
local bound = ephExpire(ARGV[1], key)
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
      return {-2, 0}
    end
    if want ~= '' and string.sub(old, 1, 8) ~= want then
      return {-1, 0}
    end
    op = 'U'
  else
    if mode == 'u' then
      return {0, 0}
    end
    if want ~= '' then
      return {-1, 0}
    end
    op = 'I'
  end
end
local base, stored = readCounter(redis.call('GET', KEYS[2]))
local v = tonumber(base) + 1
local header = struct.pack('>I8', v)
redis.call('PUBLISH', ARGV[1], header .. op .. struct.pack('>I4', #key) .. key .. ARGV[4])
redis.call('HSET', entries, key, header .. ARGV[4])
ephBind(key, ARGV[6], ARGV[7], bound)
advanceCounter(KEYS[2], base, stored)
return {1, v}
