-- IndexedMap.GetIndex, First, Last, Prev and Next.
-- KEYS[1] the entries, KEYS[2] the order
-- ARGV[1] 'i' at index, 'f' first, 'l' last, 'p' before index, 'n' after
-- index; ARGV[2] the index
-- Returns {key, stored}, or nil when there is no such entry.
local order = KEYS[2]
local m = ARGV[1]
local keys
if m == 'i' then
  keys = redis.call('ZRANGEBYSCORE', order, ARGV[2], ARGV[2], 'LIMIT', 0, 1)
elseif m == 'f' then
  keys = redis.call('ZRANGE', order, 0, 0)
elseif m == 'l' then
  keys = redis.call('ZRANGE', order, -1, -1)
elseif m == 'p' then
  keys = redis.call('ZREVRANGEBYSCORE', order, '(' .. ARGV[2], '-inf', 'LIMIT', 0, 1)
else
  keys = redis.call('ZRANGEBYSCORE', order, '(' .. ARGV[2], '+inf', 'LIMIT', 0, 1)
end
if #keys == 0 then
  return false
end
return {keys[1], redis.call('HGET', KEYS[1], keys[1])}
