/**
 * atomic: apply a list of write operations as one step. Redis does not roll a script back
 * when it fails midway, so every key's type is checked first, against the types earlier
 * operations of the same list will have given it; only then is anything written.
 *
 * KEYS: every key the operations touch (operations refer to them by index).
 * ARGV[1]: index of the guard key (skip everything if it exists), or 0.
 * ARGV[2..]: operations, each: name, key index, argument count, arguments...
 *   setbits k n value chunk packedOffsets chunk packedOffsets ... | hincr k n field by ... | sadd/srem/pfadd k n members...
 *   set k 1 value | max k 1 value | storecard k n kind sourceIndex... | del 0 n keyIndex... | expire k 1 ms
 * Returns: 1 when applied, 0 when the guard key existed.
 */
import { BITMAP, TYPE_OF } from './includes.js';

export const ATOMIC = `${TYPE_OF}${BITMAP}
local guard = tonumber(ARGV[1])
if guard > 0 and redis.call('EXISTS', KEYS[guard]) == 1 then return 0 end

local ops = {}
local i = 2
while i <= #ARGV do
  local n = tonumber(ARGV[i + 2])
  local args = {}
  for j = 1, n do args[j] = ARGV[i + 2 + j] end
  ops[#ops + 1] = { name = ARGV[i], key = tonumber(ARGV[i + 1]), args = args }
  i = i + 3 + n
end

local types = {}
local values = {}
-- HyperLogLogs are strings to Redis; tell them apart from plain values by their magic, so
-- PFADD cannot fail halfway through the script on a plain value.
local function simulated(k)
  if types[k] == nil then
    local t = typeOf(KEYS[k])
    if t == 'string' and redis.call('GETRANGE', KEYS[k], 0, 3) == 'HYLL' then t = 'hll' end
    types[k] = t
  end
  return types[k]
end
local problem = nil
local function expect(k, wanted)
  local t = simulated(k)
  if t ~= 'none' and t ~= wanted then problem = 'WRONGTYPE Operation against a key holding the wrong kind of value' end
end

for _, op in ipairs(ops) do
  local name, k, args = op.name, op.key, op.args
  if name == 'setbits' then
    expect(k, 'zset')
    if args[1] == '1' and #args > 1 then types[k] = 'zset' end
  elseif name == 'hincr' then
    expect(k, 'hash'); if #args > 0 then types[k] = 'hash' end
  elseif name == 'sadd' then
    expect(k, 'set'); types[k] = 'set'
  elseif name == 'srem' then
    expect(k, 'set')
  elseif name == 'pfadd' then
    expect(k, 'hll'); types[k] = 'hll'
  elseif name == 'set' then
    types[k] = 'string'; values[k] = args[1]
  elseif name == 'max' then
    expect(k, 'string')
    local current = values[k]
    if current == nil and simulated(k) == 'string' then current = redis.call('GET', KEYS[k]) end
    if current and not string.match(tostring(current), '^%-?%d+$') then problem = 'ERR value is not an integer' end
    types[k] = 'string'; values[k] = nil
  elseif name == 'storecard' then
    for s = 2, #args do expect(tonumber(args[s]), args[1] == 'hll' and 'hll' or 'set') end
    types[k] = 'string'; values[k] = nil
  elseif name == 'del' then
    for _, idx in ipairs(args) do types[tonumber(idx)] = 'none'; values[tonumber(idx)] = nil end
  end
  if problem then return fail(problem) end
end

local function deleteKey(key)
  dropChunks(key)
  redis.call('DEL', key)
end

for _, op in ipairs(ops) do
  local name, key, args = op.name, KEYS[op.key], op.args
  if name == 'setbits' then
    for j = 2, #args, 2 do
      if args[1] == '1' then addBits(key, args[j], args[j + 1])
      elseif typeOf(key) == 'zset' then clearBits(key, args[j], args[j + 1]) end
    end
  elseif name == 'hincr' then
    for j = 1, #args, 2 do redis.call('HINCRBY', key, args[j], args[j + 1]) end
  elseif name == 'sadd' then
    redis.call('SADD', key, unpack(args))
  elseif name == 'srem' then
    redis.call('SREM', key, unpack(args))
  elseif name == 'pfadd' then
    redis.call('PFADD', key, unpack(args))
  elseif name == 'set' then
    dropChunks(key)
    redis.call('SET', key, args[1])
  elseif name == 'max' then
    local current = redis.call('GET', key)
    if not current then redis.call('SET', key, args[1])
    elseif tonumber(current) < tonumber(args[1]) then redis.call('SET', key, args[1], 'KEEPTTL') end
  elseif name == 'storecard' then
    local sources = {}
    for s = 2, #args do sources[#sources + 1] = KEYS[tonumber(args[s])] end
    local n
    if args[1] == 'hll' then n = redis.call('PFCOUNT', unpack(sources))
    elseif #sources == 1 then n = redis.call('SCARD', sources[1])
    else n = #redis.call('SUNION', unpack(sources)) end
    dropChunks(key)
    redis.call('SET', key, string.format('%d', n))
  elseif name == 'del' then
    for _, idx in ipairs(args) do deleteKey(KEYS[tonumber(idx)]) end
  elseif name == 'expire' then
    if typeOf(key) == 'zset' then
      for _, part in ipairs(bitmapParts(key)) do redis.call('PEXPIRE', part, args[1]) end
    end
    redis.call('PEXPIRE', key, args[1])
  end
end
return 1
`;
