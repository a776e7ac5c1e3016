-- Bit expressions over chunked bitmaps, evaluated chunk by chunk (used by read.lua).
--
-- A program is postfix: 'k' i | 'and' n | 'or' n | 'xor' n | 'andnot' | 'not' bits, where
-- leaf i is KEYS[i]. Only chunks where some leaf has data are evaluated one by one. Every
-- other chunk sees only empty leaves, so its value depends only on where it lies relative to
-- the NOT universes: those chunks are handled as runs, symbolically, and NOT over a 2^32
-- universe costs nothing for the chunks its operand never touched. A sparse chunk is counted
-- or returned as it is, and set into a temporary only when an operation needs a bitmap.
-- Temporaries are reused from chunk to chunk and deleted before the call returns.

local leaves = {}
-- A leaf's chunks, read once per call: dense[c], sparse[c] and the sorted chunk list. Every
-- listed chunk string must exist (one EXISTS per leaf): a missing one was evicted.
local function leafOf(i)
  local info = leaves[i]
  if info ~= nil then return info end
  local key = KEYS[i]
  local t = typeOf(key)
  if t ~= 'zset' and t ~= 'none' then raise(WRONGTYPE) end
  info = { dense = {}, sparse = {}, list = {} }
  if t == 'zset' then
    local seen = {}
    local members = redis.call('ZRANGE', key, 0, -1)
    local parts = {}
    for _, member in ipairs(members) do
      local c
      local kind = string.byte(member, 1)
      if kind == 120 then lostChunk(key, member) end
      if kind == 115 then
        c = tonumber(string.sub(member, 2)); info.sparse[c] = true
      else
        c = tonumber(member); info.dense[c] = true
      end
      parts[#parts + 1] = partKey(key, member)
      if not seen[c] then seen[c] = true; info.list[#info.list + 1] = c end
    end
    local found = 0
    local j = 1
    while j <= #parts do
      local last = math.min(j + SLICE - 1, #parts)
      found = found + redis.call('EXISTS', unpack(parts, j, last))
      j = last + 1
    end
    if found < #parts then
      for m = 1, #members do
        if redis.call('EXISTS', parts[m]) == 0 then lostChunk(key, members[m]) end
      end
    end
    table.sort(info.list)
  end
  leaves[i] = info
  return info
end

-- A dense leaf chunk's key (its existence was checked with the leaf).
local function denseLeaf(i, c)
  return denseKey(KEYS[i], c)
end
local function sparseLeaf(i, c)
  return redis.call('GET', sparseKey(KEYS[i], c)) or ''
end

local tmpBase = nil
local created = {}
local tmpCount = 0
local fullKey = nil
local function newTemp()
  tmpCount = tmpCount + 1
  local name = tmpBase .. tmpCount
  if not created[name] then
    created[name] = true
    created[#created + 1] = name
  end
  return name
end
local function fullChunk()
  if fullKey == nil then
    fullKey = tmpBase .. 'full'
    created[#created + 1] = fullKey
    redis.call('SET', fullKey, string.rep('\255', CHUNK_BITS / 8))
  end
  return fullKey
end
local function dropTemporaries()
  local i = 1
  while i <= #created do
    local last = math.min(i + SLICE - 1, #created)
    redis.call('DEL', unpack(created, i, last))
    i = last + 1
  end
end

local function bitop(op, sources)
  -- BITOP slows sharply past 16 sources: fold wide operations in steps of 16.
  local acc = nil
  local i = 1
  while i <= #sources do
    local batch = {}
    if acc then batch[1] = acc end
    while #batch < 16 and i <= #sources do batch[#batch + 1] = sources[i]; i = i + 1 end
    local dest = newTemp()
    redis.call('BITOP', op, dest, unpack(batch))
    acc = dest
  end
  return acc
end

-- A value is false (empty chunk), true (all ones), a key name holding the chunk, or
-- { sparse = packed offsets } for a sparse leaf chunk not yet needed as a bitmap.
local function asBitmap(v)
  if type(v) ~= 'table' then return v end
  if #v.sparse == 0 then return false end
  local temp = newTemp()
  redis.call('DEL', temp)
  bitfieldSet(temp, decode(v.sparse), 1)
  return temp
end

-- Where a chunk string has set bits: its first set byte and its length, read once per call
-- (a cohort reads the same chunks for many expressions).
local spans = {}
local function spanOf(key)
  local span = spans[key]
  if span == nil then
    local first = redis.call('BITPOS', key, 1)
    span = { first = first < 0 and -1 or math.floor(first / 8), length = redis.call('STRLEN', key) }
    -- Temporaries change from chunk to chunk; stored chunks do not during one call.
    if string.sub(key, 1, #tmpBase) ~= tmpBase then spans[key] = span end
  end
  return span
end
-- The count of an AND of chunk strings. An AND is empty outside the bytes where every operand
-- has bits; when that window is much narrower than the operands (a week of signups, which
-- are consecutive ids, against a whole month of activity), only the window is copied and
-- ANDed instead of the full strings.
local function countAnd(keys)
  local lo, hi, widest = 0, math.huge, 0
  for _, key in ipairs(keys) do
    local span = spanOf(key)
    if span.first < 0 then return 0 end
    if span.first > lo then lo = span.first end
    if span.length < hi then hi = span.length end
    if span.length > widest then widest = span.length end
  end
  if hi <= lo then return 0 end
  if (hi - lo) * 4 > widest then return redis.call('BITCOUNT', bitop('AND', keys)) end
  local windows = {}
  for i, key in ipairs(keys) do
    local window = newTemp()
    redis.call('SET', window, redis.call('GETRANGE', key, lo, hi - 1))
    windows[i] = window
  end
  return redis.call('BITCOUNT', bitop('AND', windows))
end

-- The universe [0, bits) within chunk c: false, true, or a temporary holding a partial chunk
-- (made once per call for each universe: every bucket of a range shares it).
local partialUniverses = {}
local function universeAt(bits, c)
  local first = c * CHUNK_BITS
  if first >= bits then return false end
  if first + CHUNK_BITS <= bits then return true end
  local universe = partialUniverses[bits]
  if universe == nil then
    local within = bits - first
    local bytes = string.rep('\255', math.floor(within / 8))
    if within % 8 > 0 then bytes = bytes .. string.char(256 - 2 ^ (8 - within % 8)) end
    universe = tmpBase .. 'u' .. bits
    created[#created + 1] = universe
    redis.call('SET', universe, bytes)
    partialUniverses[bits] = universe
  end
  return universe
end

-- Whether `value` (false, true, a chunk key, or a sparse table) holds `offset`.
local function holds(value, offset)
  if value == false then return false end
  if value == true then return true end
  if type(value) == 'table' then
    if value.set == nil then
      value.set = {}
      for _, o in ipairs(decode(value.sparse)) do value.set[o] = true end
    end
    return value.set[offset] == true
  end
  return redis.call('GETBIT', value, offset) == 1
end

-- The offsets of sparse `value` that `keep(offset)` accepts, as a sparse value (or false).
local function filtered(value, keep)
  local out = {}
  local packed = value.sparse
  for i = 1, #packed, 3 do
    local a, b, d = string.byte(packed, i, i + 2)
    if keep(a * 65536 + b * 256 + d) then out[#out + 1] = string.sub(packed, i, i + 2) end
  end
  if #out == 0 then return false end
  return { sparse = table.concat(out) }
end

-- The program's value at chunk c; with `empty`, every leaf is taken as empty there. Sparse
-- chunks stay offsets where they can: an OR of sparse chunks joins their offsets, an AND (or
-- AND NOT) with a sparse operand keeps those of its offsets the others hold, so no bitmap is
-- built for them (unions and cohorts of small products).
local function evaluate(program, c, counting, empty)
  local stack = {}
  local q = 1
  while q <= #program do
    local token = program[q]
    if token == 'k' then
      local value = false
      if not empty then
        local i = tonumber(program[q + 1])
        local info = leafOf(i)
        if info.dense[c] then value = denseLeaf(i, c)
        elseif info.sparse[c] then
          local packed = sparseLeaf(i, c)
          if #packed > 0 then value = { sparse = packed } end
        end
      end
      stack[#stack + 1] = value
      q = q + 2
    elseif token == 'and' or token == 'or' or token == 'xor' then
      local n = tonumber(program[q + 1])
      local raw = {}
      for i = #stack - n + 1, #stack do raw[#raw + 1] = stack[i] end
      for _ = 1, n do stack[#stack] = nil end
      local result
      if token == 'and' then
        local keys = {}
        local smallest = nil
        result = true
        for _, v in ipairs(raw) do
          if v == false then result = false; break end
          if type(v) == 'table' and (smallest == nil or #v.sparse < #smallest.sparse) then smallest = v end
        end
        if result ~= false and smallest ~= nil then
          result = filtered(smallest, function(offset)
            for _, v in ipairs(raw) do
              if v ~= smallest and not holds(v, offset) then return false end
            end
            return true
          end)
        elseif result ~= false then
          for _, v in ipairs(raw) do if v ~= true then keys[#keys + 1] = v end end
          if #keys > 1 and counting and q + 1 == #program then
            result = { count = countAnd(keys) }
          elseif #keys > 0 then
            result = (#keys == 1) and keys[1] or bitop('AND', keys)
          end
        end
      elseif token == 'or' then
        local keys = {}
        local packed = {}
        result = false
        for _, v in ipairs(raw) do
          if v == true then result = true; break end
          if type(v) == 'table' then packed[#packed + 1] = v.sparse
          elseif v ~= false then keys[#keys + 1] = v end
        end
        if result ~= true then
          if #packed > 0 then
            local joined = { sparse = table.concat(packed) }
            if #keys == 0 then result = joined else keys[#keys + 1] = asBitmap(joined) end
          end
          if #keys > 0 then result = (#keys == 1) and keys[1] or bitop('OR', keys) end
        end
      else
        local keys = {}
        local flip = false
        for _, raw_v in ipairs(raw) do
          local v = asBitmap(raw_v)
          if v == true then flip = not flip elseif v ~= false then keys[#keys + 1] = v end
        end
        if #keys == 0 then result = flip
        else
          if flip then keys[#keys + 1] = fullChunk() end
          result = (#keys == 1) and keys[1] or bitop('XOR', keys)
        end
      end
      stack[#stack + 1] = result
      q = q + 2
    elseif token == 'andnot' then
      local rawRight = stack[#stack]
      local rawLeft = stack[#stack - 1]
      stack[#stack] = nil
      stack[#stack] = nil
      local result
      if rawLeft == false or rawRight == true then result = false
      elseif rawRight == false then result = rawLeft
      elseif type(rawLeft) == 'table' then
        result = filtered(rawLeft, function(offset) return not holds(rawRight, offset) end)
      else
        local right = asBitmap(rawRight)
        local l = rawLeft
        if l == true then l = fullChunk() end
        if right == false then result = rawLeft
        else
          -- l AND NOT r == l XOR (l AND r), whatever the string lengths.
          result = bitop('XOR', { l, bitop('AND', { l, right }) })
        end
      end
      stack[#stack + 1] = result
      q = q + 1
    else -- 'not'
      local inner = asBitmap(stack[#stack])
      stack[#stack] = nil
      local universe = universeAt(tonumber(program[q + 1]), c)
      local result
      if universe == false or inner == true then result = false
      elseif inner == false then result = universe
      else
        local u = universe
        if u == true then u = fullChunk() end
        result = bitop('XOR', { u, bitop('AND', { u, inner }) })
      end
      stack[#stack + 1] = result
      q = q + 2
    end
  end
  return stack[1]
end

-- Chunks to evaluate one by one (every chunk of a leaf, and each chunk a NOT universe ends
-- inside), ascending; and the runs [first, stop) of the other chunks where the program is all
-- ones (empty leaves inside a universe).
local function plan(program)
  local chunks = {}
  local universes = {}
  local p = 1
  while p <= #program do
    local token = program[p]
    if token == 'andnot' then p = p + 1
    else
      if token == 'k' then
        for _, c in ipairs(leafOf(tonumber(program[p + 1])).list) do chunks[c] = true end
      elseif token == 'not' then
        universes[#universes + 1] = tonumber(program[p + 1])
      end
      p = p + 2
    end
  end
  local bounds = { [0] = true }
  for _, bits in ipairs(universes) do
    local whole = math.floor(bits / CHUNK_BITS)
    bounds[whole] = true
    if bits % CHUNK_BITS ~= 0 then
      chunks[whole] = true
      bounds[whole + 1] = true
    end
  end
  local order = {}
  for c in pairs(chunks) do order[#order + 1] = c end
  table.sort(order)
  local edges = {}
  for c in pairs(bounds) do edges[#edges + 1] = c end
  table.sort(edges)
  local runs = {}
  for e = 1, #edges - 1 do
    local first, stop = edges[e], edges[e + 1]
    if not (stop - first == 1 and chunks[first]) and evaluate(program, first, true, true) == true then
      runs[#runs + 1] = { first, stop }
    end
  end
  return order, runs
end

-- Number of values of the sorted list within [first, stop).
local function countWithin(sorted, first, stop)
  local function lowerBound(x)
    local lo, hi = 1, #sorted + 1
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if sorted[mid] < x then lo = mid + 1 else hi = mid end
    end
    return lo
  end
  return lowerBound(stop) - lowerBound(first)
end
