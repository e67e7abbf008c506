import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTargetApp, type TargetApp } from "../../src/local/target-app.js";
import { HttpProbe } from "../../src/measure/http-probe.js";
import {
  medianReading,
  ResponseTimeMeasurement,
  responseTimeSchema,
  type ResponseTimeInput,
} from "../../src/measure/response-time.js";
import type { Reading } from "../../src/measure/types.js";

let app: TargetApp;
beforeEach(async () => {
  app = await startTargetApp();
});
afterEach(() => app.close());

const never = new AbortController().signal;
const measure = (config: Omit<ResponseTimeInput, "backend" | "url"> & { url?: string }) =>
  new ResponseTimeMeasurement({ backend: "response-time", url: `${app.url}/hb`, ...config }).measure(never);

/** A latency setting that answers each request with the next of `values`, in arrival order. */
const inTurn = (values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe("response-time: one sample", () => {
  it("measures the whole answer in ms", async () => {
    app.set({ latencyMs: 60 });
    const reading = await measure({});
    expect(reading).toMatchObject({ backend: "response-time", ok: true, unit: "ms" });
    expect(reading.value).toBeGreaterThanOrEqual(60);
    expect(reading.value).toBeLessThan(1000);
    expect(app.lastRequest()).toMatchObject({ method: "GET", url: "/hb" });
  });

  it("fails on a non-2xx answer, meaning overload (failureMeans left unset)", async () => {
    app.set({ status: 503 });
    const reading = await measure({});
    expect(reading).toMatchObject({ ok: false, error: "heartbeat answered HTTP 503" });
    expect(reading.failureMeans).toBeUndefined();
  });

  it("fails on a timeout with the time waited", async () => {
    app.set({ latencyMs: 500 });
    const reading = await measure({ timeoutMs: 50 });
    expect(reading).toMatchObject({ ok: false, error: "heartbeat failed: no answer within 50 ms" });
    expect(reading.value).toBeGreaterThanOrEqual(45);
    expect(reading.failureMeans).toBeUndefined();
  });

  it("fails when nothing listens, without a value", async () => {
    const closed = await startTargetApp();
    const url = closed.url;
    await closed.close();
    const reading = await measure({ url });
    expect(reading).toMatchObject({ ok: false, value: null });
    expect(reading.error).toMatch(/^heartbeat failed: /);
  });
});

describe("response-time: method and headers", () => {
  it("sends GET by default, HEAD or POST when configured", async () => {
    await measure({});
    expect(app.lastRequest()?.method).toBe("GET");
    expect((await measure({ method: "HEAD" })).ok).toBe(true);
    expect(app.lastRequest()?.method).toBe("HEAD");
    expect((await measure({ method: "POST" })).ok).toBe(true);
    expect(app.lastRequest()?.method).toBe("POST");
  });

  it("sends configured headers, overriding the defaults case-insensitively", async () => {
    await measure({ headers: { "X-Heartbeat-Token": "t0ken-value", "user-agent": "probe/1" } });
    const headers = app.lastRequest()!.headers;
    expect(headers["x-heartbeat-token"]).toBe("t0ken-value");
    expect(headers["user-agent"]).toBe("probe/1");
    expect(headers["cache-control"]).toBe("no-cache");
  });

  it("turns user:pass@ in the URL into Basic auth and leaves it out of the URL", async () => {
    const url = `http://us%40er:p%3Ass@${app.url.slice("http://".length)}/hb`;
    expect((await measure({ url })).ok).toBe(true);
    const request = app.lastRequest()!;
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from("us@er:p:ss").toString("base64")}`);
    expect(request.url).toBe("/hb");
  });

  it("lets a configured Authorization header win over URL credentials", async () => {
    const url = `http://user:pass@${app.url.slice("http://".length)}/hb`;
    await measure({ url, headers: { Authorization: "Bearer abc" } });
    expect(app.lastRequest()!.headers.authorization).toBe("Bearer abc");
  });

  it("never puts header values or URL passwords in errors", async () => {
    const secret = "Bearer sup3r-secret-token";
    const closed = await startTargetApp();
    const host = closed.url.slice("http://".length);
    await closed.close();
    const readings = [
      await measure({ headers: { Authorization: secret }, url: `http://u:pa55word@${host}/hb` }),
      await measure({ url: `http://ghp_sup3rtoken@${host}/hb` }),
    ];
    app.set({ latencyMs: 300 });
    readings.push(
      await measure({ headers: { "X-Api-Key": secret }, timeoutMs: 30, samples: 3, sampleWindowMs: 20 }),
    );
    app.set({ latencyMs: 0, status: 401 });
    readings.push(await measure({ headers: { "X-Api-Key": secret } }));
    for (const reading of readings) {
      expect(reading.ok).toBe(false);
      expect(JSON.stringify(reading)).not.toContain("sup3r");
      expect(JSON.stringify(reading)).not.toContain("pa55word");
    }
  });

  it("rejects header values that fetch would quote in its error, without quoting them", async () => {
    const bad = { backend: "response-time", url: app.url, headers: { "X-Token": "sec\r\nret-value" } };
    const parsed = responseTimeSchema.safeParse(bad);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).not.toContain("ret-value");
    // Built without the schema, the probe neither throws nor leaks the value.
    const reading = await new ResponseTimeMeasurement({
      backend: "response-time",
      url: app.url,
    }).measure(never);
    expect(reading.ok).toBe(true);
    const probe = new HttpProbe(app.url, { "X-Token": "sec\r\nret-value" });
    const result = await probe.fetch(never, { timeoutMs: 1000 });
    expect(result).toMatchObject({
      ok: false,
      error: 'heartbeat failed: header "X-Token" has an invalid name or value',
    });
    expect(JSON.stringify(result)).not.toContain("ret-value");
  });
});

describe("response-time: several samples", () => {
  it("reports the median of samples whose latencies vary per request", async () => {
    app.set({ latencyMs: inTurn([40, 400, 150]) });
    const reading = await measure({ samples: 3, sampleWindowMs: 100 });
    expect(app.hits()).toBe(3);
    expect(reading.ok).toBe(true);
    expect(reading.value).toBeGreaterThanOrEqual(150);
    expect(reading.value).toBeLessThan(400);
  });

  it("spreads the samples evenly over the window: first at once, last at its end", async () => {
    const arrivals: number[] = [];
    app.set({
      latencyMs: () => {
        arrivals.push(performance.now());
        return 0;
      },
    });
    const started = performance.now();
    await measure({ samples: 3, sampleWindowMs: 400 });
    expect(arrivals).toHaveLength(3);
    expect(arrivals[0]! - started).toBeLessThan(100);
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(180);
    expect(arrivals[2]! - arrivals[0]!).toBeGreaterThanOrEqual(380);
    expect(arrivals[2]! - arrivals[0]!).toBeLessThan(600);
  });

  it("counts a failed sample as the slowest: fewer than half failing still reads, pushed up", async () => {
    let n = 0;
    app.set({ latencyMs: inTurn([20, 0, 200]), status: () => (n++ === 1 ? 500 : 200) });
    const reading = await measure({ samples: 3, sampleWindowMs: 200 });
    // Ranked: 20, 200, failure -> the median is the 200 ms sample, not the 20 ms one.
    expect(reading.ok).toBe(true);
    expect(reading.value).toBeGreaterThanOrEqual(200);
  });

  it("fails with two samples when one fails: a partial outage does not read as healthy", async () => {
    let n = 0;
    app.set({ status: () => (n++ === 0 ? 200 : 503) });
    const reading = await measure({ samples: 2, sampleWindowMs: 60 });
    expect(app.hits()).toBe(2);
    expect(reading).toMatchObject({
      ok: false,
      error: "1 of 2 samples failed; first: heartbeat answered HTTP 503",
    });
  });

  it("fails when more than half the samples fail, saying how many", async () => {
    let n = 0;
    app.set({ status: () => (n++ === 0 ? 200 : 503) });
    const reading = await measure({ samples: 3, sampleWindowMs: 60 });
    expect(reading).toMatchObject({
      ok: false,
      error: "2 of 3 samples failed; first: heartbeat answered HTTP 503",
    });
    expect(reading.failureMeans).toBeUndefined();
  });

  it("stops waiting for later samples when the tick's deadline passes", async () => {
    const deadline = new AbortController();
    const measurement = new ResponseTimeMeasurement({
      backend: "response-time",
      url: app.url,
      samples: 3,
      sampleWindowMs: 10_000,
    });
    setTimeout(() => deadline.abort(), 100);
    const started = performance.now();
    const reading = await measurement.measure(deadline.signal);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(reading).toMatchObject({
      ok: false,
      error: "2 of 3 samples failed; first: heartbeat failed: timed out",
    });
    expect(app.hits()).toBe(1);
  });
});

describe("response-time: medianReading", () => {
  const ok = (value: number): Reading => ({ backend: "response-time", value, unit: "ms", ok: true });
  const fail = (error = "heartbeat answered HTTP 503"): Reading => ({
    backend: "response-time",
    value: null,
    unit: "ms",
    ok: false,
    error,
  });

  it.each<[string, Reading[], Partial<Reading>]>([
    ["one sample is itself", [ok(70)], { ok: true, value: 70 }],
    ["odd count: the middle", [ok(300), ok(100), ok(200)], { ok: true, value: 200 }],
    ["even count: the upper middle", [ok(400), ok(100), ok(200), ok(300)], { ok: true, value: 300 }],
    ["two samples: the slower", [ok(100), ok(40)], { ok: true, value: 100 }],
    ["a failure ranks slowest", [fail(), ok(100), ok(300)], { ok: true, value: 300 }],
    [
      "half failed (even): the reading fails",
      [fail("a"), ok(100)],
      { ok: false, error: "1 of 2 samples failed; first: a" },
    ],
    [
      "half of four failed: the reading fails",
      [ok(100), fail("a"), ok(50), fail("b")],
      { ok: false, error: "2 of 4 samples failed; first: a" },
    ],
    [
      "fewer than half of four failed: pushed up",
      [ok(100), fail("a"), ok(50), ok(70)],
      { ok: true, value: 100 },
    ],
    [
      "more than half failed",
      [fail("a"), ok(1), fail("b")],
      { ok: false, error: "2 of 3 samples failed; first: a" },
    ],
    ["all failed", [fail("x"), fail("y")], { ok: false, error: "2 of 2 samples failed; first: x" }],
    ["one failed sample is itself", [fail("x")], { ok: false, error: "x" }],
  ])("%s", (_, readings, expected) => {
    expect(medianReading(readings)).toMatchObject(expected);
  });
});

describe("response-time: schema", () => {
  it("defaults to one GET sample", () => {
    expect(responseTimeSchema.parse({ backend: "response-time", url: "https://example.com/hb" })).toEqual({
      backend: "response-time",
      url: "https://example.com/hb",
      timeoutMs: 5000,
      method: "GET",
      samples: 1,
      sampleWindowMs: 5000,
    });
  });

  it("keeps several samples inside the tick: window + timeout at most 20 s", () => {
    const base = { backend: "response-time", url: "https://example.com/hb", samples: 5 };
    expect(responseTimeSchema.safeParse({ ...base, sampleWindowMs: 15_000, timeoutMs: 5000 }).success).toBe(
      true,
    );
    const tooLong = responseTimeSchema.safeParse({ ...base, sampleWindowMs: 15_000, timeoutMs: 6000 });
    expect(tooLong.error?.issues[0]).toMatchObject({ path: ["sampleWindowMs"] });
    // One sample has no window: a long timeout stays allowed, as before.
    expect(responseTimeSchema.safeParse({ ...base, samples: 1, timeoutMs: 60_000 }).success).toBe(true);
    expect(responseTimeSchema.safeParse({ ...base, samples: 11 }).success).toBe(false);
    expect(responseTimeSchema.safeParse({ ...base, method: "PUT" }).success).toBe(false);
  });
});
