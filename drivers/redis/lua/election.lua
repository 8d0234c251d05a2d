-- Every operation of an Election, and reading its term.
-- readCounter and advanceCounter come from counter.lua, prepended.
-- KEYS[1] the candidates in priority order (a Redis list; the leader first)
-- KEYS[2] a hash from candidate to the session it entered with
-- KEYS[3] a hash with the current 'term' and its 'leader'
-- KEYS[4] the event counter (never deleted)
-- KEYS[5] the prefix of session leases: KEYS[5] .. sessionID is the
-- lease of a session in this election's hash slot
-- ARGV[1] the channel, ARGV[2] the operation: 'term', 'enter', 'leave',
-- 'anoint', 'promote', 'evict' or 'drop' (the session ended: its lease is
-- deleted, so its candidates are dropped), ARGV[3] the candidate,
-- ARGV[4] the session ID (enter, drop), ARGV[5] the session TTL in ms
-- (enter: the lease is set with it)
--
-- Every run first removes the candidates whose session lease has expired,
-- then applies the operation. If the first candidate is then not the
-- leader of the stored term, the term is incremented: the term changes
-- exactly when the leader does, also when the leader's session expired
-- without anyone noticing until now. Any change is published.
--
-- Returns {status, seq, term, minttl, candidate...}: status 1, or 0 if the
-- candidate is not in the election (anoint, promote, evict); seq the event
-- counter; minttl the shortest time a candidate's lease has left in ms, -1
-- when there is no candidate.
-- Publishes seq(8) term(8) minttl+1(8) count(4) {len(4) candidate}...
-- The script reads, then publishes, then writes, and increments the event
-- counter last (see clear.lua): an error (a user not allowed to PUBLISH)
-- leaves nothing written.
local queue, sessions, state, events, leases = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local op, who = ARGV[2], ARGV[3]

-- The candidates whose lease is gone (for drop: also those of the session
-- that ends, whose lease is deleted below).
local alive, dead = {}, {}
local listChanged = false
local minttl = -1
for _, c in ipairs(redis.call('LRANGE', queue, 0, -1)) do
  local sid = redis.call('HGET', sessions, c)
  local ttl = -2
  if sid and not (op == 'drop' and sid == ARGV[4]) then
    ttl = redis.call('PTTL', leases .. sid)
  end
  if ttl == -2 then
    dead[#dead + 1] = c
    listChanged = true
  else
    alive[#alive + 1] = c
    if ttl >= 0 and (minttl < 0 or ttl < minttl) then
      minttl = ttl
    end
  end
end

local pos = 0
for i, c in ipairs(alive) do
  if c == who then
    pos = i
    break
  end
end

local status = 1
local entered, left = false, false
if op == 'enter' then
  if pos == 0 then
    alive[#alive + 1] = who
    entered = true
    listChanged = true
    local ttl = tonumber(ARGV[5])
    if minttl < 0 or ttl < minttl then
      minttl = ttl
    end
  end
elseif op == 'leave' or op == 'evict' then
  if pos == 0 then
    if op == 'evict' then
      status = 0
    end
  else
    table.remove(alive, pos)
    left = true
    listChanged = true
  end
elseif op == 'anoint' or op == 'promote' then
  if pos == 0 then
    status = 0
  elseif pos > 1 then
    local to = 1
    if op == 'promote' then
      to = pos - 1
    end
    table.remove(alive, pos)
    table.insert(alive, to, who)
    listChanged = true
  end
end

local leader = alive[1] or ''
local stored = redis.call('HMGET', state, 'term', 'leader')
local term = tonumber(stored[1]) or 0
local newTerm = leader ~= (stored[2] or '')
local termBase, termStored
if newTerm then
  termBase, termStored = readCounter(stored[1])
  term = tonumber(termBase) + 1
end
local changed = listChanged or newTerm

local seq = tonumber(redis.call('GET', events) or '0')
local seqBase, seqStored
if changed then
  seqBase, seqStored = readCounter(redis.call('GET', events))
  seq = tonumber(seqBase) + 1
  local parts = {struct.pack('>I8I8I8I4', seq, term, minttl + 1, #alive)}
  for _, c in ipairs(alive) do
    parts[#parts + 1] = struct.pack('>I4', #c) .. c
  end
  redis.call('PUBLISH', ARGV[1], table.concat(parts))
end

-- The writes.
if op == 'drop' then
  redis.call('DEL', leases .. ARGV[4])
end
for _, c in ipairs(dead) do
  redis.call('HDEL', sessions, c)
end
if op == 'enter' then
  redis.call('SET', leases .. ARGV[4], '1', 'PX', ARGV[5])
  if entered then
    redis.call('HSET', sessions, who, ARGV[4])
  end
elseif left then
  redis.call('HDEL', sessions, who)
end
if listChanged then
  redis.call('DEL', queue)
  for i = 1, #alive, 1000 do
    redis.call('RPUSH', queue, unpack(alive, i, math.min(i + 999, #alive)))
  end
end
if newTerm then
  if not termStored then
    redis.call('HSET', state, 'term', termBase)
  end
  redis.call('HINCRBY', state, 'term', 1)
  redis.call('HSET', state, 'leader', leader)
end
if changed then
  advanceCounter(events, seqBase, seqStored)
end

local reply = {status, seq, term, minttl}
for _, c in ipairs(alive) do
  reply[#reply + 1] = c
end
return reply
