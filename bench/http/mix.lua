-- wrk script: 90% GET of keys "/m<0..999>" (written beforehand), 10% POST to them.
local body = string.rep("v", 100)
math.randomseed(os.time())

function request()
  local path = "/m" .. math.random(0, 999)
  if math.random() < 0.1 then
    return wrk.format("POST", path, nil, body)
  end
  return wrk.format("GET", path)
end
