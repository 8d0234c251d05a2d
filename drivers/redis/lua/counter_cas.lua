-- Counter.CompareAndSet: store ARGV[2] if the counter holds ARGV[1].
-- KEYS[1] the counter (a decimal string; absent reads as 0)
-- ARGV[1] the expected value, ARGV[2] the new value (canonical decimals)
-- Returns 1 if stored, 0 if the comparison failed. The values are compared
-- as strings, which is exact for every int64 (Lua numbers are doubles).
local cur = redis.call('GET', KEYS[1]) or '0'
if cur ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
