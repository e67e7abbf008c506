import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { startWebhookPlatform, type WebhookPlatform } from "../../src/local/webhook-platform.js";
import type { Env } from "../../src/kit/env.js";
import { ScaleError } from "../../src/scale/types.js";
import { webhook } from "../../src/scale/webhook.js";
import { closedPort } from "../helpers/net.js";
import { expectNoSecret, scaleError, tickWith } from "./platform-helpers.js";

const AUTH = "Bearer plat-7c1e2f9d-secret";
const PATH_TOKEN = "hk9f3b2e7a1c";

let platform: WebhookPlatform;
beforeEach(async () => {
  platform = await startWebhookPlatform({
    authHeader: "Authorization",
    secret: AUTH,
    formations: { web: 2, worker: 1 },
    maxQuantity: 20,
  });
});
afterEach(async () => {
  await platform.close();
});

const signal = () => new AbortController().signal;
const env = (extra: Record<string, string> = {}) => ({ PLATFORM_AUTH: AUTH, ...extra });

/** A scaler built as the tick builds it: from parsed settings and the environment. */
function scaler(settings: Record<string, unknown> = {}, environment: Env = env(), processName = "web") {
  const config = webhook.schema.parse({
    backend: "webhook",
    url: `${platform.url}/formations/${processName}`,
    headersFromEnv: { Authorization: "PLATFORM_AUTH" },
    timeoutMs: 2000,
    ...settings,
  });
  return webhook.create(config, processName, environment);
}
const failure = (promise: Promise<unknown>) => scaleError(promise, [AUTH, PATH_TOKEN]);
/** What create throws for a setup that cannot work. */
function setupError(settings: Record<string, unknown>, environment: Record<string, string>): ScaleError {
  try {
    scaler(settings, environment);
  } catch (error) {
    expect(error).toBeInstanceOf(ScaleError);
    return error as ScaleError;
  }
  throw new Error("create did not throw");
}

describe("the webhook scaler against a local platform", () => {
  it("reads {count} with a GET carrying the header from the environment", async () => {
    expect(await scaler().current(signal())).toBe(2);
    expect(platform.received[0]).toMatchObject({
      method: "GET",
      path: "/formations/web",
      headers: { authorization: "[redacted]", accept: "application/json", "user-agent": "autoscalebot" },
    });
  });

  it('scales with a POST of {"process", "quantity"} and returns the count the platform answers', async () => {
    expect(await scaler().scaleTo(5, signal())).toBe(5);
    expect(platform.count("web")).toBe(5);
    expect(platform.count("worker")).toBe(1);
    expect(platform.received.at(-1)).toMatchObject({
      method: "POST",
      path: "/formations/web",
      body: { process: "web", quantity: 5 },
      headers: { "content-type": "application/json" },
    });
  });

  it("takes the requested count when the POST answers without one, and a separate scale URL", async () => {
    await platform.close();
    platform = await startWebhookPlatform({
      authHeader: "X-Api-Key",
      secret: AUTH,
      formations: { importer: 0 },
      scaleAnswer: "empty",
      countBody: (n) => n,
    });
    const importer = scaler(
      {
        url: `${platform.url}/formations/importer`,
        scaleUrl: `${platform.url}/formations/importer`,
        headersFromEnv: { "X-Api-Key": "PLATFORM_AUTH" },
        headers: { Accept: "application/vnd.platform+json" },
        process: "importer",
      },
      env(),
      "jobs",
    );
    expect(await importer.current(signal())).toBe(0);
    expect(await importer.scaleTo(3, signal())).toBe(3);
    expect(platform.count("importer")).toBe(3);
    expect(platform.received.at(-1)?.headers).toMatchObject({
      "x-api-key": "[redacted]",
      accept: "application/vnd.platform+json",
    });
  });

  it("reads the count at countPath", async () => {
    await platform.close();
    platform = await startWebhookPlatform({
      authHeader: "Authorization",
      secret: AUTH,
      formations: { web: 4 },
      countBody: (n) => ({ formation: { type: "web", quantity: n } }),
    });
    expect(await scaler({ countPath: "formation.quantity" }).current(signal())).toBe(4);
    const missing = await failure(scaler({ countPath: "formation.size" }).current(signal()));
    expect(missing).toMatchObject({
      kind: "bad-response",
      message: 'the platform answered 200 without a count at "formation.size"',
    });
    const unshaped = await failure(scaler().current(signal()));
    expect(unshaped.message).toContain('a JSON number, or {"count": n}');
  });

  it("names its target by the URL's origin or variable, and never shows a secret", () => {
    const byUrl = scaler();
    expect(byUrl.target).toBe(`webhook web at ${new URL(platform.url).origin}/…`);
    expectNoSecret(byUrl, [AUTH]);
    const byEnv = scaler(
      { url: undefined, urlEnv: "PLATFORM_URL" },
      env({ PLATFORM_URL: `${platform.url}/formations/web` }),
    );
    expect(byEnv.target).toBe("webhook web at (URL from PLATFORM_URL)");
  });

  it("reports a wrong header value as 401", async () => {
    const error = await failure(scaler({}, { PLATFORM_AUTH: "Bearer wrong" }).current(signal()));
    expect(error).toMatchObject({ kind: "unauthorized", id: "http_401", status: 401 });
    expect(error.message).toMatch(/answered HTTP 401: unauthorized$/);
  });

  it("reports an unknown formation as 404, scrubbing the secret URL the platform echoes", async () => {
    await platform.close();
    platform = await startWebhookPlatform({
      authHeader: "Authorization",
      secret: AUTH,
      formations: { web: 1 },
      pathToken: PATH_TOKEN,
    });
    const url = `${platform.url}/formations/clock`;
    const error = await failure(
      scaler({ url: undefined, urlEnv: "PLATFORM_URL" }, env({ PLATFORM_URL: url }), "clock").current(
        signal(),
      ),
    );
    expect(error).toMatchObject({ kind: "not-found", status: 404 });
    expect(error.message).toBe("(URL from PLATFORM_URL) answered HTTP 404: no formation at [redacted]");
    // The right secret path works.
    expect(
      await scaler(
        { url: undefined, urlEnv: "PLATFORM_URL" },
        env({ PLATFORM_URL: `${platform.url}/formations/web` }),
      ).current(signal()),
    ).toBe(1);
  });

  it("reports a 429 with the platform's rate-limit headers", async () => {
    platform.setRateLimitRemaining(0);
    const error = await failure(scaler().scaleTo(3, signal()));
    expect(error).toMatchObject({ kind: "rate-limited", status: 429 });
    expect(error.message).toMatch(
      /too many requests \(Retry-After: \d+, RateLimit-Remaining: 0, RateLimit-Reset: \d+\)$/,
    );
    expect(platform.count("web")).toBe(2);
  });

  it("reports the platform's refusal, which was not applied", async () => {
    const error = await failure(scaler().scaleTo(21, signal()));
    expect(error).toMatchObject({ kind: "refused", status: 422 });
    expect(error.message).toContain("quantity above the plan's maximum of 20");
    expect(error.unclear).toBe(false);
  });

  it.each([500, 503])("classes a %i as unclear", async (status) => {
    platform.failNext(status, "", 1, "POST");
    const error = await failure(scaler().scaleTo(3, signal()));
    expect(error).toMatchObject({ kind: "server", id: `http_${status}` });
    expect(error.unclear).toBe(true);
  });

  it("does not follow a redirect, which would carry the header elsewhere", async () => {
    platform.failNext(302, "");
    const error = await failure(scaler().current(signal()));
    expect(error).toMatchObject({ kind: "refused", status: 302 });
    expect(error.message).toContain("redirects are not followed");
  });

  it("times out a slow platform, which may have applied", async () => {
    platform.setLatency(500);
    const error = await failure(scaler({ timeoutMs: 50 }).scaleTo(3, signal()));
    expect(error).toMatchObject({ kind: "timeout", message: "the platform did not answer within 50 ms" });
    expect(error.unclear).toBe(true);
  });

  it("reports an unreachable platform as a network error, never the secret URL", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/hooks/${PATH_TOKEN}/formations/web`;
    const error = await failure(
      scaler({ url: undefined, urlEnv: "PLATFORM_URL" }, env({ PLATFORM_URL: url })).current(signal()),
    );
    expect(error).toMatchObject({ kind: "network", id: "network_error" });
  });

  it("reports a missing or unusable secret as the setup's error, naming only the variable", () => {
    expect(setupError({}, {})).toMatchObject({
      kind: "missing-credentials",
      message: "PLATFORM_AUTH is not set (the Authorization header)",
    });
    expect(setupError({}, { PLATFORM_AUTH: `${AUTH}\nX-Injected: 1` }).message).toBe(
      "PLATFORM_AUTH holds no valid value for the Authorization header",
    );
    expect(setupError({ url: undefined, urlEnv: "PLATFORM_URL" }, env()).message).toBe(
      "PLATFORM_URL is not set (the platform's URL)",
    );
    const notUrl = setupError(
      { url: undefined, urlEnv: "PLATFORM_URL" },
      env({ PLATFORM_URL: `ftp://${PATH_TOKEN}` }),
    );
    expect(notUrl.message).toBe("PLATFORM_URL is not an http(s) URL");
    const userinfo = setupError(
      { url: undefined, urlEnv: "PLATFORM_URL" },
      env({ PLATFORM_URL: `https://u:${PATH_TOKEN}@h.test/x` }),
    );
    expect(userinfo.message).toContain("PLATFORM_URL holds a URL with user:pass@");
    expect(userinfo.message).not.toContain(PATH_TOKEN);
  });
});

describe("the webhook backend's settings", () => {
  const config = (scaling: Record<string, unknown>, worker?: Record<string, unknown>) =>
    parseConfig({
      processes: {
        web: { measurement: { backend: "app-json", url: "http://127.0.0.1:1/load" }, scaling },
        ...(worker
          ? {
              worker: {
                measurement: { backend: "app-json", url: "http://127.0.0.1:1/load" },
                scaling: worker,
              },
            }
          : {}),
      },
    });
  const problems = (scaling: Record<string, unknown>) => {
    try {
      config(scaling);
    } catch (error) {
      return (error as Error).message;
    }
    return "";
  };

  it("wants exactly one of url and urlEnv, no userinfo, and a dotted countPath", () => {
    expect(problems({ backend: "webhook" })).toContain("set exactly one of url and urlEnv");
    expect(problems({ backend: "webhook", url: "https://p.test/x", urlEnv: "U" })).toContain(
      "set exactly one of url and urlEnv",
    );
    expect(problems({ backend: "webhook", url: "https://u:p@p.test/x" })).toContain(
      "no user:pass@ in the URL",
    );
    expect(problems({ backend: "webhook", url: "https://p.test/x", countPath: "a..b" })).toContain(
      "countPath",
    );
    expect(
      problems({ backend: "webhook", url: "https://p.test/x", headersFromEnv: { "Bad Header": "X" } }),
    ).toContain("headersFromEnv");
  });

  it("lets processes share a URL under different names, but not the same formation", () => {
    const scaling = { backend: "webhook", url: "https://p.test/scale" };
    expect(() => config(scaling, scaling)).not.toThrow();
    expect(() => config({ ...scaling, process: "web" }, { ...scaling, process: "web" })).toThrow(
      /scales the same formation/,
    );
  });

  it("warns about every variable it reads", () => {
    const parsed = webhook.schema.parse({
      backend: "webhook",
      urlEnv: "PLATFORM_URL",
      scaleUrlEnv: "PLATFORM_SCALE_URL",
      headersFromEnv: { Authorization: "PLATFORM_AUTH", "X-Team": "PLATFORM_TEAM" },
    });
    expect(webhook.secretEnv(parsed)).toEqual([
      "PLATFORM_URL",
      "PLATFORM_SCALE_URL",
      "PLATFORM_AUTH",
      "PLATFORM_TEAM",
    ]);
  });
});

describe("the webhook backend in a real tick", () => {
  it("scales, with the URL and the header from the environment", async () => {
    const { report, memory } = await tickWith(
      { backend: "webhook", urlEnv: "PLATFORM_URL", headersFromEnv: { Authorization: "PLATFORM_AUTH" } },
      env({ PLATFORM_URL: `${platform.url}/formations/web` }),
      6,
    );
    expect(report.processes[0]).toMatchObject({ status: "scaled", scaled: { from: 2, to: 6 } });
    expect(platform.count("web")).toBe(6);
    expect(memory.events.map((e) => e.kind)).toEqual(["scale"]);
  });

  it("holds a setup without its secret, reported with the process and never sent as a failure", async () => {
    const { report, memory } = await tickWith(
      {
        backend: "webhook",
        url: `${platform.url}/formations/web`,
        headersFromEnv: { Authorization: "PLATFORM_AUTH" },
      },
      {},
      6,
    );
    expect(report.processes[0]).toMatchObject({ status: "error", error: { id: "missing_setting" } });
    expect(memory.events).toEqual([]);
    expect(platform.received).toEqual([]);
  });
});
