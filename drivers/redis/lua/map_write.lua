-- Map.Put, Map.Insert and Map.Update: one mapEntryWrite (map_entry.lua,
-- prepended).
-- KEYS as in map_entry.lua.
-- ARGV[1] the channel, ARGV[2] the mode, ARGV[3] the key, ARGV[4] the
-- value, ARGV[5] the required version as 8 bytes, or '' for none,
-- ARGV[6] the session to bind the entry to, or '' to make it persistent,
-- ARGV[7] that session's TTL in ms. ARGV[5..7] may be left out together
-- (no version, persistent): every argument costs the server time.
-- Returns {status, version} (see map_entry.lua).
local status, v = mapEntryWrite(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5] or '', ARGV[6], ARGV[7])
return {status, v}
