-- One governance setting set (or removed when ARGV[2] is ''), and the settings' version bumped.
-- KEYS: 1 settings hash, 2 their order (sorted set), 3 order counter, 4 version; ARGV: 1 kind\0name, 2 JSON value
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
    redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
  end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return redis.call('INCR', KEYS[4])
