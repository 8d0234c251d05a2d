-- Semaphore.Release, an attempt given up, and what a session's end removes.
-- sem_lib.lua (the keys, settle), queue.lua and counter.lua are prepended.
-- ARGV[1] the channel, ARGV[2] the limit, ARGV[3] what is removed:
-- 'h' the hold of owner ARGV[4] if its version is ARGV[5]; 'o' the hold or
-- the place in the queue of owner ARGV[4] (an attempt given up); 's'
-- everything of session ARGV[4], whose lease is deleted too
-- Returns 1 if a live matching hold was released, else 0 (a hold whose
-- lease is gone had already ended). Publishes the version of each hold
-- removed, before removing it, but for a holder's own release of its live
-- hold ('h'): the holder learns from the reply (and reads the hold if the
-- reply is lost), and nobody else waits for it. It then grants the waiters
-- the removal lets in (see settle).
local ch, m, a = ARGV[1], ARGV[3], ARGV[4]
local released = 0
local function drop(o, f)
  local live = alive(f[3])
  if not (m == 'h' and live) then
    redis.call('PUBLISH', ch, f[1])
  end
  redis.call('HDEL', H, o)
  if live then
    released = 1
  end
end
if m == 's' then
  local hs = redis.call('HGETALL', H)
  for i = 1, #hs, 2 do
    local f = fields(hs[i + 1])
    if f[3] == a then
      drop(hs[i], f)
    end
  end
  local ws = redis.call('HGETALL', W)
  for i = 1, #ws, 2 do
    if fields(ws[i + 1])[2] == a then
      queueDrop(Q, {ws[i]}, W)
    end
  end
  redis.call('DEL', P .. a)
else
  local cur = redis.call('HGET', H, a)
  if cur then
    local f = fields(cur)
    if m == 'o' or f[1] == ARGV[5] then
      drop(a, f)
    end
  end
  if m == 'o' then
    queueDrop(Q, {a}, W)
  end
end
settle(ch, recordedLimit(ARGV[2]))
if idle() then
  redis.call('DEL', L)
end
return released
