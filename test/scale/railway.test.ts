import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { startRailwayApi, type RailwayApiServer } from "../../src/local/railway-api.js";
import { railway, RailwayScaler } from "../../src/scale/railway.js";
import { closedPort } from "../helpers/net.js";
import { expectNoSecret, scaleError, tickWith } from "./platform-helpers.js";

const TOKEN = "5f0e3c1a-account-token-secret";
const PROJECT_TOKEN = "8d2b7a94-project-token-secret";
const SERVICE = "0b6f1e3a-4c2d-4e8f-9a1b-2c3d4e5f6a7b";
const PRODUCTION = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const STAGING = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";

let api: RailwayApiServer;
beforeEach(async () => {
  api = await startRailwayApi({
    token: TOKEN,
    projectToken: { token: PROJECT_TOKEN, environmentId: PRODUCTION },
    instances: { [`${SERVICE}/${PRODUCTION}`]: 2, [`${SERVICE}/${STAGING}`]: null },
  });
});
afterEach(async () => {
  await api.close();
});

const signal = () => new AbortController().signal;
const scaler = (overrides: Partial<ConstructorParameters<typeof RailwayScaler>[0]> = {}) =>
  new RailwayScaler({
    baseUrl: api.url,
    token: TOKEN,
    tokenType: "account",
    serviceId: SERVICE,
    environmentId: PRODUCTION,
    timeoutMs: 2000,
    ...overrides,
  });
const failure = (promise: Promise<unknown>) => scaleError(promise, [TOKEN, PROJECT_TOKEN]);

describe("RailwayScaler against the local Railway API", () => {
  it("reads numReplicas with the serviceInstance query, the token as a Bearer token", async () => {
    expect(await scaler().current(signal())).toBe(2);
    const [request] = api.received;
    expect(request).toMatchObject({ method: "POST", path: "/graphql/v2" });
    expect(request?.headers).toMatchObject({
      authorization: "[redacted]",
      "content-type": "application/json",
    });
    const body = request?.body as { query: string; operationName: string; variables: object };
    expect(body.operationName).toBe("serviceInstance");
    expect(body.query).toMatch(
      /serviceInstance\(serviceId: \$serviceId, environmentId: \$environmentId\)\s*\{\s*numReplicas\s*\}/,
    );
    expect(body.variables).toEqual({ serviceId: SERVICE, environmentId: PRODUCTION });
  });

  it("reads a never-scaled service (numReplicas null) as one replica", async () => {
    expect(await scaler({ environmentId: STAGING }).current(signal())).toBe(1);
  });

  it("scales with serviceInstanceUpdate and input.numReplicas", async () => {
    expect(await scaler().scaleTo(4, signal())).toBe(4);
    expect(api.numReplicas(SERVICE, PRODUCTION)).toBe(4);
    expect(api.numReplicas(SERVICE, STAGING)).toBeNull();
    const body = api.received.at(-1)?.body as { query: string; variables: object };
    expect(body.query).toContain(
      "serviceInstanceUpdate(serviceId: $serviceId, environmentId: $environmentId, input: $input)",
    );
    expect(body.variables).toEqual({
      serviceId: SERVICE,
      environmentId: PRODUCTION,
      input: { numReplicas: 4 },
    });
    expect(await scaler().current(signal())).toBe(4);
  });

  it("takes the full endpoint as the base URL too", async () => {
    expect(await scaler({ baseUrl: `${api.url}/graphql/v2/` }).current(signal())).toBe(2);
  });

  it("sends a project token as Project-Access-Token, which reaches only its environment", async () => {
    const project = scaler({ token: PROJECT_TOKEN, tokenType: "project" });
    expect(await project.scaleTo(3, signal())).toBe(3);
    const headers = api.received.at(-1)?.headers;
    expect(headers?.["project-access-token"]).toBe("[redacted]");
    expect(headers?.authorization).toBeUndefined();
    const elsewhere = await failure(
      scaler({ token: PROJECT_TOKEN, tokenType: "project", environmentId: STAGING }).current(signal()),
    );
    expect(elsewhere).toMatchObject({ kind: "unauthorized", message: "Not Authorized", status: 200 });
  });

  it("names its target and never shows the token", () => {
    const s = scaler();
    expect(s.target).toBe(`railway ${SERVICE}/${PRODUCTION}`);
    expectNoSecret(s, [TOKEN]);
  });

  it("reports a wrong token, which Railway answers as HTTP 200 with errors", async () => {
    const account = await failure(scaler({ token: "wrong-token-0000" }).current(signal()));
    expect(account).toMatchObject({
      kind: "unauthorized",
      id: "internal_server_error",
      message: "Not Authorized",
      status: 200,
    });
    const project = await failure(
      scaler({ token: "wrong-token-0000", tokenType: "project" }).current(signal()),
    );
    expect(project).toMatchObject({ kind: "unauthorized", message: "Project Token not found" });
  });

  it("reports an unknown service or environment as not found", async () => {
    const error = await failure(
      scaler({ serviceId: "00000000-0000-4000-8000-000000000000" }).scaleTo(2, signal()),
    );
    expect(error).toMatchObject({ kind: "not-found", message: "ServiceInstance not found" });
    expect(api.numReplicas(SERVICE, PRODUCTION)).toBe(2);
  });

  it("reports an exhausted rate limit as 429 with Retry-After and the X-RateLimit headers", async () => {
    api.setRateLimitRemaining(0);
    const error = await failure(scaler().scaleTo(3, signal()));
    expect(error).toMatchObject({ kind: "rate-limited", id: "rate_limited", status: 429 });
    expect(error.message).toMatch(
      /^Rate limit exceeded \(Retry-After: \d+, X-RateLimit-Limit: 1000, X-RateLimit-Remaining: 0, X-RateLimit-Reset: \S+\)$/,
    );
    expect(api.numReplicas(SERVICE, PRODUCTION)).toBe(2);
  });

  it("classes a rate limit reported as a GraphQL error too", async () => {
    api.failNextGraphql("You are creating deployments too quickly", "RATE_LIMITED");
    expect(await failure(scaler().scaleTo(3, signal()))).toMatchObject({ kind: "rate-limited", status: 200 });
  });

  it("refuses what Railway refuses: more than 50 replicas, a document it cannot validate", async () => {
    const tooMany = await failure(scaler().scaleTo(51, signal()));
    expect(tooMany).toMatchObject({ kind: "refused", message: "numReplicas must be between 0 and 50" });
    expect(tooMany.unclear).toBe(false);
    api.failNext(400, {
      errors: [
        {
          message: 'Cannot query field "numReplicas" on type "ServiceInstance".',
          extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
        },
      ],
    });
    const stale = await failure(scaler().current(signal()));
    expect(stale).toMatchObject({ kind: "refused", id: "graphql_validation_failed", status: 400 });
  });

  it("classes a resolver's internal error and an HTTP 5xx as unclear", async () => {
    api.failNextGraphql("Problem processing request", undefined);
    const resolver = await failure(scaler().scaleTo(3, signal()));
    expect(resolver).toMatchObject({ kind: "server", status: 200 });
    expect(resolver.unclear).toBe(true);
    api.failNext(503, "upstream connect error");
    const gateway = await failure(scaler().scaleTo(3, signal()));
    expect(gateway).toMatchObject({ kind: "server", id: "http_503", status: 503 });
    expect(gateway.unclear).toBe(true);
  });

  it("times out a slow answer, which may have applied", async () => {
    api.setLatency(500);
    const error = await failure(scaler({ timeoutMs: 50 }).scaleTo(4, signal()));
    expect(error).toMatchObject({ kind: "timeout", message: "Railway API did not answer within 50 ms" });
    expect(error.unclear).toBe(true);
  });

  it("reports an unreachable API as a network error", async () => {
    const error = await failure(
      scaler({ baseUrl: `http://127.0.0.1:${await closedPort()}` }).current(signal()),
    );
    expect(error).toMatchObject({ kind: "network", id: "network_error" });
  });

  it("rejects an answer without the count, and scrubs a token an error echoes", async () => {
    api.failNext(200, { data: { serviceInstance: { numReplicas: -1 } } });
    expect(await failure(scaler().current(signal()))).toMatchObject({ kind: "bad-response", status: 200 });
    api.failNextGraphql(`token ${TOKEN} is not allowed here`, "FORBIDDEN");
    expect(await failure(scaler().current(signal()))).toMatchObject({
      kind: "unauthorized",
      message: "token [redacted] is not allowed here",
    });
  });
});

describe("the railway backend", () => {
  const scaling = { backend: "railway", serviceId: SERVICE, environmentId: PRODUCTION };

  it("validates its settings, and two processes may not scale one service instance", () => {
    const config = (settings: object, other = settings) =>
      parseConfig({
        processes: {
          web: { measurement: { backend: "app-json", url: "http://127.0.0.1:1/load" }, scaling: settings },
          worker: { measurement: { backend: "app-json", url: "http://127.0.0.1:1/load" }, scaling: other },
        },
      });
    expect(() => config({ ...scaling, environmentId: "production" })).toThrow(
      /environmentId: expected a Railway environment id/,
    );
    expect(() => config(scaling)).toThrow(/scales the same formation as processes.web/);
    expect(() => config(scaling, { ...scaling, environmentId: STAGING })).not.toThrow();
  });

  it("needs its token, and names the variable", () => {
    const config = railway.schema.parse({ ...scaling, apiTokenEnv: "MY_RAILWAY_TOKEN" });
    expect(() => railway.create(config, "web", {})).toThrow("MY_RAILWAY_TOKEN is not set");
    expect(railway.secretEnv(railway.schema.parse(scaling))).toEqual(["RAILWAY_API_TOKEN"]);
  });

  it("scales through a real tick, the base URL from RAILWAY_API_URL", async () => {
    const { report, memory } = await tickWith(
      scaling,
      { RAILWAY_API_TOKEN: TOKEN, RAILWAY_API_URL: api.url },
      5,
    );
    expect(report.processes[0]).toMatchObject({ status: "scaled", scaled: { from: 2, to: 5 } });
    expect(api.numReplicas(SERVICE, PRODUCTION)).toBe(5);
    expect(memory.events.map((e) => e.kind)).toEqual(["scale"]);
  });

  it("reports an exhausted rate limit in a real tick with the advice, never the token", async () => {
    api.setRateLimitRemaining(0);
    const { report } = await tickWith(scaling, { RAILWAY_API_TOKEN: TOKEN, RAILWAY_API_URL: api.url }, 5);
    expect(report.processes[0]).toMatchObject({
      status: "error",
      error: { id: "rate_limited", advice: expect.stringContaining("1000 API requests an hour") as unknown },
    });
    expect(JSON.stringify(report)).not.toContain(TOKEN);
  });
});
