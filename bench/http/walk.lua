-- wrk script: each connection's requests walk distinct keys "/<prefix><thread>-<n>".
-- WRK_PREFIX (env) names the keys; WRK_METHOD=POST sends a 100-byte body with each.
-- Reports how many answers had a status other than the one expected (WRK_EXPECT).
local prefix = os.getenv("WRK_PREFIX") or "k"
local method = os.getenv("WRK_METHOD") or "GET"
local expect = tonumber(os.getenv("WRK_EXPECT") or "200")
local body = string.rep("v", 100)
local threads = {}
-- Globals, not locals: wrk's thread:set/get reach a thread's globals only.
id, n, unexpected = 0, 0, 0

function setup(thread)
  thread:set("id", #threads)  -- replaces the global id above in that thread
  table.insert(threads, thread)
end

function request()
  n = n + 1
  local path = "/" .. prefix .. id .. "-" .. n
  if method == "POST" then
    return wrk.format("POST", path, nil, body)
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status ~= expect then unexpected = unexpected + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("unexpected") end
  io.write(string.format("unexpected_status %d\n", total))
end
