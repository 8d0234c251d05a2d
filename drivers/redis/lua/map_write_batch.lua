-- Several persistent writes and removals of one map, from concurrent
-- calls, in one run (see batch.go): mapEntryWrite or mapEntryRemove
-- (map_entry.lua, prepended) for each, in order, each with its own
-- version and its own message, as if each were a map_write.lua or
-- map_remove.lua run of its own, one after the other.
-- KEYS as in map_entry.lua.
-- ARGV[1] the channel, then four arguments per write: the mode ('p', 'i',
-- 'u' as in map_entry.lua, or 'r' remove), the key, the value ('' for a
-- removal), the required version as 8 bytes or ''.
-- Returns {status1, result1, status2, result2, ...}, each pair what the
-- write's own script returns.
local out = {}
for i = 2, #ARGV, 4 do
  local status, r
  if ARGV[i] == 'r' then
    status, r = mapEntryRemove(ARGV[1], ARGV[i + 1], ARGV[i + 3])
  else
    status, r = mapEntryWrite(ARGV[1], ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
  end
  out[#out + 1] = status
  out[#out + 1] = r
end
return out
