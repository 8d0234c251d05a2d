-- Removes the expired ephemeral keys of a map or a set (see
-- ephemeral.lua), or every key bound to one session when that session is
-- closed, and then reads what the caller asked for.
-- ARGV[1] the channel, ARGV[2] the kind ('m' or 's'), ARGV[3] a session
-- ID whose keys are all removed (and its lease deleted), or '' for the
-- expired ones, ARGV[4] what to return: 'n' the number of keys removed,
-- 'l' the primitive's length after the sweep
ephKind = ARGV[2]
local n = ephSweep(ARGV[1], ARGV[3])
if ARGV[3] ~= '' then
  redis.call('DEL', KEYS[4] .. ARGV[3])
end
if ARGV[4] == 'l' then
  if ephKind == 'm' then
    return redis.call('HLEN', KEYS[1])
  end
  return redis.call('SCARD', KEYS[1])
end
return n
