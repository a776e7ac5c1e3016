#!lua
--[[
  write: apply a list of write operations, in order, as one script call.

  Every operation is checked before it runs (key type, integer values, counter overflow), so
  no operation stops halfway. Without 'atomic', an operation that fails its check is skipped
  and the first such failure is returned beside the others' effects (as a pipeline would);
  with 'atomic', any failing check fails the call before anything is written. The shebang
  makes Redis refuse the whole call up front when it is over maxmemory (a script that has
  begun to write may write past the limit), so an out-of-memory write applies nothing.

  KEYS: every key the operations touch (operations name them by index), plus the guard and
    the idempotency marker when present.
  ARGV[1]: 'atomic' or 'ops'.
  ARGV[2]: index of the guard key (skip everything if it exists), or 0. Atomic only.
  ARGV[3]: index of the idempotency marker key, or 0: when it exists the call was applied
    before and is skipped; otherwise it is set (with ARGV[4] ms to live) after applying.
  ARGV[4]: the marker's time to live in ms.
  ARGV[5..]: operations, each: name, key index, argument count, arguments...
    sb k n chunk packed ...      set bits (packed 3-byte offsets per chunk)
    cb k n chunk packed ...      clear bits
    oc k n chunk offset bytes ...  OR dense chunk pieces (a chunk's pieces consecutive)
    hi k n field by ...          increment hash fields
    sa|sr|pa k n member ...      SADD | SREM | PFADD
    set k 1 value | max k 1 value | sc k n kind source-index ... | del 0 n key-index ...
    exp k 1 ms
  Returns: { status, problem }: status 1 applied, 0 skipped by the guard, 2 skipped because
    the marker existed; problem is '' or the first failed check (non-atomic calls).
]]
-- @include base
-- @include bitmap

local atomic = ARGV[1] == 'atomic'
local guard = tonumber(ARGV[2])
local marker = tonumber(ARGV[3])
local markerTtl = tonumber(ARGV[4])

if guard > 0 and redis.call('EXISTS', KEYS[guard]) == 1 then return { 0, '' } end
if marker > 0 and redis.call('EXISTS', KEYS[marker]) == 1 then return { 2, '' } end

local ops = {}
local at = 5
while at <= #ARGV do
  local n = tonumber(ARGV[at + 2])
  ops[#ops + 1] = { name = ARGV[at], key = tonumber(ARGV[at + 1]), from = at + 3, to = at + 2 + n }
  at = at + 3 + n
end

-- What each key will be when an operation runs, given the operations before it: only
-- atomic calls need this (a non-atomic call checks each operation against the live key).
local MAX_SAFE = 9007199254740991
local kinds = {}
local fields = {}
local values = {}
-- Keys the call has replaced or deleted: their stored hash fields no longer count.
local cleared = {}
local function kindOf(k)
  if kinds[k] == nil then kinds[k] = typeOf(KEYS[k]) end
  return kinds[k]
end
-- Strings are told apart (HyperLogLog or plain value) only when it matters.
local function refined(k)
  local t = kindOf(k)
  if t == 'string' then
    t = isHyperLogLog(KEYS[k]) and 'hll' or 'plain'
    kinds[k] = t
  end
  return t
end
-- The first reason `op` cannot run, or nil; on success, records what it will leave behind.
local function check(op)
  local k, name = op.key, op.name
  local function expect(key, wanted)
    local t = kindOf(key)
    if t == 'none' or t == wanted then return false end
    if wanted == 'hll' and t == 'string' then return refined(key) ~= 'hll' end
    return true
  end
  if name == 'sb' or name == 'oc' then
    if expect(k, 'zset') then return WRONGTYPE end
    kinds[k] = 'zset'
  elseif name == 'cb' then
    if expect(k, 'zset') then return WRONGTYPE end
  elseif name == 'hi' then
    if expect(k, 'hash') then return WRONGTYPE end
    -- Current values, read in slices of HMGET (not one HGET per field).
    local unknown = {}
    for j = op.from, op.to, 2 do
      local field = ARGV[j]
      if not (fields[k] and fields[k][field] ~= nil) and not cleared[k] then unknown[#unknown + 1] = field end
    end
    local stored = {}
    if redis.error_reply then
      local i = 1
      while i <= #unknown do
        local last = math.min(i + SLICE - 1, #unknown)
        local values = redis.call('HMGET', KEYS[k], unpack(unknown, i, last))
        for v = 1, #values do stored[unknown[i + v - 1]] = values[v] end
        i = last + 1
      end
    else
      -- ioredis-mock's Lua bridge mangles HMGET replies: one field at a time there.
      for _, field in ipairs(unknown) do stored[field] = redis.call('HGET', KEYS[k], field) end
    end
    local pending = {}
    for j = op.from, op.to, 2 do
      local field = ARGV[j]
      local current = pending[field]
      if current == nil then current = fields[k] and fields[k][field] end
      if current == nil then
        local v = stored[field]
        current = (v == nil or v == false) and 0 or tonumber(v)
      end
      if current == nil then return 'ERR hash value is not an integer' end
      current = current + tonumber(ARGV[j + 1])
      if current > MAX_SAFE or current < -MAX_SAFE then
        return 'ERR increment or decrement would overflow: field ' .. field .. ' would leave the safe integer range'
      end
      pending[field] = current
    end
    fields[k] = fields[k] or {}
    for field, value in pairs(pending) do fields[k][field] = value end
    if op.to >= op.from then kinds[k] = 'hash' end
  elseif name == 'sa' then
    if expect(k, 'set') then return WRONGTYPE end
    kinds[k] = 'set'
  elseif name == 'sr' then
    if expect(k, 'set') then return WRONGTYPE end
    -- The set may be emptied (and so deleted): look again next time.
    kinds[k] = nil
  elseif name == 'pa' then
    if expect(k, 'hll') then return WRONGTYPE end
    kinds[k] = 'hll'
  elseif name == 'set' then
    kinds[k] = 'plain'; values[k] = ARGV[op.from]; fields[k] = nil; cleared[k] = true
  elseif name == 'max' then
    local t = kindOf(k)
    if t ~= 'none' and t ~= 'string' and t ~= 'plain' and t ~= 'hll' then return WRONGTYPE end
    if t ~= 'none' then
      local current = values[k]
      if current == nil and t ~= 'hll' then current = redis.call('GET', KEYS[k]) end
      if current == nil or not string.match(tostring(current), '^%-?%d+$') then
        -- A HyperLogLog is a string to Redis, but not a value to raise.
        if refined(k) == 'hll' then return WRONGTYPE end
        return 'ERR value is not an integer'
      end
    end
    kinds[k] = 'plain'; values[k] = '0'
  elseif name == 'sc' then
    local wanted = ARGV[op.from] == 'hll' and 'hll' or 'set'
    for j = op.from + 1, op.to do
      if expect(tonumber(ARGV[j]), wanted) then return WRONGTYPE end
    end
    kinds[k] = 'plain'; values[k] = '0'; fields[k] = nil; cleared[k] = true
  elseif name == 'del' then
    for j = op.from, op.to do
      local idx = tonumber(ARGV[j])
      kinds[idx] = 'none'; values[idx] = nil; fields[idx] = nil; cleared[idx] = true
    end
  end
  return nil
end

local function deleteKey(key)
  dropChunks(key)
  redis.call('DEL', key)
  forgetTtl(key)
end

-- The cardinality of a union of sets or HyperLogLogs, merged in slices (any number of sources).
local function unionCount(key, kind, from, to)
  if kind == 'hll' then
    if to - from < SLICE then
      local sources = {}
      for j = from, to do sources[#sources + 1] = KEYS[tonumber(ARGV[j])] end
      return redis.call('PFCOUNT', unpack(sources))
    end
    local tmp = key .. ':u'
    redis.call('DEL', tmp)
    local sources = {}
    for j = from, to do
      sources[#sources + 1] = KEYS[tonumber(ARGV[j])]
      if #sources == SLICE or j == to then redis.call('PFMERGE', tmp, unpack(sources)); sources = {} end
    end
    local n = redis.call('PFCOUNT', tmp)
    redis.call('DEL', tmp)
    return n
  end
  if from == to then return redis.call('SCARD', KEYS[tonumber(ARGV[from])]) end
  local tmp = key .. ':u'
  redis.call('DEL', tmp)
  local sources = {}
  for j = from, to do
    sources[#sources + 1] = KEYS[tonumber(ARGV[j])]
    if #sources == SLICE or j == to then redis.call('SUNIONSTORE', tmp, tmp, unpack(sources)); sources = {} end
  end
  local n = redis.call('SCARD', tmp)
  redis.call('DEL', tmp)
  return n
end

local function apply(op)
  local name, key = op.name, KEYS[op.key]
  if name == 'sb' then
    for j = op.from, op.to, 2 do addBits(key, ARGV[j], ARGV[j + 1]) end
  elseif name == 'cb' then
    for j = op.from, op.to, 2 do clearBits(key, ARGV[j], ARGV[j + 1]) end
  elseif name == 'oc' then
    local pieces = {}
    for j = op.from, op.to do pieces[#pieces + 1] = ARGV[j] end
    local tmp = key .. ':o'
    local i = 1
    while i <= #pieces do i = orPieces(key, pieces[i], pieces, i, tmp) end
  elseif name == 'hi' then
    for j = op.from, op.to, 2 do redis.call('HINCRBY', key, ARGV[j], ARGV[j + 1]) end
  elseif name == 'sa' or name == 'sr' or name == 'pa' then
    local command = name == 'sa' and 'SADD' or (name == 'sr' and 'SREM' or 'PFADD')
    local i = op.from
    while i <= op.to do
      local last = math.min(i + SLICE - 1, op.to)
      redis.call(command, key, unpack(ARGV, i, last))
      i = last + 1
    end
  elseif name == 'set' then
    dropChunks(key)
    redis.call('SET', key, ARGV[op.from])
    forgetTtl(key)
  elseif name == 'max' then
    local current = redis.call('GET', key)
    if not current then redis.call('SET', key, ARGV[op.from])
    elseif tonumber(current) < tonumber(ARGV[op.from]) then redis.call('SET', key, ARGV[op.from], 'KEEPTTL') end
  elseif name == 'sc' then
    local n = unionCount(key, ARGV[op.from], op.from + 1, op.to)
    dropChunks(key)
    redis.call('SET', key, string.format('%d', n))
    forgetTtl(key)
  elseif name == 'del' then
    for j = op.from, op.to do deleteKey(KEYS[tonumber(ARGV[j])]) end
  elseif name == 'exp' then
    local ms = ARGV[op.from]
    if typeOf(key) == 'zset' then
      local parts = bitmapParts(key)
      for i = 1, #parts do redis.call('PEXPIRE', parts[i], ms) end
    end
    redis.call('PEXPIRE', key, ms)
    forgetTtl(key)
  end
end

local problem = ''
if atomic then
  for i = 1, #ops do
    local reason = check(ops[i])
    if reason then return fail(reason) end
  end
  for i = 1, #ops do apply(ops[i]) end
else
  for i = 1, #ops do
    -- Each operation meets the keys as the ones before it left them.
    kinds = {}
    fields = {}
    values = {}
    cleared = {}
    local reason = check(ops[i])
    if reason then
      if problem == '' then problem = reason end
    else
      apply(ops[i])
    end
  end
end
if marker > 0 then redis.call('SET', KEYS[marker], '1', 'PX', markerTtl) end
return { 1, problem }
