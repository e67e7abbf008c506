import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import {
  createHeartbeat,
  toExpressMiddleware,
  toNodeListener,
  type ExpressLikeRequest,
  type FetchHandler,
  type HeartbeatBody,
  type HeartbeatOptions,
} from "../../packages/heartbeat/src/index.js";
import { close, listen } from "../../src/local/listen.js";
import { QueueTimeMeasurement } from "../../src/measure/queue-time.js";
import { ResponseTimeMeasurement } from "../../src/measure/response-time.js";
import { findServerTiming } from "../../src/measure/server-timing.js";
import { ServiceTimeMeasurement } from "../../src/measure/service-time.js";

const NOW = 1_700_000_000_000; // epoch ms, the heartbeat's injected wall clock

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => close(server)));
  servers = [];
});

async function serve(listener: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  return listen(server);
}

/** What the heartbeat answered, as the test saw it before it went over the wire. */
interface Report {
  serverTiming: string | null;
  body: HeartbeatBody | null;
  status: number;
}

/** A heartbeat on a real Node server, recording each answer it gives. */
async function startHeartbeat(options: HeartbeatOptions) {
  const reports: Report[] = [];
  const heartbeat = createHeartbeat(options);
  const recording: FetchHandler = async (request) => {
    const response = await heartbeat(request);
    const text = await response.clone().text();
    reports.push({
      serverTiming: response.headers.get("server-timing"),
      body: text ? (JSON.parse(text) as HeartbeatBody) : null,
      status: response.status,
    });
    return response;
  };
  const url = `${await serve(toNodeListener(recording))}/heartbeat`;
  return { url, reports, last: () => reports.at(-1)! };
}

const signal = () => new AbortController().signal;
const dur = (report: Report, metric: string) => findServerTiming(report.serverTiming, metric)?.duration;

describe("end to end: the autoscaler's measurements read the heartbeat", () => {
  it("service-time reads app;dur, i.e. the heartbeat's totalMs", async () => {
    const hb = await startHeartbeat({ checks: { db: () => sleep(25), cache: () => sleep(5) } });
    const reading = await new ServiceTimeMeasurement({ backend: "service-time", url: hb.url }).measure(
      signal(),
    );
    expect(reading).toMatchObject({ backend: "service-time", ok: true, unit: "ms" });
    expect(hb.reports).toHaveLength(1);
    expect(reading.value).toBe(dur(hb.last(), "app"));
    expect(reading.value).toBe(hb.last().body!.totalMs);
    expect(reading.value).toBeGreaterThanOrEqual(24);
  });

  it("service-time can read totalMs from the body instead", async () => {
    const hb = await startHeartbeat({ checks: { db: () => sleep(5) } });
    const reading = await new ServiceTimeMeasurement({
      backend: "service-time",
      url: hb.url,
      metric: "absent",
      jsonField: "totalMs",
    }).measure(signal());
    expect(reading).toMatchObject({ ok: true, value: hb.last().body!.totalMs });
  });

  it("queue-time reads queue;dur: now - X-Request-Start", async () => {
    const hb = await startHeartbeat({ checks: { db: () => sleep(5) }, clock: () => NOW });
    // The measurement plays Heroku's router, which stamps the request on arrival.
    const measurement = new QueueTimeMeasurement({
      backend: "queue-time",
      url: hb.url,
      headers: { "X-Request-Start": String(NOW - 1234) },
    });
    const reading = await measurement.measure(signal());
    expect(reading).toMatchObject({ backend: "queue-time", ok: true, unit: "ms", value: 1234 });
    expect(dur(hb.last(), "queue")).toBe(1234);
    expect(hb.last().body!.queueTimeMs).toBe(1234);
  });

  it("queue-time falls back to the JSON field queueTimeMs (its default)", async () => {
    const hb = await startHeartbeat({ clock: () => NOW });
    const reading = await new QueueTimeMeasurement({
      backend: "queue-time",
      url: hb.url,
      metric: "absent",
      headers: { "X-Request-Start": `t=${(NOW - 250.5) / 1000}` },
    }).measure(signal());
    expect(reading).toMatchObject({ ok: true, value: 250.5 });
    expect(hb.last().body!.queueTimeMs).toBe(250.5);
  });

  it("queue-time without X-Request-Start is a failed reading meaning unknown", async () => {
    const hb = await startHeartbeat({ clock: () => NOW });
    const reading = await new QueueTimeMeasurement({ backend: "queue-time", url: hb.url }).measure(signal());
    expect(reading).toMatchObject({ ok: false, failureMeans: "unknown" });
    expect(reading.error).toMatch(/no Server-Timing metric "queue".*no field "queueTimeMs"/);
  });

  it("a failing check makes every measurement fail as overload (503)", async () => {
    const hb = await startHeartbeat({ checks: { db: () => Promise.reject(new Error("down")) } });
    const readings = await Promise.all([
      new ServiceTimeMeasurement({ backend: "service-time", url: hb.url }).measure(signal()),
      new QueueTimeMeasurement({ backend: "queue-time", url: hb.url }).measure(signal()),
      new ResponseTimeMeasurement({ backend: "response-time", url: hb.url }).measure(signal()),
    ]);
    for (const reading of readings) {
      expect(reading.ok).toBe(false);
      expect(reading.failureMeans).toBeUndefined();
      expect(reading.error).toMatch(/HTTP 503/);
    }
    expect(hb.reports.every((r) => r.status === 503)).toBe(true);
  });

  it("response-time times the heartbeat, checks included, with GET or HEAD", async () => {
    const hb = await startHeartbeat({ checks: { db: () => sleep(40) } });
    for (const method of ["GET", "HEAD"] as const) {
      const reading = await new ResponseTimeMeasurement({
        backend: "response-time",
        url: hb.url,
        method,
      }).measure(signal());
      expect(reading).toMatchObject({ ok: true });
      expect(reading.value).toBeGreaterThanOrEqual(39);
    }
  });
});

describe("toNodeListener", () => {
  it("passes method, URL from Host and headers to the handler, and the answer back", async () => {
    let seen: Request | undefined;
    const url = await serve(
      toNodeListener((request) => {
        seen = request;
        const headers = new Headers({ "Content-Type": "text/plain", "X-Custom": "1" });
        headers.append("Set-Cookie", "a=1");
        headers.append("Set-Cookie", "b=2");
        return new Response("hello", { status: 202, headers });
      }),
    );
    const response = await fetch(`${url}/hb?x=1`, { headers: { "X-Request-Start": "t=1700000000.5" } });
    expect(response.status).toBe(202);
    expect(await response.text()).toBe("hello");
    expect(response.headers.get("x-custom")).toBe("1");
    expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(seen?.method).toBe("GET");
    expect(seen?.url).toBe(`${url}/hb?x=1`);
    expect(seen?.headers.get("x-request-start")).toBe("t=1700000000.5");
  });

  it("answers HEAD with the heartbeat's headers and no body, and 405 to POST", async () => {
    const hb = await startHeartbeat({ checks: { db: () => undefined }, clock: () => NOW });
    const head = await fetch(hb.url, { method: "HEAD", headers: { "X-Request-Start": String(NOW - 7) } });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expect(findServerTiming(head.headers.get("server-timing"), "queue")?.duration).toBe(7);
    expect(head.headers.get("cache-control")).toBe("no-store");

    const post = await fetch(hb.url, { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("streams a large body with backpressure", async () => {
    const chunk = new Uint8Array(64 * 1024).fill(97);
    const url = await serve(
      toNodeListener(() => {
        let sent = 0;
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent++ < 80) controller.enqueue(chunk);
            else controller.close();
          },
        });
        return new Response(body);
      }),
    );
    const response = await fetch(url);
    expect((await response.arrayBuffer()).byteLength).toBe(80 * chunk.length);
  });

  it("answers 500 when the handler throws, and tells onError", async () => {
    const errors: unknown[] = [];
    const failure = new Error("handler bug");
    const url = await serve(
      toNodeListener(
        () => {
          throw failure;
        },
        { onError: (error) => errors.push(error) },
      ),
    );
    const response = await fetch(url);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error\n");
    expect(errors).toEqual([failure]);
  });

  it("aborts the checks when the client goes away", async () => {
    let checkSignal: AbortSignal | undefined;
    const aborted = new Promise<void>((resolve) => {
      void startHeartbeat({
        checks: {
          db: (s) => {
            checkSignal = s;
            s.addEventListener("abort", () => resolve());
            return new Promise(() => {});
          },
        },
        timeoutMs: 10_000,
      }).then(({ url }) => {
        const client = new AbortController();
        fetch(url, { signal: client.signal }).catch(() => undefined);
        setTimeout(() => client.abort(), 50);
      });
    });
    await aborted;
    expect(checkSignal?.aborted).toBe(true);
  });
});

describe("toExpressMiddleware", () => {
  /** A stand-in for Express: sets originalUrl as a mounted router would, and records next. */
  function expressLike(middleware: ReturnType<typeof toExpressMiddleware>, nexts: unknown[]) {
    return serve((req, res) => {
      const expressReq = req as ExpressLikeRequest;
      expressReq.originalUrl = req.url;
      req.url = "/"; // as inside app.use("/heartbeat", middleware)
      middleware(expressReq, res, (error) => {
        nexts.push(error);
        res.statusCode = error ? 500 : 404;
        res.end(error ? "express error handler\n" : "not found\n");
      });
    });
  }

  it("serves the heartbeat, reading the URL from originalUrl", async () => {
    let seenUrl: string | undefined;
    const heartbeat = createHeartbeat({ checks: { db: () => sleep(5) }, clock: () => NOW });
    const nexts: unknown[] = [];
    const base = await expressLike(
      toExpressMiddleware((request) => {
        seenUrl = request.url;
        return heartbeat(request);
      }),
      nexts,
    );
    const reading = await new QueueTimeMeasurement({
      backend: "queue-time",
      url: `${base}/heartbeat`,
      headers: { "X-Request-Start": String(NOW - 99) },
    }).measure(signal());
    expect(reading).toMatchObject({ ok: true, value: 99 });
    expect(seenUrl).toBe(`${base}/heartbeat`);
    expect(nexts).toEqual([]);
  });

  it("hands a handler's error to next", async () => {
    const nexts: unknown[] = [];
    const failure = new Error("handler bug");
    const base = await expressLike(
      toExpressMiddleware(() => Promise.reject(failure)),
      nexts,
    );
    const response = await fetch(`${base}/heartbeat`);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("express error handler\n");
    expect(nexts).toEqual([failure]);
  });

  it("fits Express's handler type structurally", () => {
    // What app.get("/heartbeat", mw) requires of mw, spelled out without Express installed.
    type ExpressRequest = IncomingMessage & { originalUrl: string; params: Record<string, string> };
    type ExpressResponse = ServerResponse & { locals: Record<string, unknown> };
    interface ExpressNext {
      (err?: unknown): void;
      (deferToNext: "router"): void;
      (deferToNext: "route"): void;
    }
    type RequestHandler = (req: ExpressRequest, res: ExpressResponse, next: ExpressNext) => void;
    const handler: RequestHandler = toExpressMiddleware(createHeartbeat());
    expect(typeof handler).toBe("function");
  });
});
