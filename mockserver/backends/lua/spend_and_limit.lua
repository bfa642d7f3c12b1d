-- A key's limit and its spend this month, read in one step. KEYS: 1 key hash, 2 key's monthly spend; ARGV[1] month.
local limit = redis.call('HGET', KEYS[1], 'limit')
if not limit then return {} end
return {limit, redis.call('HGET', KEYS[2], ARGV[1]) or '0'}
