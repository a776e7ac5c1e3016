#!lua flags=allow-oom
--[[
  read: answer a list of read operations in one script call, so a read sees the keys of its
  locality group as one snapshot and its operations cannot be reordered by the server's
  script cache.

  Work is bounded: once the call has spent ARGV[1] ms (by the server clock) or put about
  ARGV[2] bytes in its reply, it stops at the next safe point and says where, and the client
  sends the rest in another call. The first operation always makes progress. Temporaries
  (ARGV[3]..) live only inside the call. 'allow-oom': reading must work on a full server; the
  few temporaries a call makes are deleted before it returns.

  KEYS: the keys the operations read (operations name them by index).
  ARGV[1]: work budget in ms. ARGV[2]: reply budget in bytes. ARGV[3]: temporary key base
    (in the keys' slot). ARGV[4]: number of operations. ARGV[5]: the operations (1-based,
    comma-separated) that begin a locality group: a call stops between operations only
    before one of them, so each group's operations share one snapshot. Then each operation:
    name, argument count, args.
    gb k chunk offset                 one bit -> 0 or 1
    ex mode from length tokens...     a bit expression (query.lua); mode 'count' or 'bytes';
                                      from: first chunk to evaluate (-1: a fresh start)
                                      -> count, or flat list: chunk, kind, payload, ...
                                      (kind 0 bytes, 1 packed offsets, 3 all-ones run to payload)
    hga k cursor                      hash fields and values -> { cursor, field, value, ... }
                                      (cursor '0': done)
    hg k field                        one hash field (false when absent)
    su mode position cursor k...      union of sets; mode 'count' or 'members' -> a count, or
                                      { 'position:cursor' or 'done', member, ... }
    sh k member                       set membership -> 0 or 1
    pc k...                           HyperLogLog union estimate
    get k | exi k | ttl k | dump k    GET, EXISTS, PTTL, DUMP
    hm dump...                        RESTORE HyperLogLog dumps into temporaries, PFCOUNT them
  The same source runs flagged no-writes (on replicas too) when no operation needs a
  temporary (the client knows which do).
  Returns: one result per operation done; when the call stopped inside an operation, its
    entry is { '__more', partial result, resume argument }, and operations after it are
    absent.
]]
-- @include base
-- @include bitmap
-- @include query

local budgetMs = tonumber(ARGV[1])
local replyBudget = tonumber(ARGV[2])
tmpBase = ARGV[3]
-- An emulator without TIME never runs out of time: its data is small.
local hasClock, started = pcall(clockMs)
local replyBytes = 0
-- The clock is read every few steps: a step is at most one chunk's work (well under 1 ms).
local steps = 0
local function exhausted()
  if replyBytes > replyBudget then return true end
  steps = steps + 1
  if steps % 4 ~= 0 then return false end
  return hasClock and clockMs() - started > budgetMs
end
local MORE = '__more'

local function checkKind(key, wanted)
  local t = typeOf(key)
  if t ~= wanted and t ~= 'none' then raise(WRONGTYPE) end
  return t
end

local handlers = {}

handlers.gb = function(a)
  return getBit(KEYS[tonumber(ARGV[a])], ARGV[a + 1], tonumber(ARGV[a + 2]))
end

-- One leaf's count, chunk by chunk where it lies.
local function countLeaf(i, from, first)
  local total = 0
  local info = leafOf(i)
  for _, c in ipairs(info.list) do
    if c >= from then
      if not first and exhausted() then return total, c end
      first = false
      if info.dense[c] then total = total + redis.call('BITCOUNT', denseLeaf(i, c))
      else total = total + sparseCount(sparseLeaf(i, c)) end
    end
  end
  return total, nil
end

-- The count of NOT x within the universe [0, bits): the universe's size less x's bits
-- inside it, chunk by chunk where x lies (a bucket of `not().counts()`), with no bitmap made.
local function countNot(i, bits, from, first)
  local total = 0
  if from < 0 then total = bits; from = 0 end
  local info = leafOf(i)
  for _, c in ipairs(info.list) do
    if c >= from then
      local start = c * CHUNK_BITS
      if start >= bits then break end
      if not first and exhausted() then return total, c end
      first = false
      local within = math.min(CHUNK_BITS, bits - start)
      if info.dense[c] then
        if within == CHUNK_BITS then total = total - redis.call('BITCOUNT', denseLeaf(i, c))
        else total = total - redis.call('BITCOUNT', denseLeaf(i, c), 0, within - 1, 'BIT') end
      else
        local seen = {}
        for _, o in ipairs(decode(sparseLeaf(i, c))) do
          if o < within and not seen[o] then seen[o] = true; total = total - 1 end
        end
      end
    end
  end
  return total, nil
end

handlers.ex = function(a, n, first)
  local mode = ARGV[a]
  local from = tonumber(ARGV[a + 1])
  local program = {}
  for j = a + 3, a + 2 + tonumber(ARGV[a + 2]) do program[#program + 1] = ARGV[j] end
  local counting = mode == 'count'
  if counting and #program == 2 and program[1] == 'k' then
    return countLeaf(tonumber(program[2]), from < 0 and 0 or from, first)
  end
  if counting and #program == 4 and program[1] == 'k' and program[3] == 'not' then
    return countNot(tonumber(program[2]), tonumber(program[4]), from, first)
  end
  local order, runs = plan(program)
  local total = 0
  local out = {}
  if from < 0 then
    -- The symbolic runs, once, at the start: all-ones chunks no leaf touches.
    for _, run in ipairs(runs) do
      if counting then
        total = total + (run[2] - run[1] - countWithin(order, run[1], run[2])) * CHUNK_BITS
      else
        local c = run[1]
        for _, data in ipairs(order) do
          if data >= run[2] then break end
          if data >= c then
            if data > c then out[#out + 1] = c; out[#out + 1] = 3; out[#out + 1] = data end
            c = data + 1
          end
        end
        if c < run[2] then out[#out + 1] = c; out[#out + 1] = 3; out[#out + 1] = run[2] end
      end
    end
    from = 0
  end
  for _, c in ipairs(order) do
    if c >= from then
      if not first and exhausted() then
        if counting then return total, c end
        return out, c
      end
      first = false
      local value = evaluate(program, c, counting, false)
      if value == true then
        if counting then total = total + CHUNK_BITS
        else out[#out + 1] = c; out[#out + 1] = 3; out[#out + 1] = c + 1 end
      elseif type(value) == 'table' and value.count then
        total = total + value.count
      elseif type(value) == 'table' then
        if counting then total = total + sparseCount(value.sparse)
        else
          out[#out + 1] = c; out[#out + 1] = 1; out[#out + 1] = value.sparse
          replyBytes = replyBytes + #value.sparse
        end
      elseif value then
        if counting then total = total + redis.call('BITCOUNT', value)
        elseif redis.call('BITCOUNT', value) > 0 then
          local bytes = redis.call('GET', value)
          out[#out + 1] = c; out[#out + 1] = 0; out[#out + 1] = bytes
          replyBytes = replyBytes + #bytes
        end
      end
      tmpCount = 0
    end
  end
  if counting then return total, nil end
  return out, nil
end

-- Hashes and sets this small are read whole; larger ones are scanned across calls.
local WHOLE = 2000

handlers.hga = function(a, n, first)
  local key = KEYS[tonumber(ARGV[a])]
  local cursor = ARGV[a + 1]
  checkKind(key, 'hash')
  if cursor == '' then
    if redis.call('HLEN', key) <= WHOLE then
      local flat = redis.call('HGETALL', key)
      table.insert(flat, 1, '0')
      return flat, nil
    end
    cursor = '0'
  end
  local out = { '' }
  repeat
    local page = redis.call('HSCAN', key, cursor, 'COUNT', 1000)
    cursor = page[1]
    for _, v in ipairs(page[2]) do
      out[#out + 1] = v
      replyBytes = replyBytes + #v
    end
  until cursor == '0' or exhausted()
  out[1] = cursor
  -- A scan that is not finished resumes from its cursor in the next call.
  if cursor ~= '0' then return out, cursor end
  return out, nil
end

handlers.hg = function(a)
  return redis.call('HGET', KEYS[tonumber(ARGV[a])], ARGV[a + 1])
end

handlers.su = function(a, n, first)
  local mode = ARGV[a]
  local position = tonumber(ARGV[a + 1])
  local cursor = ARGV[a + 2]
  local keys = {}
  for j = a + 3, a + n - 1 do keys[#keys + 1] = KEYS[tonumber(ARGV[j])] end
  if cursor == '' then
    local total = 0
    for _, key in ipairs(keys) do
      checkKind(key, 'set')
      total = total + redis.call('SCARD', key)
    end
    if mode == 'count' and #keys == 1 then return total, nil end
    if total <= 50000 then
      if mode == 'count' then
        local tmp = newTemp()
        redis.call('DEL', tmp)
        local i = 1
        while i <= #keys do
          local last = math.min(i + SLICE - 1, #keys)
          redis.call('SUNIONSTORE', tmp, tmp, unpack(keys, i, last))
          i = last + 1
        end
        local count = redis.call('SCARD', tmp)
        redis.call('DEL', tmp)
        return count, nil
      end
      local out = { 'done' }
      local seen = {}
      for _, key in ipairs(keys) do
        for _, m in ipairs(redis.call('SMEMBERS', key)) do
          if not seen[m] then seen[m] = true; out[#out + 1] = m; replyBytes = replyBytes + #m end
        end
      end
      return out, nil
    end
    position, cursor = 1, '0'
  end
  -- Large unions are scanned across calls; the client unions the pages.
  local out = { '' }
  while position <= #keys do
    local page = redis.call('SSCAN', keys[position], cursor, 'COUNT', 1000)
    cursor = page[1]
    for _, m in ipairs(page[2]) do out[#out + 1] = m; replyBytes = replyBytes + #m end
    if cursor == '0' then position = position + 1 end
    if position <= #keys and exhausted() then
      local state = position .. ':' .. cursor
      out[1] = state
      return out, state
    end
  end
  out[1] = 'done'
  return out, nil
end

handlers.sh = function(a)
  return redis.call('SISMEMBER', KEYS[tonumber(ARGV[a])], ARGV[a + 1])
end

handlers.pc = function(a, n)
  local keys = {}
  for j = a, a + n - 1 do keys[#keys + 1] = KEYS[tonumber(ARGV[j])] end
  if #keys <= SLICE then return redis.call('PFCOUNT', unpack(keys)) end
  local tmp = newTemp()
  redis.call('DEL', tmp)
  local i = 1
  while i <= #keys do
    local last = math.min(i + SLICE - 1, #keys)
    redis.call('PFMERGE', tmp, unpack(keys, i, last))
    i = last + 1
  end
  return redis.call('PFCOUNT', tmp)
end

handlers.get = function(a) return redis.call('GET', KEYS[tonumber(ARGV[a])]) end
handlers.exi = function(a) return redis.call('EXISTS', KEYS[tonumber(ARGV[a])]) end
handlers.ttl = function(a) return redis.call('PTTL', KEYS[tonumber(ARGV[a])]) end
handlers.dump = function(a) return redis.call('DUMP', KEYS[tonumber(ARGV[a])]) end

handlers.hm = function(a, n)
  local temps = {}
  for j = a, a + n - 1 do
    local temp = newTemp()
    redis.call('RESTORE', temp, 0, ARGV[j], 'REPLACE')
    temps[#temps + 1] = temp
  end
  if #temps == 0 then return 0 end
  return redis.call('PFCOUNT', unpack(temps))
end

local starts = {}
for index in string.gmatch(ARGV[5], '%d+') do starts[tonumber(index)] = true end

local function run()
  local out = {}
  local at = 6
  for index = 1, tonumber(ARGV[4]) do
    local name = ARGV[at]
    local n = tonumber(ARGV[at + 1])
    if index > 1 and starts[index] and exhausted() then return out end
    local result, resume = handlers[name](at + 2, n, index == 1)
    if resume ~= nil then
      out[#out + 1] = { MORE, result, resume }
      return out
    end
    -- A nil result (an absent value) must not end the reply's array early.
    if result == nil then result = false end
    out[#out + 1] = result
    at = at + 2 + n
  end
  return out
end

-- Redis keeps what a failed script wrote, so temporaries are deleted whatever happens.
local ok, result = pcall(run)
dropTemporaries()
if ok then return reply(result) end
return fail(messageOf(result))
