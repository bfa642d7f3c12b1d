-- Queue an alert delivery once: 0 when that crossing was queued before (by any worker).
-- KEYS: 1 the delivery's hash, 2 deliveries in order (sorted set), 3 order counter; ARGV: id, key id, url, body
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'key_id', ARGV[2], 'url', ARGV[3], 'body', ARGV[4], 'state', 'pending', 'attempts', '[]')
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
return 1
