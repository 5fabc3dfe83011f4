-- wrk: POST /api/v1/auth/login with one user's real credentials.
-- Arguments: email and password.
local body

function init(args)
  body = '{"email":"' .. args[1] .. '","password":"' .. args[2] .. '"}'
end

function request()
  return wrk.format("POST", "/api/v1/auth/login", { ["Content-Type"] = "application/json" }, body)
end
