import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTargetApp, type TargetApp, type TargetRequest } from "../../src/local/target-app.js";
import { HttpProbe, MAX_REDIRECTS } from "../../src/measure/http-probe.js";
import { ResponseTimeMeasurement } from "../../src/measure/response-time.js";

let app: TargetApp;
let other: TargetApp;
beforeEach(async () => {
  [app, other] = await Promise.all([startTargetApp(), startTargetApp()]);
});
afterEach(() => Promise.all([app.close(), other.close()]));

const never = new AbortController().signal;
const TOKEN = "t0ken-s3cret-value";
const port = (target: TargetApp) => new URL(target.url).port;

/** Every request the app sees, in order (the target app keeps only the last). */
function record(target: TargetApp): TargetRequest[] {
  const seen: TargetRequest[] = [];
  target.set({
    latencyMs: (request) => {
      seen.push(request);
      return 0;
    },
  });
  return seen;
}

/** Answers `status` with a Location for requests to `from`, and 200 elsewhere. */
function redirect(target: TargetApp, from: string, location: string, status = 302) {
  target.set({
    status: (request) => (request.url === from ? status : 200),
    headers: (request): Record<string, string> => (request.url === from ? { Location: location } : {}),
  });
}

describe("HttpProbe: redirects", () => {
  it("follows a same-origin redirect, sending the configured headers again", async () => {
    const seen = record(app);
    redirect(app, "/hb", "/next?x=1");
    const probe = new HttpProbe(`${app.url}/hb`, { "X-Heartbeat-Token": TOKEN });
    const result = await probe.fetch(never, { timeoutMs: 2000 });
    expect(result).toMatchObject({ ok: true, status: 200, body: "ok\n" });
    expect(seen.map((r) => r.url)).toEqual(["/hb", "/next?x=1"]);
    expect(seen[1]!.headers["x-heartbeat-token"]).toBe(TOKEN);
    expect(seen[1]!.headers["user-agent"]).toBe("autoscalebot");
  });

  it("follows redirects within the origin as fetch would: 303 -> GET, 307 keeps the method", async () => {
    const seen = record(app);
    app.set({
      status: (request) => ({ "/a": 307, "/b": 303 })[request.url] ?? 200,
      headers: (request): Record<string, string> =>
        ({ "/a": { Location: `${app.url}/b` }, "/b": { Location: "/c" } })[request.url] ?? {},
    });
    const probe = new HttpProbe(`${app.url}/a`, { "Content-Type": "text/plain", "X-Heartbeat-Token": TOKEN });
    expect(await probe.fetch(never, { timeoutMs: 2000, method: "POST" })).toMatchObject({ ok: true });
    expect(seen.map((r) => [r.method, r.url])).toEqual([
      ["POST", "/a"],
      ["POST", "/b"],
      ["GET", "/c"],
    ]);
    expect(seen[1]!.headers["content-type"]).toBe("text/plain");
    expect(seen[2]!.headers["content-type"]).toBeUndefined();
    expect(seen[2]!.headers["x-heartbeat-token"]).toBe(TOKEN);
  });

  it("does not follow a redirect to another origin, and that origin never sees the header", async () => {
    const seenByOther = record(other);
    const target = `http://localhost:${port(other)}/steal?secret-path=1`;
    redirect(app, "/hb?q=private", target, 301);
    const probe = new HttpProbe(`${app.url}/hb?q=private`, { "X-Heartbeat-Token": TOKEN });
    const result = await probe.fetch(never, { timeoutMs: 2000 });
    expect(result).toMatchObject({
      ok: false,
      failureMeans: "unknown",
      error: `heartbeat failed: redirected to another origin (http://localhost:${port(other)}); not followed, since the request carries credentials`,
    });
    expect(seenByOther).toHaveLength(0);
    expect(other.hits()).toBe(0);
    // Neither URL's path or query is shown.
    expect(JSON.stringify(result)).not.toMatch(/steal|secret-path|private|\/hb/);
  });

  it("treats another port or scheme as another origin, URL credentials as credentials", async () => {
    redirect(app, "/hb", `http://127.0.0.1:${port(other)}/hb`);
    const withUserinfo = new HttpProbe(`http://user:pa55word@127.0.0.1:${port(app)}/hb`);
    expect(await withUserinfo.fetch(never, { timeoutMs: 2000 })).toMatchObject({
      ok: false,
      failureMeans: "unknown",
    });
    redirect(app, "/hb", `https://127.0.0.1:${port(app)}/hb`);
    const result = await new HttpProbe(`${app.url}/hb`, { "X-Heartbeat-Token": TOKEN }).fetch(never, {
      timeoutMs: 2000,
    });
    expect(result).toMatchObject({ ok: false, failureMeans: "unknown" });
    expect(other.hits()).toBe(0);
  });

  it("follows a redirect to another origin when the request carries no credentials", async () => {
    const seenByOther = record(other);
    redirect(app, "/hb", `http://localhost:${port(other)}/hb`);
    expect(await new HttpProbe(`${app.url}/hb`).fetch(never, { timeoutMs: 2000 })).toMatchObject({
      ok: true,
    });
    expect(seenByOther.map((r) => r.url)).toEqual(["/hb"]);
  });

  it(`stops after ${MAX_REDIRECTS} redirects`, async () => {
    app.set({ status: 302, headers: { Location: "/again" } });
    const result = await new HttpProbe(`${app.url}/hb`, { "X-Heartbeat-Token": TOKEN }).fetch(never, {
      timeoutMs: 2000,
    });
    expect(result).toMatchObject({
      ok: false,
      failureMeans: "unknown",
      error: `heartbeat failed: more than ${MAX_REDIRECTS} redirects`,
    });
    expect(app.hits()).toBe(MAX_REDIRECTS + 1);
  });

  it("reads a 3xx without Location as an error status, as fetch does", async () => {
    app.set({ status: 302 });
    expect(await new HttpProbe(`${app.url}/hb`).fetch(never, { timeoutMs: 2000 })).toMatchObject({
      ok: false,
      error: "heartbeat answered HTTP 302",
    });
  });

  it("passes the refusal on as a response-time reading that says nothing about load", async () => {
    redirect(app, "/hb", `http://localhost:${port(other)}/hb`);
    const reading = await new ResponseTimeMeasurement({
      backend: "response-time",
      url: `${app.url}/hb`,
      headers: { "X-Heartbeat-Token": TOKEN },
    }).measure(never);
    expect(reading).toMatchObject({ ok: false, failureMeans: "unknown" });
    expect(reading.error).toMatch(/redirected to another origin/);
    expect(other.hits()).toBe(0);
  });
});

describe("HttpProbe: construction never throws", () => {
  it("sends malformed percent-escapes in URL credentials as written", async () => {
    const url = `http://us%zzer:p%zz@127.0.0.1:${port(app)}/hb`;
    let probe: HttpProbe | undefined;
    expect(() => (probe = new HttpProbe(url))).not.toThrow();
    expect(await probe!.fetch(never, { timeoutMs: 2000 })).toMatchObject({ ok: true });
    expect(app.lastRequest()!.headers.authorization).toBe(
      `Basic ${Buffer.from("us%zzer:p%zz").toString("base64")}`,
    );
    // Through the measurement too: a bad escape does not crash the tick.
    const reading = await new ResponseTimeMeasurement({ backend: "response-time", url }).measure(never);
    expect(reading.ok).toBe(true);
  });

  it("turns an invalid header or URL into a failed fetch, quoting neither", async () => {
    const badHeader = new HttpProbe(app.url, { "X-Token": "sec\r\nret-value" });
    const result = await badHeader.fetch(never, { timeoutMs: 2000 });
    expect(result).toEqual({
      ok: false,
      error: 'heartbeat failed: header "X-Token" has an invalid name or value',
      elapsedMs: null,
      failureMeans: "unknown",
    });
    const badUrl = new HttpProbe("http://user:pa55word@[nope/");
    const failed = await badUrl.fetch(never, { timeoutMs: 2000 });
    expect(failed).toMatchObject({ ok: false, error: "heartbeat failed: the URL is not valid" });
    expect(JSON.stringify(failed)).not.toContain("pa55word");
    expect(app.hits()).toBe(0);
  });
});
