-- Several Value.Set calls on one value, from concurrent calls, in one run
-- (see batch.go): valueWrite (value_entry.lua, prepended) for each, in
-- order, each with its own version and its own message, as if each were a
-- value_set.lua run of its own, one after the other.
-- KEYS as in value_entry.lua.
-- ARGV[1] the channel, then two arguments per write: the bytes, and the
-- required version as 8 bytes or ''.
-- Returns {status1, version1, status2, version2, ...}.
local out = {}
for i = 2, #ARGV, 2 do
  local status, v = valueWrite(ARGV[1], ARGV[i], ARGV[i + 1])
  out[#out + 1] = status
  out[#out + 1] = v
end
return out
