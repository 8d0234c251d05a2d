-- Reads a list with the sequence number of the last change (for watches),
-- or the first page of an iteration. It only reads, so a user whose ACL
-- allows no write may run it (EVALSHA_RO); an iteration of a list longer
-- than its first page continues with list_snapshot.
-- KEYS[1] the items, KEYS[2] the version counter
-- ARGV[1] how many items to return (-1: all)
-- Returns {seq, length, {item, ...}}.
local n = redis.call('LLEN', KEYS[1])
local count = tonumber(ARGV[1])
local items
if count < 0 or n <= count then
  items = redis.call('LRANGE', KEYS[1], 0, -1)
else
  items = redis.call('LRANGE', KEYS[1], 0, count - 1)
end
return {redis.call('GET', KEYS[2]) or '0', n, items}
