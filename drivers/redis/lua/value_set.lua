-- Value.Set: one valueWrite (value_entry.lua, prepended).
-- KEYS as in value_entry.lua.
-- ARGV[1] the channel, ARGV[2] the bytes, ARGV[3] the required version as
-- 8 bytes, or '' for none
-- Returns {1, version}, or {-1, 0} if the required version does not match
-- (also when the value is absent).
local status, v = valueWrite(ARGV[1], ARGV[2], ARGV[3])
return {status, v}
