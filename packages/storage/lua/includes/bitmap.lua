-- A chunked bitmap (layout in src/redis/chunks.ts): the index sorted set KEY lists its
-- chunks; member '<c>' is the dense chunk string KEY:c<c> (a native Redis bitmap), member
-- 's<c>' the sparse chunk string KEY:s<c> (offsets within the chunk, 3 bytes each,
-- appended, possibly repeated), member 'x<c>' marks chunk c as lost (see damage()). Chunks
-- are listed when created, with the index's expiry; a write to a bitmap whose index is gone
-- lists again every chunk it touches (see healing()).

local CHUNK_BITS = 1048576
local SPARSE_LIMIT = 256

local function denseKey(key, c) return key .. ':c' .. c end
local function sparseKey(key, c) return key .. ':s' .. c end

local function partKey(key, member)
  if string.byte(member, 1) == 115 then return key .. ':s' .. string.sub(member, 2) end
  return key .. ':c' .. member
end

local function bitmapParts(key)
  local parts = {}
  for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do parts[#parts + 1] = partKey(key, member) end
  return parts
end

-- Replacing or deleting a bitmap takes its chunks with it.
local function dropChunks(key)
  if typeOf(key) == 'zset' then
    local parts = bitmapParts(key)
    for i = 1, #parts do redis.call('DEL', parts[i]) end
  end
end

-- The index's remaining time to live, read once per call per bitmap (a script sees one
-- clock, so every part given it expires at the same instant as the index). -2: no index.
local indexTtls = {}
local function indexTtl(key)
  local ttl = indexTtls[key]
  if ttl == nil then
    ttl = redis.call('PTTL', key)
    indexTtls[key] = ttl
  end
  return ttl
end
local function forgetTtl(key) indexTtls[key] = nil end

-- Without an index (new, or lost to eviction or expiry) the chunk strings are the truth, and
-- every chunk a write touches is listed again. With one, the index is trusted: it lists
-- every chunk it ever had, since chunks are listed when created and an index is never
-- evicted alone under the eviction policies Porpoise accepts.
local function healing(key)
  return indexTtl(key) == -2
end

local adopted = {}
local CHUNKS = 4096
-- A write found a chunk string of a bitmap without an index: the index was lost, and other
-- chunks may have survived it. List every surviving chunk again (once per call: 8,192
-- names probed in slices of 1,000, about a millisecond).
local function adoptSurvivors(key)
  if adopted[key] then return end
  adopted[key] = true
  for _, form in ipairs({ 'c', 's' }) do
    for first = 0, CHUNKS - 1, 1000 do
      local names = {}
      for c = first, math.min(first + 999, CHUNKS - 1) do names[#names + 1] = key .. ':' .. form .. c end
      if redis.call('EXISTS', unpack(names)) > 0 then
        for i, name in ipairs(names) do
          if redis.call('EXISTS', name) == 1 then
            local c = first + i - 1
            redis.call('ZADD', key, c, form == 'c' and tostring(c) or ('s' .. c))
            redis.call('PERSIST', name)
          end
        end
      end
    end
  end
end

-- List part (chunk c as `member`) in the index, with the index's expiry. `created`: the
-- string did not exist before this write, so it has no expiry of its own yet.
local function list(key, c, member, part, created)
  local ttl = indexTtl(key)
  if ttl == -2 and not created then adoptSurvivors(key) end
  local added = redis.call('ZADD', key, c, member)
  if ttl > 0 then redis.call('PEXPIRE', part, ttl)
  elseif not created and ttl == -2 then redis.call('PERSIST', part) end
  return added
end

-- A chunk listed in a live index whose string is gone: its bits are lost. The index keeps a
-- mark ('x<c>'), so every later read of the bitmap says so instead of counting low.
local function damage(key, c)
  redis.call('ZADD', key, c, 'x' .. c)
end

-- Offsets within a chunk, packed as 3-byte big-endian integers.
local function decode(packed)
  local out = {}
  for i = 1, #packed, 3 do
    local a, b, c = string.byte(packed, i, i + 2)
    out[#out + 1] = a * 65536 + b * 256 + c
  end
  return out
end

-- One BITFIELD per 1000 bits: far cheaper than a SETBIT call per bit, and within unpack's limit.
local function bitfieldSet(target, offsets, value)
  local args = {}
  for i = 1, #offsets do
    local n = #args
    args[n + 1] = 'SET'; args[n + 2] = 'u1'; args[n + 3] = offsets[i]; args[n + 4] = value
    if n + 4 >= 4000 then redis.call('BITFIELD', target, unpack(args)); args = {} end
  end
  if #args > 0 then redis.call('BITFIELD', target, unpack(args)) end
end

-- Whether chunk c is dense: by the index when it is trusted, by the strings otherwise. A
-- listed dense chunk whose string is missing is marked damaged; the second result says so.
local function isDense(key, c)
  if healing(key) then return redis.call('EXISTS', denseKey(key, c)) == 1, false end
  if not redis.call('ZSCORE', key, c) then return false, false end
  if redis.call('EXISTS', denseKey(key, c)) == 0 then
    damage(key, c)
    return true, true
  end
  return true, false
end

-- Make chunk c dense: its sparse offsets (if any) are set into the dense string, which the
-- caller has either filled or made sure does not exist.
local function promote(key, c)
  local sparse = sparseKey(key, c)
  local dense = denseKey(key, c)
  local packed = redis.call('GET', sparse)
  if packed then
    bitfieldSet(dense, decode(packed), 1)
    -- Bit-setting grows a string to twice the room it needs; BITOP rewrites it exactly.
    redis.call('BITOP', 'OR', dense, dense)
    redis.call('DEL', sparse)
    redis.call('ZREM', key, 's' .. c)
  end
  list(key, c, tostring(c), dense, false)
end

-- Append packed offsets to sparse chunk c (which becomes dense past SPARSE_LIMIT offsets).
local function append(key, c, packed)
  local sparse = sparseKey(key, c)
  -- An emptied sparse chunk is an existing empty string: only a missing one is created here.
  local created = redis.call('EXISTS', sparse) == 0
  local length = redis.call('APPEND', sparse, packed)
  if length > 3 * SPARSE_LIMIT then
    promote(key, c)
    return
  end
  if healing(key) then
    list(key, c, 's' .. c, sparse, created)
  elseif created and list(key, c, 's' .. c, sparse, true) == 0 then
    -- Listed before, yet the string had to be created: the old one was lost.
    damage(key, c)
  end
end

-- Set packed offsets in chunk c: bit by bit into a dense chunk, appended to a sparse one.
local function addBits(key, c, packed)
  if isDense(key, c) then
    local dense = denseKey(key, c)
    bitfieldSet(dense, decode(packed), 1)
    if healing(key) then list(key, c, tostring(c), dense, false) end
    return
  end
  append(key, c, packed)
end

-- OR byte pieces into chunk c. List from index 'first': chunk, byte offset, bytes, ... for
-- as long as the chunk is c; returns the index after them. A chunk that is not dense yet is
-- written directly, highest piece first: SETRANGE on a missing key allocates exactly, later
-- (lower) pieces never grow it. A dense chunk gets the pieces assembled in tmp (a scratch
-- key in the same slot) and ORed in by BITOP.
local function orPieces(key, c, pieces, first, tmp)
  local dense = denseKey(key, c)
  local last = first
  while last + 3 <= #pieces and pieces[last + 3] == pieces[first] do last = last + 3 end
  if isDense(key, c) then
    redis.call('DEL', tmp)
    for i = last, first, -3 do redis.call('SETRANGE', tmp, pieces[i + 1], pieces[i + 2]) end
    redis.call('BITOP', 'OR', dense, dense, tmp)
    redis.call('DEL', tmp)
    if healing(key) then list(key, c, tostring(c), dense, false) end
  else
    for i = last, first, -3 do redis.call('SETRANGE', dense, pieces[i + 1], pieces[i + 2]) end
    promote(key, c)
  end
  return last + 3
end

-- Clear packed offsets in chunk c; a missing chunk stays missing.
local function clearBits(key, c, packed)
  local dense, lost = isDense(key, c)
  if lost then return end
  if dense then
    local dense = denseKey(key, c)
    bitfieldSet(dense, decode(packed), 0)
    if healing(key) then list(key, c, tostring(c), dense, false) end
    return
  end
  local sparse = sparseKey(key, c)
  local current = redis.call('GET', sparse)
  if not current then
    if not healing(key) and redis.call('ZSCORE', key, 's' .. c) then damage(key, c) end
    return
  end
  local drop = {}
  for _, o in ipairs(decode(packed)) do drop[o] = true end
  local kept = {}
  for i = 1, #current, 3 do
    local a, b, d = string.byte(current, i, i + 2)
    if not drop[a * 65536 + b * 256 + d] then kept[#kept + 1] = string.sub(current, i, i + 2) end
  end
  -- An emptied sparse chunk stays (as an empty string): the bitmap exists, with no bits set.
  -- KEEPTTL: the chunk keeps the expiry it shares with its index.
  redis.call('SET', sparse, table.concat(kept), 'KEEPTTL')
  if healing(key) then list(key, c, 's' .. c, sparse, false) end
end

-- A chunk listed in the index whose string is gone was evicted (or deleted behind our back):
-- answering without it would be silently wrong.
local function lostChunk(key, member)
  raise('PORPOISE_DATA_LOSS chunk ' .. member .. ' of bitmap ' .. key ..
    ' is listed but missing (evicted? Porpoise needs maxmemory-policy noeviction or volatile-*)')
end

-- One bit, read only (no damage mark: reads never write).
local function getBit(key, c, offset)
  local t = typeOf(key)
  if t ~= 'zset' and t ~= 'none' then raise(WRONGTYPE) end
  if t == 'zset' and redis.call('ZSCORE', key, 'x' .. c) then lostChunk(key, 'x' .. c) end
  local dense = denseKey(key, c)
  if redis.call('EXISTS', dense) == 1 then return redis.call('GETBIT', dense, offset) end
  local current = redis.call('GET', sparseKey(key, c))
  if not current then
    if t == 'zset' and (redis.call('ZSCORE', key, tostring(c)) or redis.call('ZSCORE', key, 's' .. c)) then
      lostChunk(key, tostring(c))
    end
    return 0
  end
  local pattern = string.char(math.floor(offset / 65536), math.floor(offset / 256) % 256, offset % 256)
  local from = 1
  while true do
    local at = string.find(current, pattern, from, true)
    if not at then return 0 end
    if (at - 1) % 3 == 0 then return 1 end
    from = at + 1
  end
end

-- Distinct offsets of a sparse chunk string.
local function sparseCount(packed)
  local seen = {}
  local n = 0
  for _, o in ipairs(decode(packed)) do
    if not seen[o] then seen[o] = true; n = n + 1 end
  end
  return n
end
