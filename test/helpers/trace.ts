import type { Trace } from "../../src/simulate/trace.js";

/** A trace of per-minute request counts from `start` (epoch ms), in UTC, without gaps. */
export function traceOf(requests: ArrayLike<number>, start: number, source = "test"): Trace {
  const startMs = Float64Array.from({ length: requests.length }, (_, i) => start + i * 60_000);
  return {
    source,
    startMs,
    traceMs: startMs.slice(),
    requests: Float64Array.from(requests),
    intervalSeconds: 60,
    gaps: [],
    zeroRuns: [],
    zone: "UTC",
    speedup: 1,
    warnings: [],
  };
}
