-- wrk script for the benchmark: spreads requests over the Host names in WRK_HOSTS (comma-separated; empty:
-- no Host header override) and prints one machine-readable line with the counts and latency percentiles.
-- summary.errors.status counts the responses wrk calls "Non-2xx or 3xx". WRK_CLOSE=1: a new connection per request.
local hosts = {}
for h in string.gmatch(os.getenv("WRK_HOSTS") or "", "[^,]+") do
  table.insert(hosts, h)
end
local i = 0
-- WRK_CLOSE=1: a new connection for every request.
local close = os.getenv("WRK_CLOSE") == "1"

request = function()
  local headers = {}
  if close then headers["Connection"] = "close" end
  if #hosts > 0 then
    i = i % #hosts + 1
    headers["Host"] = hosts[i]
  end
  return wrk.format("GET", "/", headers)
end

done = function(summary, latency, requests)
  local e = summary.errors
  local ps = { 50, 75, 90, 95, 99, 99.9 }
  local parts = {}
  for _, p in ipairs(ps) do
    table.insert(parts, string.format('"p%s":%d', tostring(p), latency:percentile(p)))
  end
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"latency_us":{"mean":%.1f,"stdev":%.1f,"max":%d,%s}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.max, table.concat(parts, ",")))
end
