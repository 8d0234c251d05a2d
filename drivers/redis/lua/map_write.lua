-- Map.Put, Map.Insert and Map.Update.
-- KEYS[1] the entries: a hash from key to an 8-byte big-endian version
-- followed by the value
-- KEYS[2] the map's version counter (never deleted)
-- ARGV[1] the channel, ARGV[2] the mode: 'p' put, 'i' insert (only if
-- absent), 'u' update (only if present), ARGV[3] the key, ARGV[4] the
-- value, ARGV[5] the required version as 8 bytes, or '' for none
-- Returns {status, version}: status 1 stored, 0 absent (update), -1 the
-- version does not match, -2 present (insert).
-- Publishes seq(8) 'I'|'U' keylen(4) key value; the version is seq.
local entries, mode, key, want = KEYS[1], ARGV[2], ARGV[3], ARGV[5]
local op
if mode ~= 'p' or want ~= '' then
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
local v = redis.call('INCR', KEYS[2])
local header = struct.pack('>I8', v)
local added = redis.call('HSET', entries, key, header .. ARGV[4])
if not op then
  -- An unconditional put: HSET says whether the key is new.
  op = 'U'
  if added == 1 then
    op = 'I'
  end
end
redis.call('PUBLISH', ARGV[1], header .. op .. struct.pack('>I4', #key) .. key .. ARGV[4])
return {1, v}
