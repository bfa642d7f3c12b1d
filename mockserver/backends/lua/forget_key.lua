-- A deleted key's own totals; the organization's and the report buckets stay.
-- KEYS: 1 key tallies, 2 key's monthly spend, 3 set of tallied keys; ARGV[1] = key id
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return 1
