-- wrk: POST /api/v1/introspect with a random token from a pool.
-- Arguments: the token file (one per line) and the Authorization header value.
local tokens = {}
local authorization

function init(args)
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = line
  end
  authorization = args[2]
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  local token = tokens[math.random(#tokens)]
  return wrk.format("POST", "/api/v1/introspect", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = authorization,
  }, "token=" .. token)
end
