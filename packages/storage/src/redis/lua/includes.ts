/**
 * Lua fragments shared by the scripts.
 *
 * TYPE_OF: TYPE returns a status table on Redis and a plain string on some emulators, and not
 * every emulator has redis.error_reply: typeOf and fail hide the differences (the emulator's
 * error comes back as a marked string that the backend turns into an error). It also knows
 * where a bitmap's parts live, so anything that replaces or deletes a key takes them along.
 *
 * BITMAP: reading and writing one chunk of a chunked bitmap (layout in ../chunks.ts).
 */
import { REDIS_CHUNK_BITS, SPARSE_LIMIT } from '../chunks.js';

export const TYPE_OF = `
local function fail(message)
  if redis.error_reply then return redis.error_reply(message) end
  return 'PORPOISE_SCRIPT_ERROR ' .. message
end
local function typeOf(key)
  local t = redis.call('TYPE', key)
  if type(t) == 'table' then t = t['ok'] end
  return t
end
-- Index member '<c>' is the dense chunk key:c<c>; 's<c>' is the sparse chunk key:s<c>.
local function partKey(key, member)
  if string.byte(member, 1) == 115 then return key .. ':s' .. string.sub(member, 2) end
  return key .. ':c' .. member
end
local function bitmapParts(key)
  local parts = {}
  for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do parts[#parts + 1] = partKey(key, member) end
  return parts
end
-- Setting a plain value over a bitmap must take the bitmap's chunks with it.
local function dropChunks(key)
  if typeOf(key) == 'zset' then
    for _, part in ipairs(bitmapParts(key)) do redis.call('DEL', part) end
  end
end
`;

export const BITMAP = `
local CHUNK_BITS = ${REDIS_CHUNK_BITS}
local SPARSE_LIMIT = ${SPARSE_LIMIT}
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
local function isDense(key, c)
  return redis.call('ZSCORE', key, c) ~= false
end
-- Make chunk c dense: its sparse offsets (if any) are set into the chunk string, which the
-- caller has either filled or made sure does not exist.
local function promote(key, c)
  local sparse = key .. ':s' .. c
  local packed = redis.call('GET', sparse)
  if packed then
    local chunk = key .. ':c' .. c
    bitfieldSet(chunk, decode(packed), 1)
    -- Bit-setting grows a string to twice the room it needs; BITOP rewrites it exactly.
    redis.call('BITOP', 'OR', chunk, chunk)
    redis.call('DEL', sparse)
    redis.call('ZREM', key, 's' .. c)
  end
  redis.call('ZADD', key, c, c)
end
-- Set packed offsets in chunk c: bit by bit into a dense chunk, appended to a sparse one
-- (which becomes dense past SPARSE_LIMIT offsets).
local function addBits(key, c, packed)
  if isDense(key, c) then
    bitfieldSet(key .. ':c' .. c, decode(packed), 1)
    return
  end
  local length = redis.call('APPEND', key .. ':s' .. c, packed)
  if length == #packed then redis.call('ZADD', key, c, 's' .. c) end
  if length > 3 * SPARSE_LIMIT then
    redis.call('DEL', key .. ':c' .. c)
    promote(key, c)
  end
end
-- OR byte pieces into chunk c. ARGV-style list from index 'first': chunk, byte offset,
-- bytes, ... for as long as the chunk is c; returns the index after them. A chunk that is
-- not dense yet is written directly, highest piece first: SETRANGE on a missing key allocates
-- exactly, later (lower) pieces never grow it. A dense chunk gets the pieces assembled in
-- tmp (a scratch key in the same slot) and ORed in by BITOP.
local function orPieces(key, c, list, first, tmp)
  local chunk = key .. ':c' .. c
  local last = first
  while last + 3 <= #list and list[last + 3] == c do last = last + 3 end
  if isDense(key, c) then
    redis.call('DEL', tmp)
    for i = last, first, -3 do redis.call('SETRANGE', tmp, list[i + 1], list[i + 2]) end
    redis.call('PEXPIRE', tmp, 60000)
    redis.call('BITOP', 'OR', chunk, chunk, tmp)
  else
    redis.call('DEL', chunk)
    for i = last, first, -3 do redis.call('SETRANGE', chunk, list[i + 1], list[i + 2]) end
    promote(key, c)
  end
  return last + 3
end
-- Clear packed offsets in chunk c; a missing chunk stays missing.
local function clearBits(key, c, packed)
  if isDense(key, c) then
    bitfieldSet(key .. ':c' .. c, decode(packed), 0)
    return
  end
  local sparse = key .. ':s' .. c
  local current = redis.call('GET', sparse)
  if not current then return end
  local drop = {}
  for _, o in ipairs(decode(packed)) do drop[o] = true end
  local kept = {}
  for i = 1, #current, 3 do
    local a, b, d = string.byte(current, i, i + 2)
    if not drop[a * 65536 + b * 256 + d] then kept[#kept + 1] = string.sub(current, i, i + 2) end
  end
  -- An emptied sparse chunk stays (as an empty string): the bitmap exists, with no bits set.
  redis.call('SET', sparse, table.concat(kept))
end
local function getBit(key, c, offset)
  if isDense(key, c) then return redis.call('GETBIT', key .. ':c' .. c, offset) end
  local current = redis.call('GET', key .. ':s' .. c)
  if not current then return 0 end
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
`;
