/**
 * Small Lua scripts for the operations that must check a type or touch a bitmap's chunks
 * in one step. Each opens with the KEYS/ARGV it takes and what it returns.
 */
import { BITMAP, TYPE_OF } from './includes.js';

const WRONGTYPE = `fail('WRONGTYPE Operation against a key holding the wrong kind of value')`;

/**
 * clearbits: clear bits of a chunked bitmap without creating missing chunks.
 * KEYS[1]: the bitmap's index zset. ARGV: chunk index, packed offsets (3 bytes each), ...
 * Returns: 0.
 */
export const CLEARBITS = `${TYPE_OF}${BITMAP}
local t = typeOf(KEYS[1])
if t == 'none' then return 0 end
if t ~= 'zset' then return ${WRONGTYPE} end
for i = 1, #ARGV, 2 do clearBits(KEYS[1], ARGV[i], ARGV[i + 1]) end
return 0
`;

/**
 * getbit: one bit of a chunked bitmap.
 * KEYS[1]: the index zset. ARGV[1]: chunk index. ARGV[2]: offset within the chunk. Returns: 0 or 1.
 */
export const GETBIT = `${TYPE_OF}${BITMAP}
local t = typeOf(KEYS[1])
if t == 'none' then return 0 end
if t ~= 'zset' then return ${WRONGTYPE} end
return getBit(KEYS[1], ARGV[1], tonumber(ARGV[2]))
`;

/**
 * chunks: every chunk of a bitmap, for client-side evaluation across cluster slots.
 * KEYS[1]: the index zset. Returns: a flat array: chunk index, kind (0 bytes, 1 packed
 * offsets), payload, ... (WRONGTYPE for non-bitmaps).
 */
export const CHUNKS = `${TYPE_OF}
local t = typeOf(KEYS[1])
if t == 'none' then return {} end
if t ~= 'zset' then return ${WRONGTYPE} end
local out = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local bytes = redis.call('GET', partKey(KEYS[1], member))
  if bytes then
    local sparse = string.byte(member, 1) == 115
    out[#out + 1] = tonumber(sparse and string.sub(member, 2) or member)
    out[#out + 1] = sparse and 1 or 0
    out[#out + 1] = bytes
  end
end
return out
`;

/**
 * del: delete keys, with the chunks of any bitmap among them.
 * KEYS: the keys. Returns: 0.
 */
export const DEL = `${TYPE_OF}
for _, key in ipairs(KEYS) do
  dropChunks(key)
  redis.call('DEL', key)
end
return 0
`;

/**
 * expire: expire a key, with the chunks of a bitmap.
 * KEYS[1]: the key. ARGV[1]: milliseconds. Returns: 0.
 */
export const EXPIRE = `${TYPE_OF}
if typeOf(KEYS[1]) == 'zset' then
  for _, part in ipairs(bitmapParts(KEYS[1])) do redis.call('PEXPIRE', part, ARGV[1]) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 0
`;

/**
 * max: raise an integer value to ARGV[1] if it is lower or absent, keeping its expiry.
 * KEYS[1]: the value. ARGV[1]: the integer. Returns: 1 if raised, 0 otherwise.
 */
export const MAX = `${TYPE_OF}
local current = redis.call('GET', KEYS[1])
if current then
  if not string.match(tostring(current), '^%-?%d+$') then return fail('ERR value is not an integer') end
  if tonumber(current) >= tonumber(ARGV[1]) then return 0 end
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
`;

/**
 * hgetall: a hash as a flat field/value array (a script reply is never turned into a JS
 * object by the client, so fields like __proto__ survive).
 * KEYS[1]: the hash. Returns: field1, value1, ...
 */
export const HGETALL = `${TYPE_OF}
local t = typeOf(KEYS[1])
if t ~= 'hash' and t ~= 'none' then return ${WRONGTYPE} end
return redis.call('HGETALL', KEYS[1])
`;

/**
 * unioncard: cardinality of a union of sets (without sending the members anywhere).
 * KEYS: the sets. Returns: the count.
 */
export const UNIONCARD = `
if #KEYS == 1 then return redis.call('SCARD', KEYS[1]) end
return #redis.call('SUNION', unpack(KEYS))
`;

/**
 * storecard: store the cardinality of a union of sets or HyperLogLogs as a value.
 * KEYS[1]: destination. KEYS[2..]: sources. ARGV[1]: 'set' or 'hll'. Returns: the count.
 */
export const STORECARD = `${TYPE_OF}
local sources = {}
for i = 2, #KEYS do sources[#sources + 1] = KEYS[i] end
local n
if ARGV[1] == 'hll' then n = redis.call('PFCOUNT', unpack(sources))
elseif #sources == 1 then n = redis.call('SCARD', sources[1])
else n = #redis.call('SUNION', unpack(sources)) end
dropChunks(KEYS[1])
redis.call('SET', KEYS[1], string.format('%d', n))
return n
`;

/**
 * setvalue: a plain value, replacing whatever the key held (with a bitmap's chunks).
 * KEYS[1]: the key. ARGV[1]: the value. Returns: 0.
 */
export const SETVALUE = `${TYPE_OF}
dropChunks(KEYS[1])
redis.call('SET', KEYS[1], ARGV[1])
return 0
`;

/**
 * orchunks: OR whole chunks into a bitmap: the fast path for setting many bits at once. The
 * client packs a batch's offsets into chunk bytes; each chunk then costs a few SETRANGEs and
 * one BITOP instead of one bit-set per bit.
 * KEYS[1]: the bitmap's index zset. ARGV: chunk index, byte offset, bytes, ... (a chunk's
 * pieces consecutive).
 * Returns: 0.
 */
export const ORCHUNKS = `${TYPE_OF}${BITMAP}
local t = typeOf(KEYS[1])
if t ~= 'zset' and t ~= 'none' then return ${WRONGTYPE} end
local tmp = KEYS[1] .. ':o'
local i = 1
while i <= #ARGV do i = orPieces(KEYS[1], ARGV[i], ARGV, i, tmp) end
redis.call('DEL', tmp)
return 0
`;

/**
 * setbits: set scattered bits of a chunked bitmap in one call. A batch of events spread over
 * millions of ids touches a chunk a few bits at a time; one script per bitmap, with offsets
 * packed 3 bytes each, replaces a command per bit.
 * KEYS[1]: the bitmap's index zset. ARGV: chunk index, packed offsets, chunk index, ...
 * Returns: 0.
 */
export const SETBITS = `${TYPE_OF}${BITMAP}
local t = typeOf(KEYS[1])
if t ~= 'zset' and t ~= 'none' then return ${WRONGTYPE} end
for i = 1, #ARGV, 2 do addBits(KEYS[1], ARGV[i], ARGV[i + 1]) end
return 0
`;
