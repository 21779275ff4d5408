-- wrk script: background write load at a steady pace. Each connection POSTs
-- "/bg/<n>" (n counting up, 1,000 keys round) with a 100-byte body, waiting WRK_DELAY_MS
-- (default 1) between its requests: one connection makes about 1,000 writes a second.
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "1")
local body = string.rep("b", 100)
local n = 0

function request()
  n = (n + 1) % 1000
  return wrk.format("POST", "/bg/" .. n, nil, body)
end

function delay()
  return delay_ms
end
