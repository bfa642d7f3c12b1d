-- The admin reset under a prefix. ARGV[1] = prefix, ARGV[2] = "keys" (every key), "usage" (every total, bucket
-- and entry) or "alerts" (every alert delivery)
local p = ARGV[1]
if ARGV[2] == 'keys' then
  for _, id in ipairs(redis.call('ZRANGE', p .. 'keys', 0, -1)) do
    local secret = redis.call('HGET', p .. 'key:' .. id, 'secret_hash')
    if secret then redis.call('DEL', p .. 'keyhash:' .. secret) end
    redis.call('DEL', p .. 'key:' .. id)
  end
  redis.call('DEL', p .. 'keys')
elseif ARGV[2] == 'alerts' then
  for _, id in ipairs(redis.call('ZRANGE', p .. 'alerts', 0, -1)) do
    redis.call('DEL', p .. 'alert:' .. id, p .. 'alertclaim:' .. id)
  end
  redis.call('DEL', p .. 'alerts')
else
  for _, id in ipairs(redis.call('SMEMBERS', p .. 'tallied')) do
    redis.call('DEL', p .. 'tally:' .. id, p .. 'month:' .. id)
  end
  redis.call('DEL', p .. 'tallied', p .. 'org', p .. 'entries', p .. 'buckets')
end
return 1
