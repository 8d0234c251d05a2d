-- Clear of a map, set, list or indexed map, in O(1) on the server.
-- readCounter and advanceCounter come from counter.lua, prepended.
-- KEYS[1] the version counter, KEYS[2..] the keys holding the elements
-- ARGV[1] the channel
-- Returns 1 if something was removed, 0 if it was empty.
-- UNLINK frees the elements in the background. Publishes seq(8) 'C':
-- watchers turn it into one removal per element from their copy, so the
-- elements are never sent anywhere.
-- As in every write script, the message is published before anything is
-- written and the counter is incremented last: a script stopped by an
-- error (a user not allowed to PUBLISH) has written nothing, and a
-- watcher that heard a change the counter does not reach re-reads.
if redis.call('EXISTS', unpack(KEYS, 2)) == 0 then
  return 0
end
local base, stored = readCounter(redis.call('GET', KEYS[1]))
local seq = tonumber(base) + 1
redis.call('PUBLISH', ARGV[1], struct.pack('>I8', seq) .. 'C')
redis.call('UNLINK', unpack(KEYS, 2))
advanceCounter(KEYS[1], base, stored)
return 1
