import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { startRenderApi, type RenderApiServer } from "../../src/local/render-api.js";
import { render, RenderScaler } from "../../src/scale/render.js";
import { closedPort } from "../helpers/net.js";
import { expectNoSecret, scaleError, tickWith } from "./platform-helpers.js";

const API_KEY = "rnd_test0b7c3e9aSecretKey";
const SERVICE = "srv-d0abc123example";
const WORKER = "srv-d0worker456";

let api: RenderApiServer;
beforeEach(async () => {
  api = await startRenderApi({ apiKey: API_KEY, services: { [SERVICE]: 2, [WORKER]: 1 } });
});
afterEach(async () => {
  await api.close();
});

const signal = () => new AbortController().signal;
const scaler = (overrides: Partial<ConstructorParameters<typeof RenderScaler>[0]> = {}) =>
  new RenderScaler({ baseUrl: api.url, apiKey: API_KEY, serviceId: SERVICE, timeoutMs: 2000, ...overrides });
const failure = (promise: Promise<unknown>) => scaleError(promise, [API_KEY]);

describe("RenderScaler against the local Render API", () => {
  it("reads serviceDetails.numInstances with the key as a Bearer token", async () => {
    expect(await scaler().current(signal())).toBe(2);
    const [request] = api.received;
    expect(request).toMatchObject({ method: "GET", path: `/v1/services/${SERVICE}` });
    expect(request?.headers).toMatchObject({
      accept: "application/json",
      authorization: "[redacted]",
      "user-agent": "autoscalebot",
    });
  });

  it("scales with POST /scale and {numInstances}, and sees the count afterwards", async () => {
    expect(await scaler().scaleTo(5, signal())).toBe(5);
    expect(api.numInstances(SERVICE)).toBe(5);
    expect(api.numInstances(WORKER)).toBe(1);
    expect(api.received.at(-1)).toMatchObject({
      method: "POST",
      path: `/v1/services/${SERVICE}/scale`,
      body: { numInstances: 5 },
      headers: { "content-type": "application/json" },
    });
    expect(await scaler().current(signal())).toBe(5);
  });

  it("sees a scale made on the dashboard", async () => {
    api.setNumInstances(SERVICE, 4);
    expect(await scaler().current(signal())).toBe(4);
  });

  it("names its target and never shows the key", () => {
    const s = scaler();
    expect(s.target).toBe(`render ${SERVICE}`);
    expectNoSecret(s, [API_KEY]);
  });

  it("reports a wrong key as Render's 401", async () => {
    const error = await failure(scaler({ apiKey: "rnd_wrong" }).current(signal()));
    expect(error).toMatchObject({
      kind: "unauthorized",
      id: "http_401",
      message: "unauthorized",
      status: 401,
    });
  });

  it("reports an unknown service as 404, for a read and for a scale", async () => {
    const read = await failure(scaler({ serviceId: "srv-nosuch" }).current(signal()));
    expect(read).toMatchObject({ kind: "not-found", status: 404, message: "service not found" });
    const scale = await failure(scaler({ serviceId: "srv-nosuch" }).scaleTo(2, signal()));
    expect(scale).toMatchObject({ kind: "not-found", status: 404 });
  });

  it("reports an exhausted rate limit as 429 with Render's Ratelimit headers", async () => {
    api.setRateLimitRemaining("post", 0);
    const error = await failure(scaler().scaleTo(3, signal()));
    expect(error).toMatchObject({ kind: "rate-limited", id: "http_429", status: 429 });
    expect(error.message).toMatch(
      /^rate limit exceeded \(Ratelimit-Limit: 30, Ratelimit-Remaining: 0, Ratelimit-Reset: \d+\)$/,
    );
    expect(api.numInstances(SERVICE)).toBe(2);
    // Reads have their own window.
    expect(await scaler().current(signal())).toBe(2);
  });

  it("keeps Render's stable error code as the id", async () => {
    api.failNext(400, { id: "b7e0c9f2", code: "invalid_num_instances", message: "numInstances is too high" });
    const error = await failure(scaler().scaleTo(3, signal()));
    expect(error).toMatchObject({
      kind: "refused",
      id: "invalid_num_instances",
      message: "numInstances is too high",
    });
    expect(error.unclear).toBe(false);
  });

  it("refuses what Render refuses: 0 instances, a static site", async () => {
    const zero = await failure(scaler().scaleTo(0, signal()));
    expect(zero).toMatchObject({ kind: "refused", status: 400 });
    expect(zero.message).toContain("from 1 to 100");
    await api.close();
    api = await startRenderApi({
      apiKey: API_KEY,
      services: { [SERVICE]: { numInstances: 1, type: "static_site" } },
    });
    const site = await failure(scaler().current(signal()));
    expect(site).toMatchObject({ kind: "bad-response", status: 200 });
    expect(site.message).toContain("serviceDetails.numInstances");
  });

  it.each([500, 502, 503])("reports a %i as a server error, which may have applied", async (status) => {
    api.failNext(status, undefined, 1, "POST");
    const error = await failure(scaler().scaleTo(3, signal()));
    expect(error).toMatchObject({ kind: "server", status });
    expect(error.unclear).toBe(true);
    expect(await scaler().current(signal())).toBe(2);
  });

  it("times out a slow answer, which may have applied", async () => {
    api.setLatency(500);
    const started = Date.now();
    const error = await failure(scaler({ timeoutMs: 50 }).scaleTo(4, signal()));
    expect(error).toMatchObject({ kind: "timeout", message: "Render API did not answer within 50 ms" });
    expect(error.unclear).toBe(true);
    expect(Date.now() - started).toBeLessThan(400);
  });

  it("reports the caller's cancellation apart from its own timeout", async () => {
    expect(await failure(scaler().current(AbortSignal.abort()))).toMatchObject({ kind: "aborted" });
  });

  it("reports an unreachable API as a network error", async () => {
    const error = await failure(
      scaler({ baseUrl: `http://127.0.0.1:${await closedPort()}` }).current(signal()),
    );
    expect(error).toMatchObject({ kind: "network", id: "network_error" });
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("scrubs the key from a message that echoes it", async () => {
    api.failNext(403, { message: `key ${API_KEY} may not scale ${SERVICE}` });
    const error = await failure(scaler().scaleTo(3, signal()));
    expect(error).toMatchObject({ kind: "unauthorized", message: `key [redacted] may not scale ${SERVICE}` });
  });

  it("refuses a service Render autoscales, whose count it would ignore", async () => {
    api.setAutoscaling(SERVICE, true);
    const error = await failure(scaler().current(signal()));
    expect(error).toMatchObject({ kind: "refused", id: "render_autoscaling_enabled" });
    expect(error.message).toContain("Render ignores manual scaling");
    expect(render.advice(error, render.schema.parse({ backend: "render", serviceId: SERVICE }))).toContain(
      "autoscaling off",
    );
    // The local API ignores the count as Render does.
    await scaler().scaleTo(3, signal());
    expect(api.numInstances(SERVICE)).toBe(2);
  });
});

describe("the render backend", () => {
  const config = (scaling: object) =>
    parseConfig({
      processes: {
        web: { measurement: { backend: "app-json", url: "http://127.0.0.1:1/load" }, scaling },
        worker: { measurement: { backend: "app-json", url: "http://127.0.0.1:1/load" }, scaling },
      },
    });

  it("validates its settings, and two processes may not scale one service", () => {
    expect(() => config({ backend: "render", serviceId: "web-1" })).toThrow(
      /serviceId: expected a Render service id/,
    );
    expect(() => config({ backend: "render", serviceId: SERVICE })).toThrow(
      /scales the same formation as processes.web/,
    );
  });

  it("needs its key, and names the variable", () => {
    const error = (() => {
      try {
        render.create(
          render.schema.parse({ backend: "render", serviceId: SERVICE, apiKeyEnv: "MY_RENDER_KEY" }),
          "web",
          {},
        );
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({ kind: "missing-credentials", message: "MY_RENDER_KEY is not set" });
    expect(render.secretEnv(render.schema.parse({ backend: "render", serviceId: SERVICE }))).toEqual([
      "RENDER_API_KEY",
    ]);
  });

  it("scales through a real tick, the base URL from RENDER_API_URL", async () => {
    const { report, memory } = await tickWith(
      { backend: "render", serviceId: SERVICE },
      { RENDER_API_KEY: API_KEY, RENDER_API_URL: api.url },
      4,
    );
    expect(report.processes[0]).toMatchObject({ status: "scaled", scaled: { from: 2, to: 4 } });
    expect(api.numInstances(SERVICE)).toBe(4);
    expect(memory.events.map((e) => e.kind)).toEqual(["scale"]);
  });

  it("reports a refused key in a real tick with the advice, never the key", async () => {
    const { report, memory } = await tickWith(
      { backend: "render", serviceId: SERVICE },
      { RENDER_API_KEY: "rnd_not-the-key", RENDER_API_URL: api.url },
      4,
    );
    expect(report.processes[0]).toMatchObject({
      status: "error",
      error: { id: "http_401", advice: expect.stringContaining("check the Render API key") as unknown },
    });
    expect(memory.events.map((e) => e.kind)).toEqual(["scale-failed"]);
    expect(JSON.stringify(report)).not.toContain("rnd_not-the-key");
    expect(api.numInstances(SERVICE)).toBe(2);
  });
});
