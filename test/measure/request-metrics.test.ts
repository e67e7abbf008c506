import { createServer, type Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createHeartbeat,
  createRequestMetrics,
  toNodeListener,
  withNodeRequestMetrics,
  type NodeListener,
  type RequestMetrics,
} from "../../packages/heartbeat/src/index.js";
import { parseConfig } from "../../src/config/load.js";
import { close, listen } from "../../src/local/listen.js";
import {
  failedSample,
  requestMetricsReading,
  type ProcessSample,
} from "../../src/measure/process-metrics.js";
import { measurementBudgetMs, measurementSchema } from "../../src/measure/registry.js";
import {
  processSample,
  RequestMetricsMeasurement,
  requestMetricsSchema,
  type RequestMetricsInput,
} from "../../src/measure/request-metrics.js";
import { closedPort } from "../helpers/net.js";
import { startRandomRouter } from "../helpers/random-router.js";
import { APP, startWorld, type World } from "../helpers/world.js";

const sample = (
  process: string,
  utilisation: number | null,
  rpm: number | null,
  p95: number | null,
): ProcessSample => ({
  ...failedSample("", "unknown"),
  ok: true,
  process,
  utilisation,
  requestsPerProcess: rpm,
  queueTimeP95Ms: p95,
});

describe("combining the processes sampled", () => {
  it("counts each process once: utilisation and requests per process their mean, queue time the largest p95", () => {
    const samples = [
      sample("web.1", 40, 600, 12),
      sample("web.2", 80, 1100, 250),
      sample("web.1", 99, 9999, 9999), // web.1 again: its first sample stands
      failedSample("heartbeat failed: no answer within 5000 ms", "overload"), // skipped
      sample("web.3", 60, 700, null), // no X-Request-Start seen there
    ];
    expect(requestMetricsReading(samples, "utilisation")).toEqual({
      backend: "request-metrics",
      value: 60,
      unit: "percent",
      ok: true,
      metrics: { utilisation: 60, requestsPerProcess: 800, queueTimeP95Ms: 250 },
      processesSeen: 3,
    });
    expect(requestMetricsReading(samples, "requests-per-process")).toMatchObject({ value: 800, unit: "rpm" });
    expect(requestMetricsReading(samples, "queue-time-p95")).toMatchObject({ value: 250, unit: "ms" });
    // Only the first `count` samples: the simulator reuses its array.
    expect(requestMetricsReading(samples, "utilisation", 2)).toMatchObject({ value: 60, processesSeen: 2 });
  });

  it("fails when every sample failed: overload if any went unanswered, else unknown", () => {
    const timedOut = failedSample("heartbeat failed: no answer within 5000 ms", "overload");
    const noMetrics = failedSample("request-metrics: the body is not JSON", "unknown");
    const overload = requestMetricsReading([noMetrics, timedOut], "utilisation");
    expect(overload).toEqual({
      backend: "request-metrics",
      value: null,
      unit: "percent",
      ok: false,
      error: "2 of 2 samples failed; first: request-metrics: the body is not JSON",
    });
    expect(requestMetricsReading([noMetrics], "utilisation")).toMatchObject({
      ok: false,
      failureMeans: "unknown",
    });
  });

  it("fails (unknown) when no process could give the figure asked for, keeping the others", () => {
    const reading = requestMetricsReading([sample("web.1", 50, 300, null)], "queue-time-p95");
    expect(reading).toMatchObject({
      ok: false,
      value: null,
      failureMeans: "unknown",
      metrics: { utilisation: 50, requestsPerProcess: 300, queueTimeP95Ms: null },
      processesSeen: 1,
    });
    expect(reading.error).toMatch(/X-Request-Start/);
  });

  it("reads a process's summary from its heartbeat body, refusing figures out of range", () => {
    const body = (metrics: unknown) => JSON.stringify({ status: "ok", requestMetrics: metrics });
    const summary = {
      process: "web.4",
      utilisationPercent: 12.5,
      requestsPerMinute: 300,
      queueTime: { p95Ms: null },
    };
    expect(processSample(body(summary), "requestMetrics")).toMatchObject({
      ok: true,
      process: "web.4",
      utilisation: 12.5,
      requestsPerProcess: 300,
      queueTimeP95Ms: null,
    });
    expect(processSample(body({ ...summary, utilisationPercent: 101 }), "requestMetrics")).toMatchObject({
      ok: false,
      failureMeans: "unknown",
      error: expect.stringMatching(/utilisationPercent/) as unknown,
    });
    expect(processSample(body({ ...summary, process: "" }), "requestMetrics").ok).toBe(false);
    expect(processSample(JSON.stringify({ status: "ok" }), "requestMetrics").error).toMatch(
      /given its metrics/,
    );
    expect(processSample("<html>", "requestMetrics").error).toMatch(/not JSON/);
  });
});

describe("settings", () => {
  it("defaults to 8 samples all at once, utilisation: its budget is one timeout, as a heartbeat's", () => {
    const config = measurementSchema.parse({ backend: "request-metrics", url: "https://app.test/heartbeat" });
    expect(config).toMatchObject({ samples: 8, metric: "utilisation", timeoutMs: 5000 });
    expect(measurementBudgetMs(config)).toBe(5000);
    const lanes = measurementSchema.parse({
      backend: "request-metrics",
      url: "https://app.test/",
      concurrency: 3,
    });
    expect(measurementBudgetMs(lanes)).toBe(15_000); // 3 rounds of 5 s
  });

  it("refuses sampling that could outlast the tick", () => {
    const parsed = requestMetricsSchema.safeParse({
      backend: "request-metrics",
      url: "https://app.test/heartbeat",
      samples: 20,
      concurrency: 2,
      timeoutMs: 3000,
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({ path: ["timeoutMs"] });
  });
});

let servers: Server[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all([...servers.map((server) => close(server)), ...closers.splice(0).map((c) => c())]);
  servers = [];
});

const NOW = 1_700_000_000_000;

/**
 * App processes on real servers, each with its own request metrics (on one timer the test sets)
 * and a heartbeat that reports them; /work answers after `workMs` of real time.
 */
async function startProcesses(count: number, options: { heartbeatMetrics?: boolean } = {}) {
  const clock = { t: 0 };
  const processes: Array<{ url: string; metrics: RequestMetrics }> = [];
  for (let i = 1; i <= count; i++) {
    const metrics = createRequestMetrics({ processId: `web.${i}`, clock: () => NOW, timer: () => clock.t });
    const heartbeat = toNodeListener(
      createHeartbeat(options.heartbeatMetrics === false ? {} : { metrics, clock: () => NOW }),
    );
    const app: NodeListener = (req, res) => {
      if (req.url === "/heartbeat") return heartbeat(req, res);
      setTimeout(() => res.end("done\n"), 5);
    };
    const server = createServer(withNodeRequestMetrics(app, metrics));
    servers.push(server);
    processes.push({ url: await listen(server), metrics });
  }
  return { clock, processes };
}

async function router(upstreams: string[], options: Parameters<typeof startRandomRouter>[1] = {}) {
  const started = await startRandomRouter(upstreams, { clock: () => NOW - 40, ...options });
  closers.push(() => started.close());
  return started;
}

const measure = (url: string, input: Partial<RequestMetricsInput> = {}) =>
  new RequestMetricsMeasurement({ backend: "request-metrics", url: `${url}/heartbeat`, ...input }).measure(
    new AbortController().signal,
  );

describe("against app processes behind a random router", () => {
  it("sees the processes the samples reached and combines their windows", async () => {
    const { clock, processes } = await startProcesses(3);
    const front = await router(processes.map((p) => p.url));
    // Real load through the router: 60 requests, 12 at a time; each arrives 40 ms after the
    // router's X-Request-Start.
    for (let round = 0; round < 5; round++)
      await Promise.all(Array.from({ length: 12 }, () => fetch(`${front.url}/work`).then((r) => r.text())));
    await sleep(20);
    const served = front.routed.map((index) => index);
    clock.t = 15_000; // the first slot, [0, 10 s), is complete
    const reading = await measure(front.url, { samples: 12 });
    const sampled = front.routed.slice(served.length);
    expect(new Set(sampled).size).toBe(3); // the seeded router reached every process
    // Each process's requests per minute is its count over the 10 s covered × 6; their mean is
    // 60 × 6 / 3. The timer did not move while requests were in flight: no busy time.
    expect(reading).toEqual({
      backend: "request-metrics",
      value: 0,
      unit: "percent",
      ok: true,
      metrics: { utilisation: 0, requestsPerProcess: 120, queueTimeP95Ms: 40 },
      processesSeen: 3,
    });
    const counts = [0, 1, 2].map((i) => served.filter((index) => index === i).length);
    expect(counts.reduce((a, b) => a + b)).toBe(60);
  });

  it("combines known windows exactly: the mean utilisation, the largest p95", async () => {
    const { clock, processes } = await startProcesses(3);
    // Process i busy for i × 2 s of the first 10 s, with one request whose queue time is i × 100 ms.
    processes.forEach(({ metrics }, index) => {
      clock.t = 0;
      metrics.begin(String(NOW - (index + 1) * 100));
      clock.t = (index + 1) * 2000;
      metrics.end();
    });
    clock.t = 12_000;
    const front = await router(processes.map((p) => p.url));
    const reading = await measure(front.url, { samples: 12, metric: "queue-time-p95" });
    expect(new Set(front.routed).size).toBe(3);
    // Utilisation 20, 40, 60% → 40; 6 requests a minute each; p95s 100, 200, 300 ms reported
    // as their buckets' upper edges (107.7, 215.3) or the max (300).
    expect(reading).toMatchObject({
      ok: true,
      value: 300,
      unit: "ms",
      metrics: { utilisation: 40, requestsPerProcess: 6, queueTimeP95Ms: 300 },
      processesSeen: 3,
    });
  });

  it("skips a process that does not answer; all of them down is a failed reading meaning overload", async () => {
    const { clock, processes } = await startProcesses(2);
    clock.t = 12_000;
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const front = await router([processes[0]!.url, dead, processes[1]!.url]);
    const reading = await measure(front.url, { samples: 10 });
    expect(front.routed).toContain(1);
    expect(reading).toMatchObject({ ok: true, processesSeen: 2, metrics: { utilisation: 0 } });

    const down = await router([dead]);
    const failed = await measure(down.url, { samples: 3, concurrency: 3 });
    expect(failed).toMatchObject({ ok: false, value: null, unit: "percent" });
    expect(failed.failureMeans).toBeUndefined(); // overload, as a failed heartbeat
    expect(failed.error).toMatch(/^3 of 3 samples failed; first: heartbeat answered HTTP 503/);
  });

  it("without X-Request-Start, queue-time-p95 cannot be read: a failed reading that holds", async () => {
    const { clock, processes } = await startProcesses(2);
    const front = await router(
      processes.map((p) => p.url),
      { requestStart: false },
    );
    await Promise.all(Array.from({ length: 6 }, () => fetch(`${front.url}/work`).then((r) => r.text())));
    clock.t = 12_000;
    const reading = await measure(front.url, { metric: "queue-time-p95" });
    expect(reading).toMatchObject({
      ok: false,
      failureMeans: "unknown",
      metrics: { queueTimeP95Ms: null, requestsPerProcess: 18 },
    });
  });

  it("a heartbeat without metrics is a failed reading that holds (a setup to fix, not load)", async () => {
    const { processes } = await startProcesses(1, { heartbeatMetrics: false });
    const reading = await measure(processes[0]!.url, { samples: 2 });
    expect(reading).toMatchObject({ ok: false, failureMeans: "unknown" });
    expect(reading.error).toMatch(
      /2 of 2 samples failed; first: request-metrics: the JSON body has no object/,
    );
  });
});

describe("in a real tick (local Heroku API, Upstash front, redis-server)", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld(["web"]);
  });
  afterAll(() => world.close());

  it("scales on the processes' utilisation with the tick's usual five Redis commands, none for the metrics", async () => {
    const { clock, processes } = await startProcesses(3);
    // Each process busy 9 s of the first 10.
    for (const { metrics } of processes) {
      clock.t = 0;
      metrics.begin(null);
      clock.t = 9000;
      metrics.end();
    }
    clock.t = 12_000;
    const front = await router(processes.map((p) => p.url));
    const config = parseConfig({
      keyPrefix: "request-metrics-tick",
      timezone: "UTC",
      processes: {
        web: {
          measurement: { backend: "request-metrics", url: `${front.url}/heartbeat`, samples: 12 },
          decision: { backend: "target-tracking", targetValue: 60, minProcesses: 1, maxProcesses: 10 },
          scaling: { backend: "heroku", app: APP, processType: "web" },
          notification: { backends: ["memory"] },
        },
      },
    });
    world.heroku.setQuantity(APP, "web", 3);
    world.upstash.resetCount();
    const report = await world.tick(config);
    // The tick's own for a tick that scales: lock, load, the save before the PATCH, the save,
    // history, unlock. The metrics cost no command.
    expect(world.upstash.commands.map((c) => c[0])).toEqual(["SET", "GET", "EVAL", "EVAL", "XADD", "EVAL"]);
    expect(report.processes[0]).toMatchObject({
      reading: { value: 90, unit: "percent", processesSeen: 3, metrics: { utilisation: 90 } },
      scaled: { from: 3, to: 5 }, // ceil(3 × 90 / 60)
    });
  });
});
