import { inspect } from "node:util";
import { createServer } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startHerokuApi, type HerokuApiServer } from "../../src/local/heroku-api.js";
import { close, listen } from "../../src/local/listen.js";
import { HerokuFormationScaler } from "../../src/scale/heroku.js";
import { ScaleError } from "../../src/scale/types.js";

const API_KEY = "hk-test-0b7c3e9a-secret";
const APP = "dancing-forest-1234";
const HEROKU_ACCEPT = "application/vnd.heroku+json; version=3";

let heroku: HerokuApiServer;

beforeEach(async () => {
  heroku = await startHerokuApi({ apiKey: API_KEY, apps: { [APP]: { web: 2, worker: 1 } } });
});
afterEach(async () => {
  await heroku.close();
});

const signal = () => new AbortController().signal;

function scaler(overrides: Partial<ConstructorParameters<typeof HerokuFormationScaler>[0]> = {}) {
  return new HerokuFormationScaler({
    baseUrl: heroku.url,
    apiKey: API_KEY,
    app: APP,
    processType: "web",
    ...overrides,
  });
}

/** The ScaleError a call rejects with, checked never to carry the API key. */
async function scaleError(promise: Promise<unknown>): Promise<ScaleError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ScaleError);
  expect(inspect(error)).not.toContain(API_KEY);
  expect(String(error)).not.toContain(API_KEY);
  return error as ScaleError;
}

/** A raw request to the local API, with Heroku's headers unless overridden. */
function api(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return fetch(`${heroku.url}${path}`, {
    method: init.method ?? "GET",
    headers: {
      Accept: HEROKU_ACCEPT,
      Authorization: `Bearer ${API_KEY}`,
      "Content-Type": "application/json",
      ...init.headers,
    },
    body: init.body,
  });
}

describe("HerokuFormationScaler", () => {
  it("reads the current quantity", async () => {
    expect(await scaler().current(signal())).toBe(2);
    const [request] = heroku.requests;
    expect(request?.method).toBe("GET");
    expect(request?.path).toBe(`/apps/${APP}/formation/web`);
    expect(request?.headers.accept).toBe(HEROKU_ACCEPT);
    expect(request?.headers.authorization).toBe("[redacted]");
    expect(request?.headers["user-agent"]).toBe("autoscalebot");
  });

  it("scales and returns the quantity Heroku reports", async () => {
    expect(await scaler().scaleTo(5, signal())).toBe(5);
    expect(heroku.quantity(APP, "web")).toBe(5);
    expect(heroku.quantity(APP, "worker")).toBe(1);
    expect(heroku.scaleCount()).toBe(1);
    const request = heroku.requests.at(-1);
    expect(request?.method).toBe("PATCH");
    expect(request?.path).toBe(`/apps/${APP}/formation/web`);
    expect(request?.headers.accept).toBe(HEROKU_ACCEPT);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.body).toEqual({ quantity: 5 });
  });

  it("sees a manual scale made on the platform", async () => {
    heroku.setQuantity(APP, "web", 7);
    expect(await scaler().current(signal())).toBe(7);
  });

  it("accepts the app id and formation id as identities, URL-encoded", async () => {
    const formation = (await (await api(`/apps/${APP}/formation/worker`)).json()) as {
      id: string;
      app: { id: string };
    };
    const byId = scaler({ app: formation.app.id, processType: formation.id });
    expect(await byId.scaleTo(3, signal())).toBe(3);
    expect(heroku.quantity(APP, "worker")).toBe(3);
    await scaleError(scaler({ processType: "we b/x" }).current(signal()));
    expect(heroku.requests.at(-1)?.path).toBe(`/apps/${APP}/formation/we%20b%2Fx`);
  });

  it("names its target and never shows the API key", () => {
    const s = scaler();
    expect(s.target).toBe(`heroku ${APP}/web`);
    expect(String(s)).toBe(`heroku ${APP}/web`);
    expect(inspect(s)).not.toContain(API_KEY);
    expect(JSON.stringify(s)).not.toContain(API_KEY);
  });

  it("reports a wrong API key as Heroku's 401", async () => {
    const error = await scaleError(scaler({ apiKey: "wrong-key" }).current(signal()));
    expect(error).toMatchObject({
      id: "unauthorized",
      message: "Invalid credentials provided.",
      status: 401,
    });
  });

  it("reports a 403", async () => {
    heroku.failNext(403, { id: "forbidden", message: `You do not have access to the app ${APP}.` });
    const error = await scaleError(scaler().scaleTo(3, signal()));
    expect(error).toMatchObject({
      id: "forbidden",
      message: `You do not have access to the app ${APP}.`,
      status: 403,
    });
    expect(heroku.quantity(APP, "web")).toBe(2);
  });

  it("reports an unknown app and an unknown process type as 404", async () => {
    const noApp = await scaleError(scaler({ app: "no-such-app" }).current(signal()));
    expect(noApp).toMatchObject({ id: "not_found", message: "Couldn't find that app.", status: 404 });
    const noType = await scaleError(scaler({ processType: "clock" }).scaleTo(1, signal()));
    expect(noType).toMatchObject({ id: "not_found", message: "Couldn't find that formation.", status: 404 });
  });

  it("reports the API's 422 for an invalid quantity", async () => {
    const negative = await scaleError(scaler().scaleTo(-1, signal()));
    expect(negative).toMatchObject({ id: "invalid_params", status: 422 });
    expect(negative.message).toMatch(/quantity/);
    const tooMany = await scaleError(scaler().scaleTo(101, signal()));
    expect(tooMany).toMatchObject({
      id: "cannot_update_above_limit",
      message: "Cannot update to more than 100 Standard-1X size dynos per process type.",
      details: { limit: 100 },
    });
    expect(heroku.quantity(APP, "web")).toBe(2);
    expect(heroku.scaleCount()).toBe(0);
  });

  it("reads the whole formation in one GET and scales many types in one batch PATCH", async () => {
    const web = scaler().batch;
    const worker = scaler({ processType: "worker" }).batch;
    expect(web.key).toBe(worker.key);
    expect(web.key).not.toContain(API_KEY);
    expect(web.account).not.toContain(API_KEY);
    expect(scaler({ app: "other-app-1" }).batch.key).not.toBe(web.key);
    expect(scaler({ apiKey: "another-key" }).batch.account).not.toBe(web.account);
    const read = await web.readAll(signal());
    expect(read.counts.get("web")).toBe(2);
    expect(read.counts.get("worker")).toBe(1);
    expect(read.remaining).toBe(4499);
    expect(heroku.requests.at(-1)).toMatchObject({ method: "GET", path: `/apps/${APP}/formation` });
    const written = await web.scaleAll(
      new Map([
        ["web", 3],
        ["worker", 0],
      ]),
      signal(),
    );
    expect(written).toMatchObject({ remaining: 4498 });
    expect([written.counts.get("web"), written.counts.get("worker")]).toEqual([3, 0]);
    expect(heroku.requests.at(-1)).toMatchObject({
      method: "PATCH",
      path: `/apps/${APP}/formation`,
      body: {
        updates: [
          { type: "web", quantity: 3 },
          { type: "worker", quantity: 0 },
        ],
      },
    });
    expect(heroku.requests).toHaveLength(2);
  });

  it("names the dyno limit of a refused batch and the back-off of a 429", async () => {
    const batch = scaler().batch;
    const refused = await scaleError(batch.scaleAll(new Map([["web", 150]]), signal()));
    expect(refused).toMatchObject({ id: "cannot_update_above_limit", details: { limit: 100 }, status: 422 });
    heroku.setRateLimitRemaining(0);
    const limited = await scaleError(batch.readAll(signal()));
    expect(limited).toMatchObject({ kind: "rate-limited", details: { retryAfterMs: 120_000 } });
  });

  it("reports an exhausted rate limit as 429 with RateLimit-Remaining", async () => {
    heroku.setRateLimitRemaining(0);
    const error = await scaleError(scaler().scaleTo(3, signal()));
    expect(error).toMatchObject({ id: "rate_limit", status: 429 });
    expect(error.message).toContain("Your account reached the API rate limit");
    expect(error.message).toContain("RateLimit-Remaining: 0");
    expect(heroku.quantity(APP, "web")).toBe(2);
  });

  it("reports an injected 429 and recovers after it", async () => {
    heroku.failNext(429);
    const error = await scaleError(scaler().current(signal()));
    expect(error).toMatchObject({ id: "rate_limit", status: 429 });
    expect(error.message).toContain("RateLimit-Remaining: 0");
    expect(await scaler().current(signal())).toBe(2);
  });

  it.each([
    [500, "internal_server_error"],
    [503, "unavailable"],
  ])("reports a %i as %s, as many times as asked", async (status, id) => {
    heroku.failNext(status, undefined, 2);
    expect(await scaleError(scaler().current(signal()))).toMatchObject({ id, status });
    expect(await scaleError(scaler().scaleTo(4, signal()))).toMatchObject({ id, status });
    expect(await scaler().current(signal())).toBe(2);
  });

  it("can fail only the requests of one method", async () => {
    heroku.failNext(503, undefined, 1, "PATCH");
    expect(await scaler().current(signal())).toBe(2);
    expect(await scaleError(scaler().scaleTo(3, signal()))).toMatchObject({ id: "unavailable", status: 503 });
    expect(await scaler().scaleTo(3, signal())).toBe(3);
  });

  it("falls back to the HTTP status when the body is not Heroku's", async () => {
    heroku.failNext(502, { id: 42 as unknown as string, message: "nope" });
    expect(await scaleError(scaler().current(signal()))).toMatchObject({
      id: "http_502",
      message: "Bad Gateway",
      status: 502,
    });
  });

  it("times out when the API answers too slowly", async () => {
    heroku.setLatency(300);
    const started = Date.now();
    const error = await scaleError(scaler({ timeoutMs: 50 }).current(signal()));
    expect(error).toMatchObject({ id: "timeout", message: "Heroku API did not answer within 50 ms" });
    expect(Date.now() - started).toBeLessThan(250);
  });

  it("reports the caller's cancellation apart from its own timeout", async () => {
    const error = await scaleError(scaler().current(AbortSignal.abort()));
    expect(error.id).toBe("aborted");
  });

  it("reports an unreachable API as a network error", async () => {
    const closed = await startHerokuApi({ apiKey: API_KEY, apps: {} });
    await closed.close();
    const error = await scaleError(scaler({ baseUrl: closed.url }).current(signal()));
    expect(error.id).toBe("network_error");
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("rejects a success body without a valid quantity", async () => {
    // Not Heroku: a server that answers 200 with a formation whose quantity is negative.
    const server = createServer((_, response) => response.end(JSON.stringify({ type: "web", quantity: -1 })));
    const url = await listen(server);
    try {
      expect(await scaleError(scaler({ baseUrl: url }).current(signal()))).toMatchObject({
        id: "bad_response",
        status: 200,
      });
    } finally {
      await close(server);
    }
  });
});

describe("local Heroku API contract", () => {
  it("lists formations with exactly the schema's properties", async () => {
    const response = await api(`/apps/${APP}/formation`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    const formations = (await response.json()) as Record<string, unknown>[];
    expect(formations.map((f) => [f.type, f.quantity])).toEqual([
      ["web", 2],
      ["worker", 1],
    ]);
    expect(Object.keys(formations[0]!).sort()).toEqual([
      "app",
      "command",
      "created_at",
      "dyno_size",
      "id",
      "quantity",
      "size",
      "type",
      "updated_at",
    ]);
    expect(formations[0]).toMatchObject({
      app: { name: APP, id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown },
      dyno_size: { name: "Standard-1X" },
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) as unknown,
    });
  });

  it("requires the versioned Accept header", async () => {
    const response = await api(`/apps/${APP}/formation`, { headers: { Accept: "application/json" } });
    expect(response.status).toBe(400);
    expect(response.headers.get("ratelimit-remaining")).not.toBeNull();
    expect(await response.json()).toMatchObject({ id: "missing_version" });
  });

  it("requires the API key", async () => {
    const response = await fetch(`${heroku.url}/apps/${APP}/formation`, {
      headers: { Accept: HEROKU_ACCEPT },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ id: "unauthorized", message: "Invalid credentials provided." });
  });

  it("counts down RateLimit-Remaining, except when reading it", async () => {
    await heroku.close();
    heroku = await startHerokuApi({ apiKey: API_KEY, apps: { [APP]: { web: 1 } }, rateLimit: 3 });
    const remaining = async (path: string) => (await api(path)).headers.get("ratelimit-remaining");
    expect(await remaining(`/apps/${APP}/formation/web`)).toBe("2");
    expect(await remaining(`/apps/${APP}/formation/web`)).toBe("1");
    expect(await (await api("/account/rate-limits")).json()).toEqual({ remaining: 1 });
    expect(await remaining(`/apps/${APP}/formation/web`)).toBe("0");
    const limited = await api(`/apps/${APP}/formation/web`);
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ id: "rate_limit" });
  });

  it("applies a batch update", async () => {
    const response = await api(`/apps/${APP}/formation`, {
      method: "PATCH",
      body: JSON.stringify({
        updates: [
          { type: "web", quantity: 4 },
          { type: "worker", quantity: 0, dyno_size: { name: "standard-2x" } },
        ],
      }),
    });
    expect(response.status).toBe(200);
    const formations = (await response.json()) as { type: string; quantity: number; size: string }[];
    expect(formations.map((f) => [f.type, f.quantity, f.size])).toEqual([
      ["web", 4, "Standard-1X"],
      ["worker", 0, "Standard-2X"],
    ]);
    expect(heroku.quantity(APP, "web")).toBe(4);
    expect(heroku.quantity(APP, "worker")).toBe(0);
  });

  it("applies nothing of a batch when one update is refused", async () => {
    const response = await api(`/apps/${APP}/formation`, {
      method: "PATCH",
      body: JSON.stringify({ updates: [{ type: "web", quantity: 4 }, { type: "clock" }] }),
    });
    expect(response.status).toBe(404);
    expect(heroku.quantity(APP, "web")).toBe(2);
  });

  it.each([
    ["an unknown property", JSON.stringify({ quantity: 1, replicas: 3 }), 422, "invalid_params"],
    ["a fractional quantity", JSON.stringify({ quantity: 1.5 }), 422, "invalid_params"],
    ["a string quantity", JSON.stringify({ quantity: "2" }), 422, "invalid_params"],
    ["a non-object body", "[1]", 422, "invalid_params"],
    ["a body that is not JSON", "quantity=2", 400, "bad_request"],
  ])("refuses %s", async (_, body, status, id) => {
    const response = await api(`/apps/${APP}/formation/web`, { method: "PATCH", body });
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ id });
    expect(heroku.quantity(APP, "web")).toBe(2);
  });

  it("closes promptly while a delayed response is pending", async () => {
    heroku.setLatency(10_000);
    const pending = api(`/apps/${APP}/formation/web`).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await heroku.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
  });

  it("answers not_found for an unknown route", async () => {
    const response = await api(`/apps/${APP}/dynos`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ id: "not_found" });
  });
});
