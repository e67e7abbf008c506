import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import {
  emptyMinute,
  FormationModel,
  modelledReading,
  type FormationParams,
  type HeartbeatOptions,
} from "../../src/simulate/model.js";
import { heartbeatOptions, replayPolicy } from "../../src/simulate/replay.js";
import { defaultSimulation } from "../../src/simulate/schema.js";
import type { Trace } from "../../src/simulate/trace.js";
import { fluidProcess, traceOf } from "../helpers/trace.js";

const T0 = Date.parse("2026-01-05T08:00:00Z");
const MIN = 60_000;

const fluid = fluidProcess;
/** One process of 1200 requests a minute (μ = 0.02 per ms) with M/M/1 waiting. */
const mm1: FormationParams = { ...fluid, capacityPerProcess: 1200, queueing: "mmc" };

const options: HeartbeatOptions = {
  measurement: "request-metrics",
  timeoutMs: 5000,
  routerTimeoutMs: 30_000,
  samples: 8,
  metric: "utilisation",
};

/** The reading at the end of one minute of `arrivals` on `processes` processes. */
function afterMinute(params: FormationParams, processes: number, arrivals: number, metric = options.metric) {
  const model = new FormationModel(params, processes, 7);
  model.step(arrivals, T0, 500, emptyMinute());
  return modelledReading(model, T0 + MIN, 0, { ...options, metric });
}

describe("request metrics through the model, by hand", () => {
  it("one process at 70%: utilisation 70%, 840 a minute, the p95 of its M/M/1 waits at the histogram's resolution", () => {
    // From empty queues Agnew's equation relaxes within the minute (δ² w = 2.16 ≫ 40 μ = 0.8):
    // e's mean over it is 7/3 + (μ u0 − u0²/2) / (δ³ w) = 2.3193 (u0 = λ = 0.014, δ = −0.006), so
    // P(wait) = ē / (1 + ē) = 0.69879 and θ = μ (1 − P) = 0.0060241 per ms: the p95 wait is
    // ln(0.69879 / 0.05) / 0.0060241 = 437.8 ms, in the histogram's bucket [2^8.75, 2^9) = [430.5, 512),
    // which reports 512.
    const reading = afterMinute(mm1, 1, 840);
    expect(reading).toEqual({
      backend: "request-metrics",
      value: 70,
      unit: "percent",
      ok: true,
      metrics: { utilisation: 70, requestsPerProcess: 840, queueTimeP95Ms: 512 },
      processesSeen: 1,
    });
    expect(afterMinute(mm1, 1, 840, "queue-time-p95")).toMatchObject({ value: 512, unit: "ms" });
    expect(afterMinute(mm1, 1, 840, "requests-per-process")).toMatchObject({ value: 840, unit: "rpm" });
  });

  it("saturated, honestly: 100% and the capacity, however far over it the load is", () => {
    // 5% over: the backlog grows to 300 (3000 ms of wait) and the samples at the end still get
    // an answer within 5 s. Waits rise evenly from 0 to 3000 ms: the p95 is 2850 ms, in
    // [2^11.25, 2^11.5): reported as 2896.4.
    expect(afterMinute(fluid, 1, 6300)).toMatchObject({
      ok: true,
      value: 100,
      metrics: { utilisation: 100, requestsPerProcess: 6000, queueTimeP95Ms: 2896.4 },
    });
  });

  it("twice the capacity: every sample waits past the timeout, a failed reading that counts as overload", () => {
    // The backlog reaches 2990 (29.9 s of wait): no sample is answered within 5 s.
    const reading = afterMinute(fluid, 1, 12_000);
    expect(reading).toEqual({
      backend: "request-metrics",
      value: null,
      unit: "percent",
      ok: false,
      error: "8 of 8 samples failed; first: heartbeat failed: no answer within 5000 ms",
    });
    // With a patient measurement the last of them is answered right at the router's cap, and
    // the p95 is that cap (more than 5% of the minute dropped), never past it.
    const patient = new FormationModel(fluid, 1, 7);
    patient.step(12_000, T0, 500, emptyMinute());
    expect(
      modelledReading(patient, T0 + MIN, 0, { ...options, timeoutMs: 60_000, metric: "queue-time-p95" }),
    ).toMatchObject({
      ok: true,
      value: 29_900,
      metrics: { utilisation: 100, requestsPerProcess: 6000, queueTimeP95Ms: 29_900 },
    });
  });

  it("two processes under random routing: the mean utilisation is the formation's, whatever the split", () => {
    // The router splits the 1200 binomially, a + b = 1200; each process's utilisation is its
    // share over 1200, so their mean is 1200 / 2400 = 50% exactly, once both are seen.
    const reading = afterMinute(mm1, 2, 1200);
    expect(reading).toMatchObject({
      ok: true,
      value: 50,
      processesSeen: 2,
      metrics: { utilisation: 50, requestsPerProcess: 600 },
    });
  });

  it("shared routing: every process reports the one queue's figures, the samples still count processes", () => {
    const reading = afterMinute({ ...mm1, routing: "shared" }, 4, 2400);
    expect(reading).toMatchObject({
      ok: true,
      value: 50,
      metrics: { utilisation: 50, requestsPerProcess: 600 },
    });
    expect(reading.processesSeen).toBeGreaterThanOrEqual(3);
  });

  it("no process up: every sample fails", () => {
    const model = new FormationModel(mm1, 0, 7);
    model.step(100, T0, 500, emptyMinute());
    expect(modelledReading(model, T0 + MIN, 0, options)).toMatchObject({ ok: false, value: null });
  });

  it("is seeded: the same minute samples the same processes, another minute others", () => {
    const model = new FormationModel(mm1, 20, 3);
    for (let i = 0; i < 3; i++) model.step(20 * 1200 * 0.5, T0 + i * MIN, 500, emptyMinute());
    const at = T0 + 3 * MIN;
    const first = modelledReading(model, at, 0, options);
    expect(modelledReading(model, at, 0, options)).toEqual(first);
    const seen = new Set<number>();
    for (let k = 0; k < 30; k++) seen.add(modelledReading(model, at + k * MIN, 0, options).processesSeen!);
    expect(first.processesSeen).toBeGreaterThanOrEqual(5);
    expect(seen.size).toBeGreaterThan(1);
  });
});

describe("a replay on request-metrics", () => {
  const trace = (requests: number[]): Trace => traceOf(requests, T0);
  const config = parseConfig({
    timezone: "UTC",
    processes: {
      web: {
        measurement: {
          backend: "request-metrics",
          url: "https://example.com/heartbeat",
          samples: 6,
          metric: "requests-per-process",
        },
        decision: { backend: "target-tracking", targetValue: 600, minProcesses: 1, maxProcesses: 20 },
        scaling: { backend: "heroku", app: "sim-app" },
      },
    },
  });
  const settings = defaultSimulation({ bootSeconds: 0, initialProcesses: 2 });

  it("follows the process's measurement: its samples and metric", () => {
    expect(heartbeatOptions(config.processes.web!, settings)).toEqual({
      measurement: "request-metrics",
      timeoutMs: 5000,
      routerTimeoutMs: 30_000,
      samples: 6,
      metric: "requests-per-process",
    });
  });

  it("scales on requests per process: 1800 a minute at 600 each wants 3 processes", () => {
    const run = replayPolicy("rpm", config, "web", trace(Array.from({ length: 10 }, () => 1800)), settings);
    expect(run.description).toBe("target-tracking on request-metrics");
    // The warm-up minute reads 900 a process on 2 (both seen, below capacity: their mean is the
    // formation's exactly): ceil(2 × 900 / 600) = 3 at once; then 600 each, on target.
    expect(run.readingMs[0]).toBe(900);
    expect(run.scales).toHaveLength(1);
    expect(run.scales[0]).toMatchObject({ from: 2, to: 3 });
    expect(Array.from(run.processes.slice(1))).toEqual(Array.from({ length: 9 }, () => 3));
  });
});
