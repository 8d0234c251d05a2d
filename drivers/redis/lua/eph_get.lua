-- Map.Get and Set.Contains: the key, unless it is bound to a session whose
-- lease is gone. Such a key is expired: a reader never sees it, and the
-- sweep (see ephemeral.lua and ephemeral.go) removes it and tells the
-- watchers. The script only reads, so it runs with EVALSHA_RO.
-- KEYS[1] the entries, KEYS[2] the binding index, KEYS[3] the lease
-- prefix (see ephemeral.lua)
-- ARGV[1] the kind ('m' or 's'), ARGV[2] the key
-- Returns the stored entry or nil (map), 1 or 0 (set).
local sid = redis.call('HGET', KEYS[2], ARGV[2])
if sid and redis.call('EXISTS', KEYS[3] .. sid) == 0 then
  if ARGV[1] == 'm' then
    return nil
  end
  return 0
end
if ARGV[1] == 'm' then
  return redis.call('HGET', KEYS[1], ARGV[2])
end
return redis.call('SISMEMBER', KEYS[1], ARGV[2])
