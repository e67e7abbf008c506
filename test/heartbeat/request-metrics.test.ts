import { createServer, type Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import {
  createHeartbeat,
  createRequestMetrics,
  expressRequestMetrics,
  reportedQueueMs,
  toNodeListener,
  withNodeRequestMetrics,
  withRequestMetrics,
  type HeartbeatBody,
  type NodeListener,
  type RequestMetrics,
  type RequestMetricsOptions,
} from "../../packages/heartbeat/src/index.js";
import {
  histogramQuantile,
  queueBucket,
  QUEUE_BUCKETS,
} from "../../packages/heartbeat/src/queue-histogram.js";
import { close, listen } from "../../src/local/listen.js";

const NOW = 1_700_000_000_000; // epoch ms, the metrics' wall clock

/** Request metrics on a timer the test sets. */
function metricsAt(start: number, options: RequestMetricsOptions = {}) {
  const clock = { t: start };
  const metrics = createRequestMetrics({ clock: () => NOW, timer: () => clock.t, ...options });
  return { clock, metrics };
}

describe("the window's arithmetic (timer set by the test)", () => {
  // Three requests on a process of concurrency 2: begun at 1, 3 and 4 s, ended at 6, 8 and 12 s.
  // In flight: 1 over [1, 3), 2 over [3, 4), 3 over [4, 6), 2 over [6, 8), 1 over [8, 12).
  function threeRequests() {
    const { clock, metrics } = metricsAt(0, { concurrency: 2, processId: "web.1" });
    const at = (t: number, event: () => void) => {
      clock.t = t;
      event();
    };
    at(1000, () => metrics.begin(null));
    at(3000, () => metrics.begin(null));
    at(4000, () => metrics.begin(null));
    at(6000, () => metrics.end());
    at(8000, () => metrics.end());
    at(12_000, () => metrics.end());
    return { clock, metrics };
  }

  it("covers the whole slots before the current one: here the first 10 s", () => {
    const { clock, metrics } = threeRequests();
    clock.t = 15_000;
    // Slot [0, 10 s): busy 1 → 10 s = 9 s; occupied (min(in flight, 2)) 2×1 + 1×2 + 2×2 + 2×2 + 2×1
    // = 14 s; in flight 2×1 + 1×2 + 2×3 + 2×2 + 2×1 = 16 s.
    expect(metrics.summary()).toEqual({
      process: "web.1",
      windowMs: 10_000,
      concurrency: 2,
      requests: 3,
      requestsPerMinute: 18,
      utilisationPercent: 70, // 14 s / (2 × 10 s)
      busyPercent: 90,
      meanInFlight: 1.6,
      queueTime: { requests: 0, p50Ms: null, p95Ms: null, maxMs: null },
    });
  });

  it("slides: at 20 s the first two slots, at 70 s the last six", () => {
    const { clock, metrics } = threeRequests();
    clock.t = 20_000;
    // [0, 20 s): busy 11 s, occupied 16 s, in flight 18 s.
    expect(metrics.summary()).toMatchObject({
      windowMs: 20_000,
      requests: 3,
      requestsPerMinute: 9,
      utilisationPercent: 40,
      busyPercent: 55,
      meanInFlight: 0.9,
    });
    clock.t = 70_000;
    // [10 s, 70 s): only the last request's 2 s from 10 to 12 s, and no request begun.
    expect(metrics.summary()).toMatchObject({
      windowMs: 60_000,
      requests: 0,
      requestsPerMinute: 0,
      utilisationPercent: 1.7, // 2 s / (2 × 60 s)
      busyPercent: 3.3,
      meanInFlight: 0.033,
    });
    clock.t = 10 * 60_000; // long idle: the ring is skipped over, not walked slot by slot
    expect(metrics.summary()).toMatchObject({ windowMs: 60_000, requests: 0, busyPercent: 0 });
  });

  it("counts a request in flight all along, even across a gap longer than the window", () => {
    const { clock, metrics } = metricsAt(0);
    metrics.begin(null);
    clock.t = 10 * 60_000 + 5000;
    expect(metrics.summary()).toMatchObject({ requests: 0, utilisationPercent: 100, meanInFlight: 1 });
    metrics.end();
  });

  it("reports what it covers while younger than the window, nothing before its first slot ends", () => {
    const { clock, metrics } = metricsAt(5000, { windowSeconds: 30 }); // slots of 5 s
    metrics.begin(null);
    clock.t = 7500;
    metrics.end();
    clock.t = 9999;
    expect(metrics.summary()).toMatchObject({
      windowMs: 0,
      requests: 0,
      requestsPerMinute: null,
      utilisationPercent: null,
    });
    clock.t = 12_000;
    expect(metrics.summary()).toMatchObject({
      windowMs: 5000,
      requests: 1,
      requestsPerMinute: 12,
      utilisationPercent: 50,
    });
  });

  it("reads queue time from every form of X-Request-Start, p50 and p95 from the fixed histogram", () => {
    const { clock, metrics } = metricsAt(0);
    // 1 to 20 ms: the p50's rank is 10 (bucket [2^3.25, 2^3.5) reports 2^3.5 = 11.31 → 11.4 ms),
    // the p95's 19 (bucket [2^4, 2^4.25) reports 19.03 → 19.1 ms), the max 20 exactly.
    const forms = [
      (start: number) => String(start), // Heroku: epoch ms
      (start: number) => `t=${start / 1000}`, // nginx: seconds
      (start: number) => `t=${start * 1000}`, // Apache: microseconds
      (start: number) => String(BigInt(start) * 1_000_000n), // Render: nanoseconds
    ];
    for (let ms = 1; ms <= 20; ms++) {
      metrics.begin(forms[ms % 4]!(NOW - ms));
      metrics.end();
    }
    metrics.begin(undefined); // no header: counted, without a queue time
    metrics.begin("garbage");
    metrics.end();
    metrics.end();
    clock.t = 10_000;
    expect(metrics.summary()).toMatchObject({
      requests: 22,
      queueTime: { requests: 20, p50Ms: 11.4, p95Ms: 19.1, maxMs: 20 },
    });
  });

  it("keeps the histogram's promises: at most 19% above the exact value, never above the max", () => {
    for (const ms of [0, 0.4, 1, 1.2, 7, 42, 999, 29_999, 200_000]) {
      const reported = reportedQueueMs(ms);
      expect(reported).toBeGreaterThanOrEqual(ms);
      if (ms >= 1 && ms < 2 ** 17) expect(reported).toBeLessThanOrEqual(ms * 2 ** 0.25 + 0.1);
    }
    const counts = new Float64Array(QUEUE_BUCKETS);
    counts[queueBucket(0.3)] = 10;
    expect(histogramQuantile(counts, 10, 0.95, 0.3)).toBe(0.3); // sub-ms: the max, not 1 ms
    expect(histogramQuantile(counts, 0, 0.95, 0)).toBeNull();
    counts[queueBucket(500_000)] = 90; // past 2^17 ms: the overflow reports the max
    expect(histogramQuantile(counts, 100, 0.95, 500_000)).toBe(500_000);
  });

  it("refuses a window outside 10 to 60 s and a concurrency that is not a whole number from 1", () => {
    expect(() => createRequestMetrics({ windowSeconds: 5 })).toThrow(/10 to 60/);
    expect(() => createRequestMetrics({ windowSeconds: 61 })).toThrow(/10 to 60/);
    expect(() => createRequestMetrics({ concurrency: 0 })).toThrow(/whole number/);
    expect(() => createRequestMetrics({ concurrency: 1.5 })).toThrow(/whole number/);
  });

  it("names the process by the platform's variable, else at random", () => {
    const saved = process.env.DYNO;
    try {
      process.env.DYNO = "web.7";
      expect(createRequestMetrics().summary().process).toBe("web.7");
      delete process.env.DYNO;
      const a = createRequestMetrics().summary().process;
      const b = createRequestMetrics().summary().process;
      expect(a).toMatch(/^process-/);
      expect(a).not.toBe(b);
    } finally {
      if (saved === undefined) delete process.env.DYNO;
      else process.env.DYNO = saved;
    }
  });
});

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => close(server)));
  servers = [];
});

/**
 * An app on a real server: /heartbeat answers with the metrics; every other request is held
 * until the test releases it. Every request, the heartbeat's too, goes through `mount`.
 */
async function startApp(metrics: RequestMetrics, mount: (app: NodeListener) => NodeListener) {
  const held: Array<() => void> = [];
  let arrived = 0;
  const heartbeat = toNodeListener(createHeartbeat({ metrics }));
  const app: NodeListener = (req, res) => {
    if (req.url === "/heartbeat") return heartbeat(req, res);
    arrived++;
    held.push(() => res.end("done\n"));
  };
  const server = createServer(mount(app));
  servers.push(server);
  const url = await listen(server);
  return {
    url,
    /** Resolves once `n` held requests have reached the app. */
    arrivals: async (n: number) => {
      while (arrived < n) await sleep(2);
    },
    release: (n = held.length) => held.splice(0, n).forEach((answer) => answer()),
    summary: async () => {
      const response = await fetch(`${url}/heartbeat`);
      return ((await response.json()) as HeartbeatBody).requestMetrics!;
    },
  };
}

/** Node's and Express's ways of mounting the metrics, and the Fetch one through the Node adapter. */
const mounts: Array<[string, (metrics: RequestMetrics) => (app: NodeListener) => NodeListener]> = [
  ["Node http", (metrics) => (app) => withNodeRequestMetrics(app, metrics)],
  [
    "Express-style middleware",
    (metrics) => (app) => {
      const middleware = expressRequestMetrics(metrics);
      return (req, res) => middleware(req, res, () => app(req, res));
    },
  ],
];

describe("over a real server with real concurrent requests", () => {
  it.each(mounts)(
    "%s: eight requests at once, then four, on a process of concurrency 4",
    async (_, mount) => {
      const { clock, metrics } = metricsAt(0, { concurrency: 4, processId: "web.2" });
      const app = await startApp(metrics, mount(metrics));
      clock.t = 1000;
      const queueMs = [5, 10, 15, 20, 25, 30, 35, 40];
      const requests = queueMs.map((ms) =>
        fetch(`${app.url}/work`, { headers: { "X-Request-Start": String(NOW - ms) } }),
      );
      await app.arrivals(8);
      clock.t = 4000;
      app.release(4);
      await Promise.all(requests.slice(0, 4).map(async (r) => (await r).text()));
      await sleep(20); // the responses' close events
      clock.t = 9000;
      app.release();
      await Promise.all(requests.slice(4).map(async (r) => (await r).text()));
      await sleep(20);
      clock.t = 15_000;
      // [0, 10 s): 8 in flight over [1, 4), 4 over [4, 9): busy 8 s; occupied 4×3 + 4×5 = 32 s of
      // 4 × 10 s; in flight 8×3 + 4×5 = 44 s. The heartbeat's own request is in the current slot.
      expect(await app.summary()).toEqual({
        process: "web.2",
        windowMs: 10_000,
        concurrency: 4,
        requests: 8,
        requestsPerMinute: 48,
        utilisationPercent: 80,
        busyPercent: 80,
        meanInFlight: 4.4,
        // p50: the 4th of 8, 20 ms, in [2^4.25, 2^4.5): 22.7 ms; p95: the 8th, the max, 40 ms.
        queueTime: { requests: 8, p50Ms: 22.7, p95Ms: 40, maxMs: 40 },
      });
    },
  );

  it("Fetch handler: fifty requests in flight at once on the real clock", async () => {
    let offset = 0; // real time, moved on past the slot at the end
    const metrics = createRequestMetrics({ windowSeconds: 10, timer: () => performance.now() + offset });
    let open = 0;
    let peak = 0;
    let allIn: () => void = () => undefined;
    const together = new Promise<void>((resolve) => (allIn = resolve));
    // Each request waits for all fifty to be in, then works 100 ms: all fifty in flight at once.
    const work = withRequestMetrics(async () => {
      open++;
      peak = Math.max(peak, open);
      if (open === 50) allIn();
      await together;
      await sleep(100);
      open--;
      return new Response("done\n");
    }, metrics);
    const server = createServer(toNodeListener(work));
    servers.push(server);
    const url = await listen(server);
    const began = performance.now();
    const answers = await Promise.all(Array.from({ length: 50 }, () => fetch(url).then((r) => r.text())));
    const tookMs = performance.now() - began;
    expect(answers.every((text) => text === "done\n")).toBe(true);
    expect(peak).toBe(50);
    offset += 2000; // the slots (of 10 s / 6) the requests fell in are now complete, and in the window
    const summary = metrics.summary();
    expect(summary.requests).toBe(50);
    // 50 requests of at least 100 ms each: 5 s in flight at least, within the wall time they took.
    const inFlightMs = summary.meanInFlight! * summary.windowMs;
    expect(inFlightMs).toBeGreaterThanOrEqual(4990);
    expect(inFlightMs).toBeLessThanOrEqual(50 * tookMs + 10);
    expect(summary.utilisationPercent).toBe(summary.busyPercent); // concurrency 1: the same
  });

  it("counts a request once, though mounted twice, and ends it when the client goes away", async () => {
    const { clock, metrics } = metricsAt(0);
    const twice = (app: NodeListener) =>
      withNodeRequestMetrics(withNodeRequestMetrics(app, metrics), metrics);
    const app = await startApp(metrics, twice);
    const controller = new AbortController();
    const gone = fetch(`${app.url}/work`, { signal: controller.signal }).catch(() => "aborted");
    await app.arrivals(1);
    clock.t = 2000;
    controller.abort();
    expect(await gone).toBe("aborted");
    await sleep(50);
    clock.t = 10_000;
    expect(await app.summary()).toMatchObject({ requests: 1, busyPercent: 20, meanInFlight: 0.2 });
  });
});
