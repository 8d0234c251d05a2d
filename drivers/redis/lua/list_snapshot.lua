-- Starts the iteration of a list longer than one page: reads the first page
-- with the sequence number of the last change and, if the list is still
-- longer than asked, copies it to a snapshot from which the iteration reads
-- its other pages.
-- KEYS[1] the items, KEYS[2] the version counter, KEYS[3] a fresh key for
-- the snapshot
-- ARGV[1] how many items to return (-1: all), ARGV[2] how long the
-- snapshot lives, in ms
-- Returns {seq, length, {item, ...}}. If the list is longer than asked,
-- the script copies it to KEYS[3], expiring after ARGV[2] ms, so the
-- iteration reads its other pages from a consistent snapshot.
local n = redis.call('LLEN', KEYS[1])
local count = tonumber(ARGV[1])
local items
if count < 0 or n <= count then
  items = redis.call('LRANGE', KEYS[1], 0, -1)
else
  items = redis.call('LRANGE', KEYS[1], 0, count - 1)
  redis.call('COPY', KEYS[1], KEYS[3], 'REPLACE')
  redis.call('PEXPIRE', KEYS[3], ARGV[2])
end
return {redis.call('GET', KEYS[2]) or '0', n, items}
