-- Renews a lock hold for its session's keep-alive.
-- KEYS[1] the hold
-- ARGV[1] the hold as written by its acquisition, ARGV[2] the TTL in ms
-- Returns 1 if renewed, 0 if the hold is gone (released by another owner,
-- or expired).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
