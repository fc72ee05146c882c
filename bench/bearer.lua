-- wrk script of bench-forward-auth: GET / with a KaaS token as Bearer,
-- drawn at random from the file named by the first script argument
-- ("TOKEN USER" per line), and the Host header of the second.
local tokens = {}
local host

function init(args)
   for line in io.lines(args[1]) do
      local token = line:match("^(%S+)")
      if token then tokens[#tokens + 1] = token end
      if #tokens >= 100000 then break end
   end
   host = args[2]
   math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end

function request()
   return wrk.format("GET", "/", { ["Host"] = host, ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] })
end
