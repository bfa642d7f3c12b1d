-- Put a scenario in force: new generation (rate windows are keyed by it), request counter back to 0.
-- KEYS: 1 scenario text, 2 generation, 3 sequence; ARGV[1] = the scenario (JSON)
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[3], 0)
return redis.call('INCR', KEYS[2])
