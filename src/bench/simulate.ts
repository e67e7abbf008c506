import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseConfig } from "../config/load.js";
import { printGoals } from "./goals.js";
import { baselineRuns } from "../simulate/baselines.js";
import { replayPolicy } from "../simulate/replay.js";
import { defaultSimulation } from "../simulate/schema.js";
import { bundledTrace, readTraceFile, type Trace } from "../simulate/trace.js";

/**
 * `npm run bench` (second part): how fast the simulator replays the four-week NASA trace
 * (../shared/traces/nasa-1995-07.csv beside the repository; the bundled day, repeated to four
 * weeks, when it is absent) through the real decision backends: minutes simulated per second,
 * best of a few rounds after a warm-up.
 */
const ROUNDS = 5;
const SHARED = fileURLToPath(new URL("../../../shared/traces/nasa-1995-07.csv", import.meta.url));

function repeated(trace: Trace, days: number): Trace {
  const n = trace.requests.length;
  const startMs = new Float64Array(n * days);
  const requests = new Float64Array(n * days);
  for (let i = 0; i < n * days; i++) {
    startMs[i] = trace.startMs[0]! + i * 60_000;
    requests[i] = trace.requests[i % n]!;
  }
  return { ...trace, source: `${trace.source} x${days} days`, startMs, traceMs: startMs, requests };
}

const simulation = defaultSimulation({ rateMultiplier: 100, noise: { seed: 1, stddevMs: 20 } });
const heartbeat = { backend: "response-time", url: "https://example.com/heartbeat" };
const configWith = (decision: Record<string, unknown>, measurement: Record<string, unknown> = heartbeat) => ({
  timezone: "America/New_York",
  simulation,
  processes: {
    web: {
      measurement,
      decision,
      scaling: { backend: "heroku", app: "bench-app" },
    },
  },
});
const bounds = { minProcesses: 2, maxProcesses: 40 };
const policies = {
  "consecutive-threshold": configWith({
    minMeasurement: 110,
    maxMeasurement: 200,
    failsToScaleUp: 1,
    ...bounds,
  }),
  "average-threshold": configWith({
    backend: "average-threshold",
    minMeasurement: 110,
    maxMeasurement: 200,
    ...bounds,
  }),
  "target-tracking": configWith({ backend: "target-tracking", targetValue: 150, ...bounds }),
  "on request-metrics": configWith(
    { backend: "target-tracking", targetValue: 60, ...bounds },
    { backend: "request-metrics", url: "https://example.com/heartbeat" },
  ),
  "with time-of-day bounds": configWith({
    minMeasurement: 110,
    maxMeasurement: 200,
    minProcesses: { "0:00": 2, "8:00": 4, "20:00": 2 },
    maxProcesses: 40,
  }),
  "with pre-warming": configWith({
    minMeasurement: 110,
    maxMeasurement: 200,
    failsToScaleUp: 1,
    ...bounds,
    prewarm: {},
  }),
  "with a cron schedule": configWith({
    minMeasurement: 110,
    maxMeasurement: 200,
    ...bounds,
    schedule: [
      { cron: "0 7 * * *", processes: 6 },
      { cron: "0 22 * * *", processes: 3 },
    ],
  }),
};

function best(fn: () => void): number {
  fn(); // warm-up
  let fastest = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    fn();
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

const readStarted = performance.now();
const trace = existsSync(SHARED) ? await readTraceFile(SHARED) : repeated(bundledTrace(), 28);
const readMs = performance.now() - readStarted;
const minutes = trace.requests.length;
console.log(
  `\nsimulator benchmark: ${trace.source}, ${minutes.toLocaleString("en-US")} minutes (read in ${readMs.toFixed(0)} ms), best of ${ROUNDS}`,
);
console.log("policy                      time/run  minutes simulated/s");
const row = (name: string, ms: number) =>
  console.log(
    `${name.padEnd(26)}  ${`${ms.toFixed(0)} ms`.padStart(8)}  ${Math.round((minutes / ms) * 1000)
      .toLocaleString("en-US")
      .padStart(19)}`,
  );
for (const [name, input] of Object.entries(policies)) {
  const config = parseConfig(input, name);
  row(
    name,
    best(() => replayPolicy(name, config, "web", trace, simulation)),
  );
}
const baseConfig = parseConfig(policies["with a cron schedule"], "baselines");
const baselines = baselineRuns(trace, simulation, baseConfig, "web");
const baselineMs = best(() => baselineRuns(trace, simulation, baseConfig, "web"));
row(`${baselines.length} baselines (together)`, baselineMs);
console.log(`  (${baselines.map((run) => run.label).join(", ")})`);
await printGoals(trace);
