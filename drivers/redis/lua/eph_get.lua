-- Map.Get and Set.Contains: the key, unless it is bound to a session whose
-- lease is gone. Such a key is expired: a reader never sees it, and the
-- sweep (see ephemeral.lua and ephemeral.go) removes it and tells the
-- watchers. The script only reads, so it runs with EVALSHA_RO.
-- ARGV[1] the channel (unused), ARGV[2] the kind ('m' or 's'), ARGV[3] the key
-- Returns the stored entry or nil (map), 1 or 0 (set).
local sid = redis.call('HGET', KEYS[3], ARGV[3])
local expired = sid and redis.call('EXISTS', KEYS[4] .. sid) == 0
if ARGV[2] == 'm' then
  if expired then
    return nil
  end
  return redis.call('HGET', KEYS[1], ARGV[3])
end
if expired then
  return 0
end
return redis.call('SISMEMBER', KEYS[1], ARGV[3])
