import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTargetApp, type TargetApp } from "../../src/local/target-app.js";
import {
  ServiceTimeMeasurement,
  serviceTimeSchema,
  type ServiceTimeInput,
} from "../../src/measure/service-time.js";
import { findServerTiming, parseServerTiming } from "../../src/measure/server-timing.js";

describe("Server-Timing parser", () => {
  const brief = (header: string | null) =>
    parseServerTiming(header).map((m) => [m.name, m.duration, m.description] as const);

  it.each<[string, string | null, Array<readonly [string, number | null, string | null]>]>([
    ["absent", null, []],
    ["empty", "", []],
    ["a name alone", "miss", [["miss", null, null]]],
    ["dur", "app;dur=123.4", [["app", 123.4, null]]],
    [
      "several metrics",
      'app;dur=123.4;desc="x", db;dur=5',
      [
        ["app", 123.4, "x"],
        ["db", 5, null],
      ],
    ],
    [
      "whitespace around everything",
      "  app ; dur = 12 ;desc=plain ,db",
      [
        ["app", 12, "plain"],
        ["db", null, null],
      ],
    ],
    [
      "a comma and escapes in a quoted desc",
      'app;desc="a, \\"b\\"";dur=7, db',
      [
        ["app", 7, 'a, "b"'],
        ["db", null, null],
      ],
    ],
    ["case-insensitive param names", "app;DUR=9;Desc=y", [["app", 9, "y"]]],
    ["the first of repeated params", "app;dur=1;dur=2", [["app", 1, null]]],
    ["a non-numeric dur", "app;dur=fast", [["app", null, null]]],
    ["a decimal without integer part", "app;dur=.5", [["app", 0.5, null]]],
    ["a param without value", "cache;hit;dur=3", [["cache", 3, null]]],
    [
      "a malformed metric is skipped, the rest kept",
      'bad name;dur=1, @x, app;dur=2, "q", db;dur=3',
      [
        ["app", 2, null],
        ["db", 3, null],
      ],
    ],
    [
      "an unterminated quote ends the header",
      'app;dur=1, db;desc="oops, x;dur=2',
      [
        ["app", 1, null],
        ["db", null, "oops, x;dur=2"],
      ],
    ],
    ["empty list members", ", ,app;dur=4,", [["app", 4, null]]],
  ])("%s", (_, header, expected) => {
    expect(brief(header)).toEqual(expected);
  });

  it("keeps every parameter by lower-cased name", () => {
    expect(parseServerTiming('edge;Region="eu";hit')[0]!.params).toEqual({ region: "eu", hit: "" });
  });

  it("finds the first metric of a name, compared exactly", () => {
    expect(findServerTiming("db;dur=1, app;dur=2, app;dur=3", "app")?.duration).toBe(2);
    expect(findServerTiming("App;dur=2", "app")).toBeNull();
    expect(findServerTiming(null, "app")).toBeNull();
  });
});

describe("service-time backend", () => {
  let app: TargetApp;
  beforeEach(async () => {
    app = await startTargetApp();
  });
  afterEach(() => app.close());

  const measure = (config: Partial<ServiceTimeInput> = {}) =>
    new ServiceTimeMeasurement({ backend: "service-time", url: `${app.url}/hb`, ...config }).measure(
      new AbortController().signal,
    );

  it("reads the app metric's dur from Server-Timing, not the time on the wire", async () => {
    app.set({ latencyMs: 80, headers: { "Server-Timing": 'db;dur=3, app;dur=12.5;desc="render"' } });
    expect(await measure()).toEqual({ backend: "service-time", value: 12.5, unit: "ms", ok: true });
    expect(app.lastRequest()?.method).toBe("GET");
  });

  it("takes the configured metric and sends configured headers", async () => {
    app.set({ headers: { "Server-Timing": "app;dur=1, total;dur=40" } });
    expect((await measure({ metric: "total", headers: { "X-Token": "abc" } })).value).toBe(40);
    expect(app.lastRequest()?.headers["x-token"]).toBe("abc");
  });

  it("falls back to a JSON body field when the header lacks the metric", async () => {
    app.set({ headers: { "Server-Timing": "db;dur=3" }, body: { timing: { serviceMs: 31 } } });
    expect(await measure({ jsonField: "timing.serviceMs" })).toMatchObject({ ok: true, value: 31 });
  });

  it("prefers the header over the JSON field", async () => {
    app.set({ headers: { "Server-Timing": "app;dur=7" }, body: { timing: { serviceMs: 31 } } });
    expect((await measure({ jsonField: "timing.serviceMs" })).value).toBe(7);
  });

  it("fails meaning unknown when the metric is missing and there is no fallback", async () => {
    app.set({ headers: { "Server-Timing": "db;dur=3" } });
    expect(await measure()).toEqual({
      backend: "service-time",
      value: null,
      unit: "ms",
      ok: false,
      failureMeans: "unknown",
      error: 'no Server-Timing metric "app"',
    });
    app.set({ headers: { "Server-Timing": "app" } });
    expect((await measure()).error).toBe('the Server-Timing metric "app" has no valid dur');
  });

  it("fails meaning unknown when neither the metric nor the JSON field is there", async () => {
    app.set({ headers: {}, body: "<html>" });
    expect(await measure({ jsonField: "timing.serviceMs" })).toMatchObject({
      ok: false,
      failureMeans: "unknown",
      error: 'no Server-Timing metric "app", and the body is not JSON',
    });
    app.set({ body: { timing: {} } });
    expect((await measure({ jsonField: "timing.serviceMs" })).error).toBe(
      'no Server-Timing metric "app", and the JSON body has no field "timing.serviceMs"',
    );
    app.set({ body: { timing: { serviceMs: "12" } } });
    expect((await measure({ jsonField: "timing.serviceMs" })).error).toMatch(/is not a number >= 0$/);
  });

  it("fails meaning overload on a non-2xx answer or a timeout", async () => {
    app.set({ status: 503, headers: { "Server-Timing": "app;dur=5" } });
    const down = await measure();
    expect(down).toMatchObject({ ok: false, error: "heartbeat answered HTTP 503" });
    expect(down.failureMeans).toBeUndefined();
    app.set({ status: 200, latencyMs: 300 });
    const slow = await measure({ timeoutMs: 40 });
    expect(slow).toMatchObject({ ok: false, error: "heartbeat failed: no answer within 40 ms" });
    expect(slow.failureMeans).toBeUndefined();
  });

  it("validates its config", () => {
    const base = { backend: "service-time", url: "https://example.com/hb" };
    expect(serviceTimeSchema.parse(base)).toEqual({ ...base, timeoutMs: 5000, metric: "app" });
    expect(serviceTimeSchema.safeParse({ ...base, metric: "a b" }).success).toBe(false);
    expect(serviceTimeSchema.safeParse({ ...base, jsonField: "a..b" }).success).toBe(false);
    expect(serviceTimeSchema.safeParse({ ...base, extra: 1 }).success).toBe(false);
  });
});
