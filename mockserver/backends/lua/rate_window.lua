-- Count one request in a key's fixed one-minute window, or refuse it (the rule of faults/ratelimit.py: count).
-- KEYS[1] = the window hash; ARGV: 1 now (seconds, text), 2 tokens, 3 rpm ("" for none), 4 tpm ("" for none), 5 window seconds
local now = tonumber(ARGV[1])
local tokens = tonumber(ARGV[2])
local rpm = tonumber(ARGV[3])
local tpm = tonumber(ARGV[4])
local span = tonumber(ARGV[5])
local w = redis.call('HMGET', KEYS[1], 'start', 'requests', 'tokens')
local start, requests, used = w[1], tonumber(w[2]), tonumber(w[3])
if not start or now - tonumber(start) >= span then
  start, requests, used = ARGV[1], 0, 0
end
local exceeded = ''
if rpm and requests + 1 > rpm then
  exceeded = 'requests'
elseif tpm and used + tokens > tpm then
  exceeded = 'tokens'
else
  requests, used = requests + 1, used + tokens
end
redis.call('HSET', KEYS[1], 'start', start, 'requests', requests, 'tokens', used)
redis.call('EXPIRE', KEYS[1], math.ceil(span) + 5)
return {start, requests, used, exceeded}
