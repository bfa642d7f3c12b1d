-- A key by its secret's digest, with its spend in a month (authentication and the limit check in one step).
-- KEYS[1] = hash index key; ARGV[1] = prefix, ARGV[2] = month ("" for none).
-- Returns {the key's fields (HGETALL), its spend that month}, or {} when unknown.
local id = redis.call('GET', KEYS[1])
if not id then return {} end
local spent = '0'
if ARGV[2] ~= '' then spent = redis.call('HGET', ARGV[1] .. 'month:' .. id, ARGV[2]) or '0' end
return {redis.call('HGETALL', ARGV[1] .. 'key:' .. id), spent}
