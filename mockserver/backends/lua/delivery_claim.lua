-- Claim a pending delivery for ARGV[1] milliseconds: 'ok', 'busy' (another worker holds it), or its final state.
-- KEYS: 1 the delivery's hash, 2 its claim key
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'gone' end
if state ~= 'pending' then return state end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 'ok' end
return 'busy'
