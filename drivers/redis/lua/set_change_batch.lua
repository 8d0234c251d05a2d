-- Several persistent changes of one set, from concurrent calls, in one run
-- (see batch.go): setElementChange (set_entry.lua, prepended) for each, in
-- order, each with its own message, as if each were a set_change.lua run
-- of its own, one after the other.
-- KEYS as in set_entry.lua.
-- ARGV[1] the channel, then two arguments per change: 'I' add or 'R'
-- remove, and the element.
-- Returns {changed1, changed2, ...}, each 1 or 0.
local out = {}
for i = 2, #ARGV, 2 do
  out[#out + 1] = setElementChange(ARGV[1], ARGV[i + 1], ARGV[i])
end
return out
