-- Shared by every script: errors, types, and calls that never unpack a caller-sized list.

local WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value'

-- Raise an error that the script's top level turns into an error reply (with fail()).
local function raise(message)
  error({ porpoise = message }, 0)
end

-- An error reply. Emulators without redis.error_reply get a marked string, which the backend
-- turns back into an error.
local function fail(message)
  if redis.error_reply then return redis.error_reply(message) end
  return 'PORPOISE_SCRIPT_ERROR ' .. message
end

-- The message of anything a pcall caught: ours, a Redis error table, or a Lua error.
local function messageOf(caught)
  if type(caught) == 'table' then
    if caught.porpoise then return caught.porpoise end
    if caught.err then return caught.err end
  end
  return tostring(caught)
end

-- TYPE returns a status table on Redis and a plain string on some emulators.
local function typeOf(key)
  local t = redis.call('TYPE', key)
  if type(t) == 'table' then t = t['ok'] end
  return t
end

-- HyperLogLogs are strings to Redis; their header tells them from plain values.
local function isHyperLogLog(key)
  return redis.call('GETRANGE', key, 0, 3) == 'HYLL'
end

-- Lua's unpack fails past about 8,000 values: send long lists in slices.
local SLICE = 1000
local function callSliced(command, key, list, from, to)
  from = from or 1
  to = to or #list
  local i = from
  while i <= to do
    local last = math.min(i + SLICE - 1, to)
    redis.call(command, key, unpack(list, i, last))
    i = last + 1
  end
end

-- Milliseconds on the server clock, for the work budget of a call.
local function clockMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- ioredis-mock's Lua turns only tables built by a constructor into arrays; rebuild a reply
-- that way there (real Redis needs nothing, and replies may be longer than unpack allows).
local function reply(value)
  if redis.error_reply or type(value) ~= 'table' then return value end
  local copy = {}
  for i = 1, #value do copy[i] = reply(value[i]) end
  return { unpack(copy) }
end
