-- wrk: new sessions (steps 1-5) over kept-alive connections, as behind a
-- reverse proxy that pools its connections to the WGate: each request is a
-- logon POST without a session cookie, users LOAD00001..LOAD10000 in turn.
-- Built once per thread (init), as in steps.lua.
local requests = {}
function init(args)
  for k = 1, 10000 do
    local body = string.format(
      "~client=100&~login=LOAD%05d&~password=welcome&~language=EN&~transaction=FB03", k)
    requests[k] = wrk.format("POST", "/scripts/wgate/webgui/!",
      {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
  end
end
local i = 0
function request()
  i = i + 1
  return requests[(i % #requests) + 1]
end
