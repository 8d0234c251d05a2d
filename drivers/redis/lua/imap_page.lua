-- One page of an IndexedMap iteration, in index order.
-- KEYS[1] the entries, KEYS[2] the order
-- ARGV[1] the index after which the page starts, ARGV[2] the page size
-- Returns {key, stored, key, stored, ...}.
local keys = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf', 'LIMIT', 0, tonumber(ARGV[2]))
if #keys == 0 then
  return {}
end
local stored = redis.call('HMGET', KEYS[1], unpack(keys))
local r = {}
for i, k in ipairs(keys) do
  r[#r + 1] = k
  r[#r + 1] = stored[i]
end
return r
