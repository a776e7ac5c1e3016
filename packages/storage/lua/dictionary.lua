#!lua
--[[
  dictionary: one step on one shard of an id dictionary (src/dictionary.ts), atomically.

  A shard's keys share one hash tag (its locality group): its state hash, its forward
  buckets (id -> integer) and its reverse buckets (k mod 64 -> id, for the shard's k-th
  integer s + S*k). Bucket keys are built here from ARGV[5] and ARGV[6], as chunk keys are,
  because the reverse bucket of a new id depends on the integer it gets. The client bounds
  a call to DICTIONARY_CALL_ITEMS ids.

  KEYS[1]: the shard's state hash (fields next, shards, buckets), or the dictionary's config
    hash for 'config'.
  ARGV[1]: step. ARGV[2]: shards S. ARGV[3]: buckets per shard. ARGV[4]: shard s.
  ARGV[5]: key head ('PREFIX:dict:NAME:'). ARGV[6]: key tail (':{NAME.s}').
  ARGV[7..]: the step's arguments:
    config                       -> { shards, buckets } stored (set from ARGV[2..3] if new)
    resolve assign bucket id ... -> integers, false for a missing id when assign is '0'
    lookup k ...                 -> ids, false for an integer not handed out
    claim bucket id n            -> the integer id has afterwards (n when it had none)
    rename k from to             -> 1 when `to` owns k afterwards, else 0
    point bucket id n            -> 1 (id now maps to n)
    reassign bucket id n         -> id's integer: a fresh one when it mapped to n
  Returns: as listed; an error reply when the shard was created with other parameters or
    would hand out an integer past 2^32 - 1 (then nothing is written).
]]
-- @include base

local step = ARGV[1]
local S = tonumber(ARGV[2])
local B = tonumber(ARGV[3])
local s = tonumber(ARGV[4])
local head = ARGV[5]
local tail = ARGV[6]
local state = KEYS[1]
local REVERSE = 64
local MAX_INTEGER = 4294967295

if step == 'config' then
  if redis.call('HSETNX', state, 'shards', ARGV[2]) == 1 then
    redis.call('HSET', state, 'buckets', ARGV[3])
  end
  return reply({ redis.call('HGET', state, 'shards'), redis.call('HGET', state, 'buckets') })
end

-- Separate HGETs: an emulator's HMGET hands missing fields to Lua as objects, not false.
local storedShards = redis.call('HGET', state, 'shards')
local storedBuckets = redis.call('HGET', state, 'buckets')
if storedShards and (tonumber(storedShards) ~= S or tonumber(storedBuckets) ~= B) then
  return fail('ERR dictionary shard ' .. state .. ' has ' .. storedShards .. ' shards of ' .. storedBuckets ..
    ' buckets, not ' .. S .. ' of ' .. B .. ' (it was recreated under a running process?)')
end
local nextLocal = tonumber(redis.call('HGET', state, 'next') or '0')
local firstLocal = nextLocal

local function forwardKey(bucket) return head .. 'f:' .. bucket .. tail end
local function reverseKey(k) return head .. 'r:' .. math.floor(k / REVERSE) .. tail end
local function int(n) return string.format('%d', n) end

-- Reverse entries of integers handed out by this call, written per bucket at the end.
-- A call's new integers are consecutive: their reverse buckets change only every 64.
local pendingKeys = {}
local pendingFields = {}
local lastBucket = -1
local lastFields
local function remember(k, id)
  local bucket = math.floor(k / REVERSE)
  if bucket ~= lastBucket then
    local key = reverseKey(k)
    lastFields = pendingFields[key]
    if not lastFields then
      lastFields = {}
      pendingFields[key] = lastFields
      pendingKeys[#pendingKeys + 1] = key
    end
    lastBucket = bucket
  end
  lastFields[#lastFields + 1] = k % REVERSE
  lastFields[#lastFields + 1] = id
end

local function full()
  return fail('ERR dictionary shard ' .. state .. ' is full: its next integer would pass ' .. int(MAX_INTEGER) ..
    ', the largest bit offset')
end

local function finish()
  for i = 1, #pendingKeys do
    local key = pendingKeys[i]
    -- At most 2 * 64 values: within unpack's limits.
    redis.call('HSET', key, unpack(pendingFields[key]))
  end
  if nextLocal ~= firstLocal then
    redis.call('HSET', state, 'next', int(nextLocal), 'shards', ARGV[2], 'buckets', ARGV[3])
  end
end

-- Map id (in `bucket`) to the shard's next integer, overwriting what it had.
local function assign(bucket, id)
  local n = s + S * nextLocal
  redis.call('HSET', forwardKey(bucket), id, int(n))
  remember(nextLocal, id)
  nextLocal = nextLocal + 1
  return n
end

if step == 'resolve' then
  local assigning = ARGV[7] == '1'
  local out = {}
  if assigning and s + S * (nextLocal + (#ARGV - 7) / 2 - 1) > MAX_INTEGER then return full() end
  for j = 8, #ARGV, 2 do
    local key = forwardKey(ARGV[j])
    local id = ARGV[j + 1]
    if assigning then
      local n = s + S * nextLocal
      -- One command for a new id: set it only if absent, then it is ours.
      if redis.call('HSETNX', key, id, int(n)) == 1 then
        remember(nextLocal, id)
        nextLocal = nextLocal + 1
        out[#out + 1] = n
      else
        out[#out + 1] = tonumber(redis.call('HGET', key, id))
      end
    else
      local v = redis.call('HGET', key, id)
      if v then out[#out + 1] = tonumber(v) else out[#out + 1] = false end
    end
  end
  finish()
  return reply(out)
elseif step == 'lookup' then
  local out = {}
  for j = 7, #ARGV do
    local k = tonumber(ARGV[j])
    out[#out + 1] = redis.call('HGET', reverseKey(k), int(k % REVERSE))
  end
  return reply(out)
elseif step == 'claim' then
  local key = forwardKey(ARGV[7])
  if redis.call('HSETNX', key, ARGV[8], ARGV[9]) == 1 then return tonumber(ARGV[9]) end
  return tonumber(redis.call('HGET', key, ARGV[8]))
elseif step == 'rename' then
  local k = tonumber(ARGV[7])
  local key = reverseKey(k)
  local owner = redis.call('HGET', key, int(k % REVERSE))
  if owner ~= ARGV[8] and owner ~= ARGV[9] then return 0 end
  redis.call('HSET', key, int(k % REVERSE), ARGV[9])
  return 1
elseif step == 'point' then
  redis.call('HSET', forwardKey(ARGV[7]), ARGV[8], ARGV[9])
  return 1
elseif step == 'reassign' then
  local key = forwardKey(ARGV[7])
  local v = redis.call('HGET', key, ARGV[8])
  if v and v ~= ARGV[9] then return tonumber(v) end
  if s + S * nextLocal > MAX_INTEGER then return full() end
  local n = assign(ARGV[7], ARGV[8])
  finish()
  return n
end
return fail('ERR unknown dictionary step ' .. tostring(step))
