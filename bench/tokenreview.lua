-- wrk script of bench-webhook: POSTs TokenReview bodies as kube-apiserver
-- sends them, each with a token drawn at random from the file named by
-- the first script argument ("TOKEN USER" per line; only TOKEN is used).
-- A file of one "-" line makes a constant body with a fixed token.
local bodies = {}

local function review(token)
   return '{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1",' ..
      '"metadata":{"creationTimestamp":null},"spec":{"token":"' .. token ..
      '"},"status":{"user":{}}}'
end

function init(args)
   local path = args[1]
   local limit = tonumber(args[2] or "100000")
   for line in io.lines(path) do
      local token = line:match("^(%S+)")
      if token then
         bodies[#bodies + 1] = review(token)
         if #bodies >= limit then break end
      end
   end
   math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end

function request()
   local body = bodies[math.random(#bodies)]
   return wrk.format("POST", "/authenticate", { ["Content-Type"] = "application/json" }, body)
end
