-- Set.Add and Set.Remove.
-- KEYS[1] the elements (a Redis set), KEYS[2] the version counter
-- ARGV[1] the channel, ARGV[2] the element, ARGV[3] 'I' add, 'R' remove
-- Returns 1 if the set changed, 0 if not.
-- Publishes seq(8) 'I'|'R' element.
local cmd = 'SREM'
if ARGV[3] == 'I' then
  cmd = 'SADD'
end
if redis.call(cmd, KEYS[1], ARGV[2]) == 0 then
  return 0
end
local seq = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], struct.pack('>I8', seq) .. ARGV[3] .. ARGV[2])
return 1
