-- Map.Get and Set.Contains: the key, once expired ephemeral keys are
-- removed (see ephemeral.lua).
-- ARGV[1] the channel, ARGV[2] the kind ('m' or 's'), ARGV[3] the key
-- Returns the stored entry or nil (map), 1 or 0 (set).
ephKind = ARGV[2]
ephExpire(ARGV[1], ARGV[3])
if ephKind == 'm' then
  return redis.call('HGET', KEYS[1], ARGV[3])
end
return redis.call('SISMEMBER', KEYS[1], ARGV[3])
