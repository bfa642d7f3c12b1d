-- The admin reset under a prefix. ARGV[1] = prefix, ARGV[2] = "keys" (every key) or "usage" (every total and entry)
local p = ARGV[1]
if ARGV[2] == 'keys' then
  for _, id in ipairs(redis.call('ZRANGE', p .. 'keys', 0, -1)) do
    local secret = redis.call('HGET', p .. 'key:' .. id, 'secret_hash')
    if secret then redis.call('DEL', p .. 'keyhash:' .. secret) end
    redis.call('DEL', p .. 'key:' .. id)
  end
  redis.call('DEL', p .. 'keys')
else
  for _, id in ipairs(redis.call('SMEMBERS', p .. 'tallied')) do
    redis.call('DEL', p .. 'tally:' .. id, p .. 'month:' .. id)
  end
  redis.call('DEL', p .. 'tallied', p .. 'org', p .. 'entries')
end
return 1
