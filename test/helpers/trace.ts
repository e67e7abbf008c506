import type { FormationParams } from "../../src/simulate/model.js";
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

/**
 * The model tests' one process: 6000 requests a minute (100 a second, 0.1 per ms), 100 ms of
 * service, no random waiting (the backlog alone), random routing, Heroku's 30 s router timeout,
 * no boot time. Tests derive their other formations from it.
 */
export const fluidProcess: FormationParams = {
  capacityPerProcess: 6000,
  serviceTimeMs: 100,
  queueing: "fluid",
  routing: "random",
  routerTimeoutSeconds: 30,
  bootSeconds: 0,
};
