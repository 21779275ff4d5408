-- wrk script: compare-and-set loops. Each thread (run with as many connections as
-- threads: one each) owns the key "/<WRK_PREFIX><thread>" and PUTs it over and over with
-- If-Match on the ETag of its last answer (If-None-Match: * first); a 412 hands it the
-- current ETag to try again with. Every request is a conditional write the key's owner
-- decides, so wrk's latency is a conditional PUT's. The done() summary prints how many
-- answers were 200, 412 and anything else.
local prefix = os.getenv("WRK_PREFIX") or "cas-"
local body = string.rep("v", 100)
local threads = {}
id, etag, ok, failed, other = 0, nil, 0, 0, 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function request()
  local cond
  if etag == nil then
    cond = "If-None-Match: *"
  else
    cond = "If-Match: " .. etag
  end
  return "PUT /" .. prefix .. id .. " HTTP/1.1\r\nHost: " .. wrk.headers["Host"] .. "\r\n" ..
         cond .. "\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body
end

function response(status, headers, _)
  if status == 200 then
    ok = ok + 1
  elseif status == 412 then
    failed = failed + 1
  else
    other = other + 1
  end
  local tag = headers["ETag"] or headers["etag"]
  if tag ~= nil then etag = tag end
end

function done()
  local sum_ok, sum_failed, sum_other = 0, 0, 0
  for _, t in ipairs(threads) do
    sum_ok = sum_ok + t:get("ok")
    sum_failed = sum_failed + t:get("failed")
    sum_other = sum_other + t:get("other")
  end
  io.write(string.format("cas_answers ok=%d precondition_failed=%d other=%d\n", sum_ok,
                         sum_failed, sum_other))
end
