-- Several persistent writes of one map, from concurrent calls, in one run
-- (see batch.go): mapEntryWrite (map_entry.lua, prepended) for each, in
-- order, each with its own version and its own message, as if each were a
-- map_write.lua run of its own, one after the other.
-- KEYS as in map_entry.lua.
-- ARGV[1] the channel, then four arguments per write: the mode, the key,
-- the value, the required version as 8 bytes or ''.
-- Returns {status1, version1, status2, version2, ...}.
local out = {}
for i = 2, #ARGV, 4 do
  local status, v = mapEntryWrite(ARGV[1], ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
  out[#out + 1] = status
  out[#out + 1] = v
end
return out
