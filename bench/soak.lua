-- wrk script for bench/soak: POSTs the samples' example requests in turn (each entry of $SOAK_BODIES
-- is "PATH BODYFILE", one a line) and prints one machine-readable summary line per run.
local requests = {}
local next_index = 1

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

init = function(args)
  for line in slurp(os.getenv("SOAK_BODIES")):gmatch("[^\r\n]+") do
    local path, file = line:match("^(%S+)%s+(.+)$")
    if path then
      requests[#requests + 1] = wrk.format("POST", path, {["Content-Type"] = "application/json"}, slurp(file))
    end
  end
  assert(#requests > 0, "no requests in " .. os.getenv("SOAK_BODIES"))
end

request = function()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end

done = function(summary, latency, requests)
  local e = summary.errors
  -- requests, duration (us), p50 (ms), p99 (ms), errors (socket errors, timeouts and non-2xx/3xx answers),
  -- p99.9 (ms), max (ms)
  io.write(string.format("SOAK\t%d\t%d\t%.3f\t%.3f\t%d\t%.3f\t%.3f\n", summary.requests, summary.duration,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      e.connect + e.read + e.write + e.status + e.timeout,
      latency:percentile(99.9) / 1000, latency.max / 1000))
end
