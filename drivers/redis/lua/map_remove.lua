-- Map.Remove: one mapEntryRemove (map_entry.lua, prepended).
-- KEYS as in map_entry.lua.
-- ARGV[1] the channel, ARGV[2] the key, ARGV[3] the required version as 8
-- bytes, or ''
-- Returns {1, stored} with the removed entry's stored bytes, {0, 0} if
-- absent, {-1, 0} if the version does not match.
local status, old = mapEntryRemove(ARGV[1], ARGV[2], ARGV[3])
return {status, old}
