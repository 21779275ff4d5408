-- wrk script: 90% GET of keys "/m<0..999>" (written beforehand), 10% POST to them.
-- The 2,000 requests are built once (as wrk.format would send them): per request, wrk
-- only draws two random numbers here, so the script costs little of the two cores.
local body = string.rep("v", 100)
local gets, posts
math.randomseed(os.time())

function request()
  if gets == nil then  -- wrk.headers.Host is known once wrk.init has run
    gets, posts = {}, {}
    local host = " HTTP/1.1\r\nHost: " .. wrk.headers["Host"] .. "\r\n"
    for k = 0, 999 do
      gets[k] = "GET /m" .. k .. host .. "\r\n"
      posts[k] = "POST /m" .. k .. host .. "Content-Length: " .. #body .. "\r\n\r\n" .. body
    end
  end
  local k = math.random(0, 999)
  if math.random() < 0.1 then return posts[k] end
  return gets[k]
end
