import { existsSync } from "node:fs";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { parseConfig } from "../config/load.js";
import { printGoals, type SlowestPolicy } from "./goals.js";
import { baselineRuns } from "../simulate/baselines.js";
import { replayPolicy, type Run } from "../simulate/replay.js";
import { defaultSimulation } from "../simulate/schema.js";
import { bundledTrace, readTraceFile, type Trace } from "../simulate/trace.js";

/**
 * `npm run bench` (second part): how fast the simulator replays the four-week NASA trace
 * (../shared/traces/nasa-1995-07.csv beside the repository; the bundled day, repeated to four
 * weeks, when it is absent) through the real decision backends: minutes simulated per second,
 * the best and the median of ROUNDS rounds after a warm-up (`timed`).
 */
// Ten: the JIT settles over the first few rounds, and on a shared machine a best of five can
// fall inside one busy stretch of a few seconds. The median says how much that moved.
const ROUNDS = 10;
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

/** The best and the median time of `job` over ROUNDS runs, after a warm-up run. */
function timed(job: () => unknown): { ms: number; medianMs: number } {
  job(); // warm-up
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    job();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { ms: times[0]!, medianMs: (times[(ROUNDS - 1) >> 1]! + times[ROUNDS >> 1]!) / 2 };
}

const BASELINES = "baselines (together)";

/** The replays to time, by name: each policy, and the baselines together. */
function jobsOf(trace: Trace): Map<string, () => Run[]> {
  const jobs = new Map<string, () => Run[]>();
  for (const [name, input] of Object.entries(policies)) {
    const config = parseConfig(input, name);
    jobs.set(name, () => [replayPolicy(name, config, "web", trace, simulation)]);
  }
  const baseConfig = parseConfig(policies["with a cron schedule"], "baselines");
  jobs.set(BASELINES, () => baselineRuns(trace, simulation, baseConfig, "web"));
  return jobs;
}

const readTrace = async (): Promise<Trace> =>
  existsSync(SHARED) ? await readTraceFile(SHARED) : repeated(bundledTrace(), 28);

/**
 * Each job is timed in a worker of its own: a policy's speed is its own, not what the policies
 * timed before it left in the JIT's feedback (a replay's hot code sees one decision backend,
 * as a `simulate` of one policy does). The workers run one after another, never two at once.
 */
function timeInWorker(job: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { job } });
    worker.once("message", (timed: Timed) => resolve(timed));
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (code !== 0) reject(new Error(`the worker timing ${job} exited with ${code}`));
    });
  });
}

/** A worker's answer: the best and the median time, and the labels of the runs its job made. */
interface Timed {
  ms: number;
  medianMs: number;
  labels: string[];
}

if (!isMainThread) {
  const { job } = workerData as { job: string };
  const run = jobsOf(await readTrace()).get(job)!;
  const answer: Timed = { ...timed(run), labels: run().map((r) => r.label) };
  parentPort!.postMessage(answer);
} else {
  const readStarted = performance.now();
  const trace = await readTrace();
  const readMs = performance.now() - readStarted;
  const minutes = trace.requests.length;
  console.log(
    `\nsimulator benchmark: ${trace.source}, ${minutes.toLocaleString("en-US")} minutes (read in ${readMs.toFixed(0)} ms), ` +
      `${ROUNDS} rounds after a warm-up, each job in a worker of its own`,
  );
  console.log("policy                      best/run  minutes simulated/s  (median round)");
  const rate = (ms: number) => Math.round((minutes / ms) * 1000).toLocaleString("en-US");
  const row = (name: string, ms: number, medianMs: number) =>
    console.log(
      `${name.padEnd(26)}  ${`${ms.toFixed(0)} ms`.padStart(8)}  ${rate(ms).padStart(19)}  ${`(${rate(medianMs)})`.padStart(14)}`,
    );
  const jobs = jobsOf(trace);
  let slowest: SlowestPolicy | undefined;
  for (const name of jobs.keys()) {
    const { ms, medianMs, labels } = await timeInWorker(name);
    row(name === BASELINES ? `${labels.length} ${name}` : name, ms, medianMs);
    if (name === BASELINES) console.log(`  (${labels.join(", ")})`);
    else if (!slowest || ms > (minutes / slowest.perSecond) * 1000)
      slowest = { name, perSecond: (minutes / ms) * 1000, medianPerSecond: (minutes / medianMs) * 1000 };
  }
  // What a `simulate` comparing them all sees: one process, every policy once, warm-up included.
  const started = performance.now();
  for (const [name, job] of jobs) if (name !== BASELINES) job();
  const together = (performance.now() - started) / (jobs.size - 1);
  console.log(
    `all ${jobs.size - 1} policies once in one process (as one simulate compares them): ${rate(together)} minutes simulated/s per policy`,
  );
  await printGoals(trace, slowest!);
}
