import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestMetrics } from "./request-metrics.js";

/**
 * Adapters that mount a Fetch API handler (such as createHeartbeat's) on Node's http server or
 * in an Express-style app, without depending on Express: the request becomes a Fetch `Request`
 * (method, URL, headers; no body, which a heartbeat does not read) and the `Response` is
 * streamed back. The request's signal aborts when the client goes away.
 *
 * Only types come from Node here, so importing this module (or index.ts) costs nothing in
 * runtimes without `node:` modules (edge functions, Cloudflare Workers), where only the Fetch
 * handler is used.
 */

/** Any Fetch API handler. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** A Node request as Express hands it over: `originalUrl` keeps the mount path. */
export type ExpressLikeRequest = IncomingMessage & { originalUrl?: string };

/** Express's `next`, structurally (its overloads for "route" and "router" fit this type). */
export type NextFunction = (error?: unknown) => void;

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;
export type ExpressMiddleware = (req: ExpressLikeRequest, res: ServerResponse, next: NextFunction) => void;

export interface NodeListenerOptions {
  /** Told of a handler that threw (answered 500); default console.error. */
  onError?: (error: unknown) => void;
}

/** For `http.createServer(toNodeListener(handler))`: a handler that throws answers 500. */
export function toNodeListener(handler: FetchHandler, options: NodeListenerOptions = {}): NodeListener {
  const onError = options.onError ?? ((error: unknown) => console.error("heartbeat: request failed:", error));
  return (req, res) => {
    handle(handler, req, res, req.url, (error) => {
      onError(error);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader("Content-Type", "text/plain; charset=utf-8");
        res.setHeader("Cache-Control", "no-store");
        res.end("Internal Server Error\n");
      } else {
        // Part of the answer is out: cut it, so the client sees a failure rather than a short body.
        res.destroy();
      }
    });
  };
}

/**
 * For `app.get("/heartbeat", toExpressMiddleware(handler))` in Express or a compatible framework;
 * a handler that throws goes to `next(error)`.
 */
export function toExpressMiddleware(handler: FetchHandler): ExpressMiddleware {
  return (req, res, next) => {
    handle(handler, req, res, req.originalUrl ?? req.url, (error) => next(error));
  };
}

/** Serves one request; `fail` hears of errors, except those of a client that went away. */
function handle(
  handler: FetchHandler,
  req: IncomingMessage,
  res: ServerResponse,
  path: string | undefined,
  fail: (error: unknown) => void,
): void {
  const controller = new AbortController();
  const clientGone = () => res.destroyed && !res.writableFinished;
  res.once("close", () => {
    if (!res.writableFinished) controller.abort(new DOMException("the client went away", "AbortError"));
  });
  serve(handler, req, res, path, controller.signal).catch((error: unknown) => {
    if (controller.signal.aborted || clientGone()) return;
    fail(error);
  });
}

async function serve(
  handler: FetchHandler,
  req: IncomingMessage,
  res: ServerResponse,
  path: string | undefined,
  signal: AbortSignal,
): Promise<void> {
  const request = toRequest(req, path, signal);
  if (!request) {
    // A method the Fetch API refuses to represent (TRACE, TRACK, CONNECT).
    res.statusCode = 501;
    res.setHeader("Cache-Control", "no-store");
    res.end();
    return;
  }
  const response = await handler(request);
  await writeResponse(response, req.method === "HEAD", res);
}

/** The Fetch request for a Node one, or null when Fetch cannot represent its method. */
export function toRequest(req: IncomingMessage, path = req.url, signal?: AbortSignal): Request | null {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    // HTTP/2 pseudo-headers (":path") are not headers to Fetch.
    if (value === undefined || name.startsWith(":")) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      try {
        headers.append(name, item);
      } catch {
        // Node accepted a value Fetch does not; the heartbeat can do without it.
      }
    }
  }
  const init: RequestInit = { method: req.method ?? "GET", headers };
  if (signal) init.signal = signal;
  try {
    return new Request(requestUrl(req, path), init);
  } catch {
    return null;
  }
}

/** The absolute URL: the Host header (or localhost) and the path; https on a TLS socket. */
function requestUrl(req: IncomingMessage, path = "/"): string {
  const scheme = "encrypted" in req.socket && req.socket.encrypted ? "https" : "http";
  const relative = path.startsWith("/") ? path : `/${path}`;
  for (const host of [req.headers.host, "localhost"]) {
    try {
      if (host) return new URL(`${scheme}://${host}${relative}`).href;
    } catch {
      // Not a usable Host header: try the next.
    }
  }
  return `${scheme}://localhost/`;
}

/** Writes status, headers and body (none for HEAD) to the Node response, honouring backpressure. */
export async function writeResponse(response: Response, head: boolean, res: ServerResponse): Promise<void> {
  res.statusCode = response.status;
  if (response.statusText) res.statusMessage = response.statusText;
  for (const [name, value] of response.headers) {
    // Joined with commas by Headers; Set-Cookie must stay separate lines.
    if (name !== "set-cookie") res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("Set-Cookie", cookies);

  if (!response.body || head) {
    await response.body?.cancel();
    res.end();
    return;
  }
  // Typed loosely by undici (any chunks); a Response body is bytes.
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await drained(res);
    }
  } catch (error) {
    await reader.cancel(error).catch(() => undefined);
    throw error;
  }
  res.end();
}

/** Resolves when the response can take more, rejects when it closes first (the client went away). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      res.off("error", settle);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(new Error("the response closed before the body was written"));
    res.on("drain", onDrain);
    res.on("close", onClose);
    res.on("error", settle);
  });
}

/** Marks a response whose request is counted in request metrics, until it closes. */
const COUNTED = Symbol("autoscalebot.requestMetrics");
type CountedResponse = ServerResponse & { [COUNTED]?: RequestMetrics | undefined };

/**
 * Counts the request in `metrics` until its response closes (sent in full, or the client went
 * away). One listener function for every response, so counting allocates no closure; a request
 * counted already (the middleware mounted twice) is not counted again.
 */
function count(metrics: RequestMetrics, req: IncomingMessage, res: CountedResponse): void {
  if (res[COUNTED]) return;
  const start = req.headers["x-request-start"];
  metrics.begin(Array.isArray(start) ? start[0] : start);
  res[COUNTED] = metrics;
  res.on("close", uncount);
}

function uncount(this: CountedResponse): void {
  const metrics = this[COUNTED];
  if (!metrics) return;
  this[COUNTED] = undefined;
  metrics.end();
}

/** For `http.createServer(withNodeRequestMetrics(app, metrics))`: every request counts in `metrics`. */
export function withNodeRequestMetrics(listener: NodeListener, metrics: RequestMetrics): NodeListener {
  return (req, res) => {
    count(metrics, req, res);
    listener(req, res);
  };
}

/** For `app.use(expressRequestMetrics(metrics))`, first: every request counts in `metrics`. */
export function expressRequestMetrics(metrics: RequestMetrics): ExpressMiddleware {
  return (req, res, next) => {
    count(metrics, req, res);
    next();
  };
}
