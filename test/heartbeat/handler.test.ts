import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  createHeartbeat,
  type HeartbeatBody,
  type HeartbeatHandler,
  type HeartbeatOptions,
} from "../../packages/heartbeat/src/index.js";
import { reportedDuration } from "../../src/measure/reported-duration.js";
import { findServerTiming, parseServerTiming } from "../../src/measure/server-timing.js";

const NOW = 1_700_000_000_250; // epoch ms

async function call(
  handler: HeartbeatHandler,
  init: { method?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
) {
  const response = await handler(new Request("http://app.test/heartbeat", init));
  const text = await response.text();
  return {
    response,
    status: response.status,
    text,
    body: text ? (JSON.parse(text) as HeartbeatBody) : undefined,
    timing: parseServerTiming(response.headers.get("server-timing")),
  };
}
const get = (options: HeartbeatOptions, headers: Record<string, string> = {}) =>
  call(createHeartbeat(options), { headers });

describe("createHeartbeat", () => {
  it("answers 200 with each check's time, the total and no-store", async () => {
    const result = await get({ checks: { db: () => sleep(10), cache: () => "PONG" } });
    expect(result.status).toBe(200);
    expect(result.response.headers.get("cache-control")).toBe("no-store");
    expect(result.response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(result.body).toEqual({
      status: "ok",
      checks: {
        db: { ok: true, durationMs: expect.any(Number) as unknown },
        cache: { ok: true, durationMs: expect.any(Number) as unknown },
      },
      totalMs: expect.any(Number) as unknown,
    });
    expect(result.body!.checks.db!.durationMs).toBeGreaterThanOrEqual(9);
    expect(result.body!.totalMs).toBeGreaterThanOrEqual(result.body!.checks.db!.durationMs);
  });

  it("runs the checks concurrently", async () => {
    const spans: Record<string, { start: number; end: number }> = {};
    const check = (name: string) => async () => {
      const start = performance.now();
      await sleep(100);
      spans[name] = { start, end: performance.now() };
    };
    const result = await get({ checks: { a: check("a"), b: check("b"), c: check("c") } });
    expect(result.status).toBe(200);
    expect(Object.keys(spans).sort()).toEqual(["a", "b", "c"]);
    const overlap = (x: string, y: string) =>
      spans[x]!.start < spans[y]!.end && spans[y]!.start < spans[x]!.end;
    // Each started before any other ended: they overlapped rather than ran one after another.
    expect([overlap("a", "b"), overlap("a", "c"), overlap("b", "c")]).toEqual([true, true, true]);
    expect(result.body!.totalMs).toBeLessThan(250); // one after another would be 300+
  });

  it("answers 503 naming the failed check, without its message by default", async () => {
    const seen: Array<[string, unknown]> = [];
    const secret = new Error("connect ECONNREFUSED 10.0.0.5:5432 (user=admin password=hunter2)");
    const result = await get({
      checks: {
        db: () => Promise.reject(secret),
        cache: () => undefined,
      },
      onCheckError: (check, error) => seen.push([check, error]),
    });
    expect(result.status).toBe(503);
    expect(result.body).toMatchObject({
      status: "fail",
      checks: { db: { ok: false, error: "failed" }, cache: { ok: true } },
    });
    expect(result.timing.find((m) => m.name === "db")?.description).toBe("failed");
    const everything = result.text + (result.response.headers.get("server-timing") ?? "");
    expect(everything).not.toMatch(/hunter2|10\.0\.0\.5|ECONNREFUSED/);
    expect(seen).toEqual([["db", secret]]);
  });

  it("still answers when onCheckError itself throws", async () => {
    const result = await get({
      checks: { db: () => Promise.reject(new Error("down")) },
      onCheckError: () => {
        throw new Error("logger broke");
      },
    });
    expect(result.status).toBe(503);
    expect(result.body!.checks.db).toMatchObject({ ok: false, error: "failed" });
  });

  it("fails a check that throws synchronously or throws a non-Error", async () => {
    const result = await get({
      checks: {
        sync: () => {
          throw new Error("boom");
        },
        text: () => Promise.reject(new Error("nope")),
        weird: () => {
          throw "a string"; // eslint-disable-line @typescript-eslint/only-throw-error
        },
      },
      exposeErrors: true,
    });
    expect(result.status).toBe(503);
    expect(result.body!.checks).toMatchObject({
      sync: { ok: false, error: "boom" },
      text: { ok: false, error: "nope" },
      weird: { ok: false, error: "a string" },
    });
  });

  it("shows error messages with exposeErrors, made safe for the header", async () => {
    const result = await get({
      checks: { disk: () => Promise.reject(new Error('EROFS: read-only "/tmp"\nline two, ünïcode')) },
      exposeErrors: true,
    });
    expect(result.body!.checks.disk!.error).toBe('EROFS: read-only "/tmp"\nline two, ünïcode');
    const disk = result.timing.find((m) => m.name === "disk");
    expect(disk?.description).toBe('EROFS: read-only "/tmp" line two,  n code');
    expect(result.timing.map((m) => m.name)).toEqual(["disk", "total", "app"]);
  });

  it("times out a check that never settles, at timeoutMs, and aborts its signal", async () => {
    let signal: AbortSignal | undefined;
    const started = performance.now();
    const result = await get({
      checks: {
        hang: (s) => {
          signal = s;
          return new Promise(() => {});
        },
        // Honours the signal: still reported as timed out, not as its own abort error.
        polite: (s) => sleep(10_000, undefined, { signal: s }),
        quick: () => sleep(5),
      },
      timeoutMs: 60,
    });
    const elapsed = performance.now() - started;
    expect(result.status).toBe(503);
    expect(result.body!.checks).toMatchObject({
      hang: { ok: false, error: "timed out after 60 ms" },
      polite: { ok: false, error: "timed out after 60 ms" },
      quick: { ok: true },
    });
    expect(result.body!.checks.hang!.durationMs).toBeGreaterThanOrEqual(55);
    expect(result.body!.checks.hang!.durationMs).toBeLessThan(1000);
    expect(elapsed).toBeLessThan(1000);
    expect(signal?.aborted).toBe(true);
    expect((signal?.reason as DOMException).name).toBe("TimeoutError");
    expect(result.timing.find((m) => m.name === "hang")?.description).toBe("timed out after 60 ms");
  });

  it("aborts the checks when the request is aborted", async () => {
    const client = new AbortController();
    let checkSignal: AbortSignal | undefined;
    const pending = call(
      createHeartbeat({
        checks: {
          db: (s) => {
            checkSignal = s;
            return new Promise(() => {});
          },
        },
      }),
      { signal: client.signal },
    );
    await sleep(10);
    client.abort();
    const result = await pending;
    expect(checkSignal?.aborted).toBe(true);
    expect(result.status).toBe(503);
    expect(result.body!.checks.db!.ok).toBe(false);
  });

  it("reports Server-Timing the autoscaler parses: checks, total, app and queue", async () => {
    let t = 1000;
    const result = await get(
      {
        checks: {
          db: () => {
            t += 12.34;
          },
          "cache/redis primary": () => {
            t += 3.2;
          },
        },
        clock: () => NOW,
        timer: () => t,
      },
      { "X-Request-Start": String(NOW - 42) },
    );
    // Both checks are synchronous: their ends are seen once both have run, so db's time takes in
    // cache's (12.34 + 3.2). Times are to a tenth of a ms.
    expect(result.response.headers.get("server-timing")).toBe(
      "db;dur=15.5, cache_redis_primary;dur=3.2, total;dur=15.5, app;dur=15.5, queue;dur=42",
    );
    expect(result.timing.map((m) => [m.name, m.duration])).toEqual([
      ["db", 15.5],
      ["cache_redis_primary", 3.2],
      ["total", 15.5],
      ["app", 15.5],
      ["queue", 42],
    ]);
    // The JSON body keeps the names as given and the same numbers.
    expect(result.body).toEqual({
      status: "ok",
      checks: { db: { ok: true, durationMs: 15.5 }, "cache/redis primary": { ok: true, durationMs: 3.2 } },
      totalMs: 15.5,
      queueTimeMs: 42,
    });
  });

  it.each<[string, string, number]>([
    ["Heroku: epoch ms", String(NOW - 127), 127],
    ["nginx: t= seconds", `t=${(NOW - 127) / 1000}`, 127],
    ["microseconds", String((NOW - 127) * 1000), 127],
    ["a start after now (clock skew)", String(NOW + 500), 0],
  ])("reports queue = now - X-Request-Start (%s)", async (_, header, expected) => {
    const result = await get({ checks: {}, clock: () => NOW }, { "X-Request-Start": header });
    expect(findServerTiming(result.response.headers.get("server-timing"), "queue")?.duration).toBe(expected);
    expect(result.body!.queueTimeMs).toBe(expected);
    // Read exactly as the queue-time backend reads it, header first, then its default JSON field.
    const both = { headers: result.response.headers, body: result.text };
    expect(reportedDuration(both, { metric: "queue", jsonField: "queueTimeMs" })).toEqual({
      ok: true,
      value: expected,
    });
    const headerless = { headers: new Headers(), body: result.text };
    expect(reportedDuration(headerless, { metric: "queue", jsonField: "queueTimeMs" })).toEqual({
      ok: true,
      value: expected,
    });
  });

  it.each([undefined, "", "garbage", "t=", "12345"])(
    "leaves queue out without a usable X-Request-Start (%j)",
    async (header) => {
      const result = await get(
        { clock: () => NOW },
        header === undefined ? {} : { "X-Request-Start": header },
      );
      expect(result.status).toBe(200);
      expect(result.timing.map((m) => m.name)).toEqual(["total", "app"]);
      expect(result.body).not.toHaveProperty("queueTimeMs");
    },
  );

  it("answers HEAD with the headers and no body, having run the checks", async () => {
    let runs = 0;
    const handler = createHeartbeat({ checks: { db: () => void runs++ }, clock: () => NOW });
    const result = await call(handler, { method: "HEAD", headers: { "X-Request-Start": String(NOW - 5) } });
    expect(result.status).toBe(200);
    expect(result.text).toBe("");
    expect(runs).toBe(1);
    expect(result.timing.map((m) => m.name)).toEqual(["db", "total", "app", "queue"]);
    const failing = createHeartbeat({ checks: { db: () => Promise.reject(new Error("x")) } });
    expect((await call(failing, { method: "HEAD" })).status).toBe(503);
  });

  it.each(["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])("answers %s with 405 and Allow", async (method) => {
    let runs = 0;
    const result = await call(createHeartbeat({ checks: { db: () => void runs++ } }), { method });
    expect(result.status).toBe(405);
    expect(result.response.headers.get("allow")).toBe("GET, HEAD");
    expect(result.response.headers.get("cache-control")).toBe("no-store");
    expect(runs).toBe(0);
  });

  it("works without checks, reporting the app's own time and queue", async () => {
    const result = await get({}, { "X-Request-Start": String(Date.now() - 30) });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ status: "ok", checks: {} });
    expect(result.body!.queueTimeMs).toBeGreaterThanOrEqual(30);
  });

  it("keeps a check named __proto__ as a plain key", async () => {
    const checks = JSON.parse('{"__proto__": null}') as Record<string, () => void>;
    checks.__proto__ = () => undefined;
    const result = await get({ checks });
    expect(Object.keys(result.body!.checks)).toEqual(["__proto__"]);
  });

  it("refuses clashing names, bad timeouts and non-functions up front", () => {
    const noop = () => undefined;
    expect(() => createHeartbeat({ checks: { app: noop } })).toThrow(
      /clashes with the heartbeat's own "app"/,
    );
    expect(() => createHeartbeat({ checks: { Queue: noop } })).toThrow(/clashes/);
    expect(() => createHeartbeat({ checks: { "db main": noop, db_main: noop } })).toThrow(
      /"db_main".*clashes with check "db main"/,
    );
    expect(() => createHeartbeat({ timeoutMs: 0 })).toThrow(RangeError);
    expect(() => createHeartbeat({ timeoutMs: Number.NaN })).toThrow(RangeError);
    expect(() => createHeartbeat({ checks: { db: "SELECT 1" as unknown as () => void } })).toThrow(
      /not a function/,
    );
  });
});
