-- Reads a value with the sequence number of the last change (for watches).
-- KEYS[1] the value, KEYS[2] its version counter
-- Returns {seq, stored} where stored is '' when the value is absent.
return {redis.call('GET', KEYS[2]) or '0', redis.call('GET', KEYS[1]) or ''}
