-- valueWrite: one Value.Set, shared by value_set.lua (one) and
-- value_set_batch.lua (several in one run).
-- readCounter and advanceCounter come from counter.lua, prepended.
-- KEYS[1] the value: an 8-byte big-endian version, then the bytes
-- KEYS[2] the version counter of the value (never deleted)
-- valueWrite(channel, bytes, want): want is the required version as 8
-- bytes, or '' for none.
-- Returns status, version: 1 and the new version, or -1, 0 if the required
-- version does not match (also when the value is absent).
-- Publishes seq(8) 'I'|'U' bytes, the version being the sequence number,
-- before writing (see clear.lua), and advances the counter last.
local function valueWrite(channel, bytes, want)
  local op = 'I'
  if want ~= '' then
    local old = redis.call('GET', KEYS[1])
    if not old or string.sub(old, 1, 8) ~= want then
      return -1, 0
    end
    op = 'U'
  elseif redis.call('EXISTS', KEYS[1]) == 1 then
    op = 'U'
  end
  local base, stored = readCounter(redis.call('GET', KEYS[2]))
  local v = tonumber(base) + 1
  local header = struct.pack('>I8', v)
  redis.call('PUBLISH', channel, header .. op .. bytes)
  redis.call('SET', KEYS[1], header .. bytes)
  advanceCounter(KEYS[2], base, stored)
  return 1, v
end
