-- The next request number, the scenario's generation and the governance settings' version, in one step.
-- KEYS: 1 sequence, 2 generation, 3 governance
return {redis.call('INCR', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0'),
        tonumber(redis.call('GET', KEYS[3]) or '0')}
