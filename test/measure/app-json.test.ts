import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTargetApp, type TargetApp } from "../../src/local/target-app.js";
import { AppJsonMeasurement, appJsonSchema, type AppJsonInput } from "../../src/measure/app-json.js";

let app: TargetApp;
beforeEach(async () => {
  app = await startTargetApp();
});
afterEach(() => app.close());

const measure = (config: Partial<AppJsonInput> = {}) =>
  new AppJsonMeasurement({ backend: "app-json", url: `${app.url}/autoscale`, ...config }).measure(
    new AbortController().signal,
  );
const unknown = (error: string) => ({
  backend: "app-json",
  ok: false,
  value: null,
  failureMeans: "unknown",
  error,
});

describe("app-json backend", () => {
  it("reads a number at a dotted path, in the configured unit (count by default)", async () => {
    app.set({ body: { queues: { default: { depth: 17 } } } });
    expect(await measure({ path: "queues.default.depth" })).toEqual({
      backend: "app-json",
      value: 17,
      unit: "count",
      ok: true,
    });
    expect(await measure({ path: "queues.default.depth", unit: "jobs" })).toMatchObject({
      value: 17,
      unit: "jobs",
    });
    app.set({ body: { items: [{ ms: 250.5 }] } });
    expect(await measure({ path: "items.0.ms", unit: "ms" })).toMatchObject({
      ok: true,
      value: 250.5,
      unit: "ms",
    });
    expect(app.lastRequest()).toMatchObject({ method: "GET", url: "/autoscale" });
  });

  it('honours { "desired": n } as the process count the app asks for', async () => {
    app.set({ body: { desired: 4 } });
    expect(await measure()).toEqual({ backend: "app-json", value: 4, unit: "count", ok: true, desired: 4 });
    app.set({ body: { desired: 0 } });
    expect(await measure()).toMatchObject({ ok: true, desired: 0 });
  });

  it("lets an explicit desired win over the configured path", async () => {
    app.set({ body: { desired: 2, depth: 90 } });
    expect(await measure({ path: "depth", unit: "jobs" })).toMatchObject({
      ok: true,
      desired: 2,
      unit: "count",
    });
  });

  it("fails meaning unknown on a body that is not JSON", async () => {
    app.set({ body: "<html>busy</html>" });
    expect(await measure({ path: "depth" })).toMatchObject(unknown("app-json: the body is not JSON"));
  });

  it("fails meaning unknown on a missing path or a value that is not a number", async () => {
    app.set({ body: { queues: {} } });
    expect(await measure({ path: "queues.default.depth" })).toMatchObject(
      unknown('app-json: the JSON body has no field "queues.default.depth"'),
    );
    app.set({ body: { depth: "17" } });
    expect(await measure({ path: "depth" })).toMatchObject(
      unknown('app-json: the JSON field "depth" is not a number >= 0'),
    );
    app.set({ body: { depth: -1 } });
    expect((await measure({ path: "depth" })).ok).toBe(false);
    // Own properties only: a path cannot wander into prototypes.
    app.set({ body: {} });
    expect((await measure({ path: "constructor" })).error).toBe(
      'app-json: the JSON body has no field "constructor"',
    );
  });

  it("fails meaning unknown on a bad desired, or on no desired without a path", async () => {
    for (const desired of [-1, 1.5, "3", null]) {
      app.set({ body: { desired } });
      expect(await measure()).toMatchObject(unknown('app-json: "desired" is not an integer >= 0'));
    }
    app.set({ body: { want: 3 } });
    expect(await measure()).toMatchObject(
      unknown('app-json: expected {"desired": n} (no path is configured)'),
    );
  });

  it("fails meaning overload on a non-2xx answer or a timeout", async () => {
    app.set({ status: 502, body: { desired: 3 } });
    const down = await measure();
    expect(down).toMatchObject({ ok: false, error: "heartbeat answered HTTP 502" });
    expect(down.failureMeans).toBeUndefined();
    app.set({ status: 200, latencyMs: 300 });
    const slow = await measure({ timeoutMs: 40 });
    expect(slow).toMatchObject({ ok: false, error: "heartbeat failed: no answer within 40 ms" });
    expect(slow.failureMeans).toBeUndefined();
  });

  it("sends configured headers", async () => {
    app.set({ body: { desired: 1 } });
    await measure({ headers: { Authorization: "Bearer x-token" } });
    expect(app.lastRequest()?.headers.authorization).toBe("Bearer x-token");
  });

  it("validates its config", () => {
    const base = { backend: "app-json", url: "https://example.com/autoscale" };
    expect(appJsonSchema.parse(base)).toEqual({ ...base, timeoutMs: 5000, unit: "count" });
    expect(appJsonSchema.safeParse({ ...base, unit: "seconds" }).success).toBe(false);
    expect(appJsonSchema.safeParse({ ...base, path: "" }).success).toBe(false);
    expect(appJsonSchema.safeParse({ ...base, headers: { "Bad Name": "x" } }).success).toBe(false);
  });
});
