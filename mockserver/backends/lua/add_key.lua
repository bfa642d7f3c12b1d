-- A new key: its fields, its secret digest's index entry, its place in creation order.
-- KEYS: 1 key hash, 2 hash index, 3 ordered ids, 4 order counter; ARGV[1] = id, then field/value pairs
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SET', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], redis.call('INCR', KEYS[4]), ARGV[1])
return 1
