/**
 * bitquery: evaluate bit expressions over chunked bitmaps, chunk by chunk, server-side.
 * Several expressions travel in one call (a whole `counts` range, a whole cohort), so the
 * per-call work (type checks, reading each leaf's chunk list) is done once.
 *
 * KEYS: the index zsets of the expressions' leaf bitmaps (KEYS[i] is leaf i).
 * ARGV[1]: 'count' or 'bytes'.
 * ARGV[2]: a temporary key name in the leaves' slot; temporaries are ARGV[2]..n.
 * ARGV[3]: the number of expressions; then for each, its token count and its tokens, in
 *   postfix: 'k' i | 'and' n | 'or' n | 'xor' n | 'andnot' | 'not' bits.
 * Returns: an array with, per expression, 'count' -> its number of set bits; 'bytes' -> a
 *   flat array: chunk index, kind (0 bytes, 1 packed offsets, 2 all ones), payload, ...
 *
 * Empty and all-ones chunks are handled symbolically, so NOT over a 2^32 universe costs no
 * memory for chunks the operand never touched. A sparse chunk is counted or returned as it
 * is, and set into a temporary only when an operation needs it as a bitmap. Temporaries are
 * reused from chunk to chunk and deleted before the script returns, also when it fails.
 */
import { BITMAP, TYPE_OF } from './includes.js';

export const BITQUERY = `${TYPE_OF}${BITMAP}
local mode = ARGV[1]
local tmpBase = ARGV[2]
local chunkBytes = CHUNK_BITS / 8
for i = 1, #KEYS do
  local t = typeOf(KEYS[i])
  if t ~= 'zset' and t ~= 'none' then
    return fail('WRONGTYPE Operation against a key holding the wrong kind of value')
  end
end

local programs = {}
local at = 4
for p = 1, tonumber(ARGV[3]) do
  local length = tonumber(ARGV[at])
  local tokens = {}
  for j = 1, length do tokens[j] = ARGV[at + j] end
  programs[p] = tokens
  at = at + length + 1
end

-- Each leaf's chunks, read once for every expression of the call: dense[i][c] or sparse[i][c].
local dense = {}
local sparse = {}
local chunkLists = {}
for i = 1, #KEYS do
  dense[i] = {}
  sparse[i] = {}
  chunkLists[i] = {}
  for _, member in ipairs(redis.call('ZRANGE', KEYS[i], 0, -1)) do
    local c
    if string.byte(member, 1) == 115 then
      c = tonumber(string.sub(member, 2))
      sparse[i][c] = true
    else
      c = tonumber(member)
      dense[i][c] = true
    end
    chunkLists[i][#chunkLists[i] + 1] = c
  end
end

-- Candidate chunks of one expression: every chunk of its leaves, and every chunk below its
-- widest NOT universe.
local function candidatesOf(program)
  local candidates = {}
  local maxUniverse = 0
  local p = 1
  while p <= #program do
    local token = program[p]
    if token == 'andnot' then
      p = p + 1
    else
      if token == 'k' then
        for _, c in ipairs(chunkLists[tonumber(program[p + 1])]) do candidates[c] = true end
      elseif token == 'not' then
        local bits = tonumber(program[p + 1])
        if bits > maxUniverse then maxUniverse = bits end
      end
      p = p + 2
    end
  end
  for c = 0, math.ceil(maxUniverse / CHUNK_BITS) - 1 do candidates[c] = true end
  local order = {}
  for c in pairs(candidates) do order[#order + 1] = c end
  table.sort(order)
  return order
end

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
    redis.call('SET', fullKey, string.rep('\\255', chunkBytes))
  end
  return fullKey
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

local function evaluate(program, c, counting)
  local stack = {}
  local q = 1
  while q <= #program do
    local token = program[q]
    if token == 'k' then
      local leaf = tonumber(program[q + 1])
      local value = false
      if dense[leaf][c] then value = KEYS[leaf] .. ':c' .. c
      elseif sparse[leaf][c] then
        local packed = redis.call('GET', KEYS[leaf] .. ':s' .. c)
        if packed and #packed > 0 then value = { sparse = packed } end
      end
      stack[#stack + 1] = value
      q = q + 2
    elseif token == 'and' or token == 'or' or token == 'xor' then
      local n = tonumber(program[q + 1])
      local args = {}
      for i = #stack - n + 1, #stack do args[#args + 1] = asBitmap(stack[i]) end
      for i = 1, n do stack[#stack] = nil end
      local result
      if token == 'and' then
        local keys = {}
        result = true
        for _, v in ipairs(args) do
          if v == false then result = false; break end
          if v ~= true then keys[#keys + 1] = v end
        end
        if result ~= false and #keys > 1 and counting and q + 1 == #program then
          result = { count = countAnd(keys) }
        elseif result ~= false and #keys > 0 then
          result = (#keys == 1) and keys[1] or bitop('AND', keys)
        end
      elseif token == 'or' then
        local keys = {}
        result = false
        for _, v in ipairs(args) do
          if v == true then result = true; break end
          if v ~= false then keys[#keys + 1] = v end
        end
        if result ~= true and #keys > 0 then result = (#keys == 1) and keys[1] or bitop('OR', keys) end
      else
        local keys = {}
        local flip = false
        for _, v in ipairs(args) do
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
      local right = asBitmap(stack[#stack])
      local left = asBitmap(stack[#stack - 1])
      stack[#stack] = nil
      stack[#stack] = nil
      local result
      if left == false or right == true then result = false
      elseif right == false then result = left
      else
        local l = left
        if l == true then l = fullChunk() end
        -- l AND NOT r == l XOR (l AND r), whatever the string lengths.
        result = bitop('XOR', { l, bitop('AND', { l, right }) })
      end
      stack[#stack + 1] = result
      q = q + 1
    else -- 'not'
      local bits = tonumber(program[q + 1])
      local inner = asBitmap(stack[#stack])
      stack[#stack] = nil
      local first = c * CHUNK_BITS
      local universe
      if first >= bits then universe = false
      elseif first + CHUNK_BITS <= bits then universe = true
      else
        local within = bits - first
        local bytes = string.rep('\\255', math.floor(within / 8))
        if within % 8 > 0 then bytes = bytes .. string.char(256 - 2 ^ (8 - within % 8)) end
        universe = newTemp()
        redis.call('SET', universe, bytes)
      end
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

-- The most common query, one event's count per bucket: each chunk counted where it lies.
local function countLeaf(leaf)
  local total = 0
  for _, c in ipairs(chunkLists[leaf]) do
    if dense[leaf][c] then total = total + redis.call('BITCOUNT', KEYS[leaf] .. ':c' .. c)
    else
      local packed = redis.call('GET', KEYS[leaf] .. ':s' .. c)
      if packed then total = total + sparseCount(packed) end
    end
  end
  return total
end

local function run()
  local results = {}
  for r, program in ipairs(programs) do
    if mode == 'count' and #program == 2 and program[1] == 'k' then
      results[r] = countLeaf(tonumber(program[2]))
    else
      local total = 0
      local out = {}
      for _, c in ipairs(candidatesOf(program)) do
        local value = evaluate(program, c, mode == 'count')
        if value == true then
          if mode == 'count' then total = total + CHUNK_BITS
          else out[#out + 1] = c; out[#out + 1] = 2; out[#out + 1] = '' end
        elseif type(value) == 'table' and value.count then
          total = total + value.count
        elseif type(value) == 'table' then
          if mode == 'count' then total = total + sparseCount(value.sparse)
          else out[#out + 1] = c; out[#out + 1] = 1; out[#out + 1] = value.sparse end
        elseif value then
          local n = redis.call('BITCOUNT', value)
          if mode == 'count' then total = total + n
          elseif n > 0 then out[#out + 1] = c; out[#out + 1] = 0; out[#out + 1] = redis.call('GET', value) end
        end
        tmpCount = 0
      end
      if mode == 'count' then results[r] = total else results[r] = out end
    end
  end
  return results
end

-- Redis keeps what a failed script wrote, so temporaries are deleted whatever happens.
local ok, results = pcall(run)
if #created > 0 then redis.call('DEL', unpack(created)) end
if ok then return results end
if type(results) == 'table' and results.err then return fail(results.err) end
return fail(tostring(results))
`;
