-- The keys of a map or a set that are bound to a session whose lease is
-- gone (expired ephemeral keys: a reader never sees them, and the sweep of
-- ephemeral.lua removes them and tells the watchers), and the primitive's
-- length without them. It only reads, so it runs with EVALSHA_RO.
-- KEYS as in ephemeral.lua
-- ARGV[1] the kind ('m' or 's')
-- Returns {length, {key, ...}}.
local map = ARGV[1] == 'm'
local n
if map then
  n = redis.call('HLEN', KEYS[1])
else
  n = redis.call('SCARD', KEYS[1])
end
local expired = {}
local bound = redis.call('HGETALL', KEYS[3])
for i = 1, #bound, 2 do
  if redis.call('EXISTS', KEYS[4] .. bound[i + 1]) == 0 then
    local present
    if map then
      present = redis.call('HEXISTS', KEYS[1], bound[i]) == 1
    else
      present = redis.call('SISMEMBER', KEYS[1], bound[i]) == 1
    end
    if present then
      expired[#expired + 1] = bound[i]
      n = n - 1
    end
  end
end
return {n, expired}
