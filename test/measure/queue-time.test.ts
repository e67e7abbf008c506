import type { IncomingHttpHeaders } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { requestQueueTimeMs, requestStartMs } from "../../packages/heartbeat/src/queue-time.js";
import { startTargetApp, type TargetApp } from "../../src/local/target-app.js";
import { QueueTimeMeasurement, queueTimeSchema, type QueueTimeInput } from "../../src/measure/queue-time.js";

const NOW = 1_700_000_000_200; // epoch ms

describe("requestQueueTimeMs", () => {
  it.each<[string, string, number]>([
    ["Heroku: epoch milliseconds", "1700000000123", 77],
    ["nginx t=${msec}: seconds with a fraction", "t=1700000000.123", 77],
    ["seconds without a fraction", "1700000000", 200],
    ["t= in capitals", "T=1700000000.150", 50],
    ["microseconds", "1700000000123456", 76.544],
    ["microseconds with t=", "t=1700000000150000", 50],
    ["nanoseconds", "1700000000123456789", 76.543],
    ["surrounding whitespace", "  1700000000100 ", 100],
    ["a repeated header: the first (outermost) one", "t=1700000000.100, t=1700000000.150", 100],
  ])("%s", (_, header, expected) => {
    expect(requestQueueTimeMs(header, NOW)).toBeCloseTo(expected, 2);
  });

  it("counts a start after now (clock skew) as no wait", () => {
    expect(requestQueueTimeMs("1700000000500", NOW)).toBe(0);
    expect(requestQueueTimeMs("t=1700000001.0", NOW)).toBe(0);
  });

  it.each([
    null,
    undefined,
    "",
    "   ",
    "abc",
    "t=",
    "t=abc",
    "-1700000000123",
    "1.7e12",
    "0",
    "12345",
    "1700000000123ms",
    "t=1700000000.1.2",
    "1".repeat(25),
  ])("is null for %j", (header) => {
    expect(requestQueueTimeMs(header, NOW)).toBeNull();
  });

  it("gives the start in epoch ms whatever the unit", () => {
    for (const header of ["1700000000123", "t=1700000000.123", "1700000000123000", "1700000000123000000"])
      expect(requestStartMs(header)).toBeCloseTo(1_700_000_000_123, 0);
  });
});

describe("queue-time backend", () => {
  let app: TargetApp;
  beforeEach(async () => {
    app = await startTargetApp();
  });
  afterEach(() => app.close());

  const measure = (config: Partial<QueueTimeInput> = {}) =>
    new QueueTimeMeasurement({ backend: "queue-time", url: `${app.url}/hb`, ...config }).measure(
      new AbortController().signal,
    );
  const queued = (headers: IncomingHttpHeaders) => {
    const value = headers["x-request-start"];
    return requestQueueTimeMs(typeof value === "string" ? value : null, Date.now());
  };

  it("reads `queue` from Server-Timing, as a heartbeat built on requestQueueTimeMs reports it", async () => {
    // The test plays the router: the request "arrived" 60 ms ago, in nginx's format.
    app.set({ headers: ({ headers }) => ({ "Server-Timing": `queue;dur=${queued(headers)}, app;dur=1` }) });
    const reading = await measure({ headers: { "X-Request-Start": `t=${(Date.now() - 60) / 1000}` } });
    expect(reading).toMatchObject({ backend: "queue-time", unit: "ms", ok: true });
    expect(reading.value).toBeGreaterThanOrEqual(60);
    expect(reading.value).toBeLessThan(1000);
  });

  it("falls back to the JSON field queueTimeMs, or the one configured", async () => {
    app.set({ body: { queueTimeMs: 42 } });
    expect(await measure()).toEqual({ backend: "queue-time", value: 42, unit: "ms", ok: true });
    app.set({ body: { router: { waitMs: 9 } } });
    expect((await measure({ jsonField: "router.waitMs" })).value).toBe(9);
  });

  it("takes a configured metric name", async () => {
    app.set({ headers: { "Server-Timing": "queue;dur=1, wait;dur=15" } });
    expect((await measure({ metric: "wait" })).value).toBe(15);
  });

  it("fails meaning unknown when the app reports no queue time", async () => {
    expect(await measure()).toEqual({
      backend: "queue-time",
      value: null,
      unit: "ms",
      ok: false,
      failureMeans: "unknown",
      error: 'no Server-Timing metric "queue", and the body is not JSON',
    });
    app.set({ body: {} });
    expect((await measure()).error).toBe(
      'no Server-Timing metric "queue", and the JSON body has no field "queueTimeMs"',
    );
  });

  it("fails meaning overload on a non-2xx answer or a timeout", async () => {
    app.set({ status: 500, body: { queueTimeMs: 1 } });
    const down = await measure();
    expect(down).toMatchObject({ ok: false, error: "heartbeat answered HTTP 500" });
    expect(down.failureMeans).toBeUndefined();
    app.set({ status: 200, latencyMs: 300 });
    expect(await measure({ timeoutMs: 40 })).toMatchObject({
      ok: false,
      error: "heartbeat failed: no answer within 40 ms",
    });
  });

  it("validates its config", () => {
    const base = { backend: "queue-time", url: "https://example.com/hb" };
    expect(queueTimeSchema.parse(base)).toEqual({
      ...base,
      timeoutMs: 5000,
      metric: "queue",
      jsonField: "queueTimeMs",
    });
    expect(queueTimeSchema.safeParse({ ...base, url: "ftp://example.com" }).success).toBe(false);
  });
});
