-- wrk script for bench/run: POSTs the body in $BENCH_BODY with the request headers listed in
-- $BENCH_HEADERS (one "Name: value" per line) and prints one machine-readable summary line.
local function slurp(path, mode)
  local f = assert(io.open(path, mode))
  local s = f:read("*a")
  f:close()
  return s
end

wrk.method = "POST"
wrk.body = slurp(os.getenv("BENCH_BODY"), "rb")
for line in slurp(os.getenv("BENCH_HEADERS"), "r"):gmatch("[^\r\n]+") do
  local name, value = line:match("^([^:]+):%s*(.-)%s*$")
  if name then
    wrk.headers[name] = value
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  -- requests, duration (us), p50 (ms), p99 (ms), errors (socket errors and non-2xx/3xx answers)
  io.write(string.format("BENCH\t%d\t%d\t%.3f\t%.3f\t%d\n", summary.requests, summary.duration,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      e.connect + e.read + e.write + e.status + e.timeout))
end
