-- Semaphore.Available and the check of one hold; reads only.
-- sem_lib.lua (the keys), queue.lua and counter.lua are prepended.
-- ARGV[1] 'a': returns the limit (the recorded one, else ARGV[2]) minus the
-- permits of the live holds; 'h': returns 1 if owner ARGV[2] has a live
-- hold of version ARGV[3], else 0.
if ARGV[1] == 'h' then
  local cur = redis.call('HGET', H, ARGV[2])
  if cur then
    local f = fields(cur)
    if f[1] == ARGV[3] and alive(f[3]) then
      return 1
    end
  end
  return 0
end
local used = 0
local hs = redis.call('HGETALL', H)
for i = 2, #hs, 2 do
  local f = fields(hs[i])
  if alive(f[3]) then
    used = used + tonumber(f[2])
  end
end
return math.max(recordedLimit(ARGV[2]) - used, 0)
