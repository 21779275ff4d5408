-- wrk script: each connection's requests walk distinct keys "/<prefix><thread>-<n>".
-- WRK_PREFIX (env) names the keys; WRK_METHOD=POST sends a 100-byte body with each.
-- WRK_EXPECT (default 200) is the status every answer must have. For 200 the harness reads
-- wrk's own "Non-2xx or 3xx responses" count (so any 2xx or 3xx passes; the node answers
-- these requests with 200 or an error); for any other status this script counts the
-- answers that differ and reports "unexpected_status N".
-- Cheap on purpose: wrk shares the two cores with the nodes it measures. Each request is
-- one concatenation (wrk.format builds a table and formats every header, per request),
-- and wrk hands answers to Lua (a table of headers each) only when a status must be
-- checked here. The bytes on the wire are what wrk.format would send.
local prefix = os.getenv("WRK_PREFIX") or "k"
local method = os.getenv("WRK_METHOD") or "GET"
local expect = tonumber(os.getenv("WRK_EXPECT") or "200")
local body = string.rep("v", 100)
local threads = {}
-- Globals, not locals: wrk's thread:set/get reach a thread's globals only.
id, n, unexpected = 0, 0, 0
local before_n, after_n  -- the request's text around the key's number

function setup(thread)
  thread:set("id", #threads)  -- replaces the global id above in that thread
  table.insert(threads, thread)
end

function request()
  if before_n == nil then  -- wrk.headers.Host is known once wrk.init has run
    before_n = method .. " /" .. prefix .. id .. "-"
    after_n = " HTTP/1.1\r\nHost: " .. wrk.headers["Host"] .. "\r\n"
    if method == "POST" then
      after_n = after_n .. "Content-Length: " .. #body .. "\r\n\r\n" .. body
    else
      after_n = after_n .. "\r\n"
    end
  end
  n = n + 1
  return before_n .. n .. after_n
end

if expect ~= 200 then
  function response(status, headers, body)
    if status ~= expect then unexpected = unexpected + 1 end
  end

  function done(summary, latency, requests)
    local total = 0
    for _, t in ipairs(threads) do total = total + t:get("unexpected") end
    io.write(string.format("unexpected_status %d\n", total))
  end
end
