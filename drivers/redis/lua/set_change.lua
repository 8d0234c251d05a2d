-- Set.Add and Set.Remove: one setElementChange (set_entry.lua, prepended).
-- KEYS as in set_entry.lua.
-- ARGV[1] the channel, ARGV[2] the element, ARGV[3] 'I' add, 'R' remove,
-- ARGV[4] (add) the session to bind the element to, or '', ARGV[5] its TTL
-- in ms
-- Returns 1 if the set changed, 0 if not.
return setElementChange(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
