-- KEYS[1] = key hash, KEYS[2] = ordered ids; ARGV[1] = prefix, ARGV[2] = id. Returns 1 when deleted.
local secret = redis.call('HGET', KEYS[1], 'secret_hash')
if not secret then return 0 end
redis.call('DEL', KEYS[1], ARGV[1] .. 'keyhash:' .. secret)
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
