-- KEYS[1] = hash index key; returns the key's fields (HGETALL) or an empty list. ARGV[1] = prefix
local id = redis.call('GET', KEYS[1])
if not id then return {} end
return redis.call('HGETALL', ARGV[1] .. 'key:' .. id)
