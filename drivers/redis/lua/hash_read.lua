-- Reads a map or an indexed map with the sequence number of the last
-- change (for watches).
-- KEYS[1] the entries, KEYS[2] the version counter
-- Returns {seq, {key, stored, key, stored, ...}}.
return {redis.call('GET', KEYS[2]) or '0', redis.call('HGETALL', KEYS[1])}
