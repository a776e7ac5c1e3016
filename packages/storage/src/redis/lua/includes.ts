/**
 * Lua fragments shared by the scripts. TYPE returns a status table on Redis and a plain
 * string on some emulators, and not every emulator has redis.error_reply: typeOf and fail
 * hide the differences (the
 * emulator's error comes back as a marked string that the backend turns into an error).
 */
export const TYPE_OF = `
local function fail(message)
  if redis.error_reply then return redis.error_reply(message) end
  return 'PORPOISE_SCRIPT_ERROR ' .. message
end
-- Setting a plain value over a bitmap must take the bitmap's chunks with it.
local function dropChunks(key)
  local t = redis.call('TYPE', key)
  if type(t) == 'table' then t = t['ok'] end
  if t == 'zset' then
    for _, c in ipairs(redis.call('ZRANGE', key, 0, -1)) do redis.call('DEL', key .. ':c' .. c) end
  end
end
local function typeOf(key)
  local t = redis.call('TYPE', key)
  if type(t) == 'table' then t = t['ok'] end
  return t
end
`;
