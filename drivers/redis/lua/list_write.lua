-- List.Append, List.Insert, List.Set and List.Remove.
-- readCounter and advanceCounter come from counter.lua, prepended.
-- KEYS[1] the items (a Redis list), KEYS[2] the version counter
-- ARGV[1] the channel, ARGV[2] the operation: 'a' append, 'i' insert,
-- 's' set, 'r' remove, ARGV[3] the index (not negative; ignored by
-- append), ARGV[4] the value (ignored by remove)
-- Returns {1, index, old} (old: the replaced or removed item, '' for
-- append and insert), or {0} if the index is out of range.
-- Publishes seq(8) 'I'|'U'|'R' index(8) value ('R' has no value), before
-- writing (see clear.lua).
--
-- Redis lists have no insert or remove by index; the script pops the items
-- between the index and the nearer end and pushes them back, so it moves
-- min(index, len-index) items.
local list = KEYS[1]
local op = ARGV[2]
local n = redis.call('LLEN', list)
local i = tonumber(ARGV[3])
local v = ARGV[4]
local old = ''
local kind
if op == 'a' then
  i = n
  kind = 'I'
elseif op == 'i' then
  if i > n then
    return {0}
  end
  kind = 'I'
elseif op == 's' then
  if i >= n then
    return {0}
  end
  kind = 'U'
else
  if i >= n then
    return {0}
  end
  kind = 'R'
  v = ''
end
local base, stored = readCounter(redis.call('GET', KEYS[2]))
local seq = tonumber(base) + 1
redis.call('PUBLISH', ARGV[1], struct.pack('>I8', seq) .. kind .. struct.pack('>I8', i) .. v)
if op == 'a' then
  redis.call('RPUSH', list, v)
elseif op == 'i' then
  if i == n then
    redis.call('RPUSH', list, v)
  elseif i == 0 then
    redis.call('LPUSH', list, v)
  elseif i <= n - i then
    local head = redis.call('LPOP', list, i)
    redis.call('LPUSH', list, v)
    for k = #head, 1, -1 do
      redis.call('LPUSH', list, head[k])
    end
  else
    local tail = redis.call('RPOP', list, n - i)
    redis.call('RPUSH', list, v)
    for k = #tail, 1, -1 do
      redis.call('RPUSH', list, tail[k])
    end
  end
elseif op == 's' then
  old = redis.call('LINDEX', list, i)
  redis.call('LSET', list, i, v)
else
  if i == 0 then
    old = redis.call('LPOP', list)
  elseif i == n - 1 then
    old = redis.call('RPOP', list)
  elseif i < n - 1 - i then
    local head = redis.call('LPOP', list, i + 1)
    old = head[i + 1]
    for k = i, 1, -1 do
      redis.call('LPUSH', list, head[k])
    end
  else
    local tail = redis.call('RPOP', list, n - i)
    old = tail[n - i]
    for k = n - i - 1, 1, -1 do
      redis.call('RPUSH', list, tail[k])
    end
  end
end
advanceCounter(KEYS[2], base, stored)
return {1, i, old}
