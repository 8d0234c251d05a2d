-- Reads a set with the sequence number of the last change (for watches).
-- KEYS[1] the elements, KEYS[2] the version counter
-- Returns {seq, {element, ...}}.
return {redis.call('GET', KEYS[2]) or '0', redis.call('SMEMBERS', KEYS[1])}
