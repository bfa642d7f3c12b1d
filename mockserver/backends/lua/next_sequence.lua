-- The next request number and the scenario's generation, in one step. KEYS: 1 sequence, 2 generation
return {redis.call('INCR', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0')}
