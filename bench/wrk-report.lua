-- wrk: print one machine-readable line at the end of a run, for bench/run.
-- Latencies are in microseconds; errors count socket errors, timeouts and
-- non-2xx/3xx answers together.

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d errors=%d\n",
    summary.requests, summary.duration,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max,
    e.connect + e.read + e.write + e.status + e.timeout))
end
