-- KEYS[1] = key hash; ARGV[1] = limit (decimal text, "" for none). Returns the key's fields, or {} when unknown.
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
if ARGV[1] == '' then redis.call('HDEL', KEYS[1], 'limit') else redis.call('HSET', KEYS[1], 'limit', ARGV[1]) end
return redis.call('HGETALL', KEYS[1])
