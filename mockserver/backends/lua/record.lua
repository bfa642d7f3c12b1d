-- One usage entry, atomically: per-key and organization tallies, the key's monthly spend, the report bucket,
-- the entry list (the latest ARGV[6] kept).
-- KEYS: 1 key tallies, 2 org tallies, 3 key's monthly spend, 4 entries list, 5 set of tallied keys, 6 buckets
-- ARGV: 1 model, 2 tokens, 3 cost (integer units), 4 month, 5 entry (JSON), 6 entries kept, 7 key id, 8 bucket (JSON)
for i = 1, 2 do
  redis.call('HINCRBY', KEYS[i], ARGV[1] .. '\0r', 1)
  redis.call('HINCRBY', KEYS[i], ARGV[1] .. '\0t', ARGV[2])
  redis.call('HINCRBY', KEYS[i], ARGV[1] .. '\0c', ARGV[3])
end
redis.call('HINCRBY', KEYS[6], ARGV[8] .. '\0r', 1)
redis.call('HINCRBY', KEYS[6], ARGV[8] .. '\0t', ARGV[2])
redis.call('HINCRBY', KEYS[6], ARGV[8] .. '\0c', ARGV[3])
redis.call('HINCRBY', KEYS[3], ARGV[4], ARGV[3])
redis.call('RPUSH', KEYS[4], ARGV[5])
redis.call('LTRIM', KEYS[4], -tonumber(ARGV[6]), -1)
redis.call('SADD', KEYS[5], ARGV[7])
return 1
