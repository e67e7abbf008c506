/**
 * A local platform for the generic `webhook` scaler: formations behind
 * `GET /formations/{name}` (the count) and `POST /formations/{name}` with
 * `{"process": name, "quantity": n}`, guarded by a secret header and optionally by a secret
 * path segment (`/hooks/{pathToken}/...`, as platforms that put a token in their hook URLs do).
 * It answers errors as `{"error": text}` (a 404 quotes the path, secret and all, as careless
 * servers do) and, like the IETF draft, `RateLimit-*` headers, with `Retry-After` on a 429.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { REDACTED } from "../kit/redact.js";
import {
  checkStatus,
  pathOf,
  recordingServer,
  sendText,
  type RecordedRequest,
  type RecordingStandIn,
} from "./http-kit.js";
import { listen } from "./listen.js";

export interface WebhookPlatformOptions {
  /** The header that must carry `secret`, e.g. Authorization or X-Api-Key. */
  authHeader: string;
  secret: string;
  /** Process name -> count. */
  formations: Record<string, number>;
  /** A secret path segment before /formations. */
  pathToken?: string;
  /** How a count is answered (default `{"count": n}`); the POST answers it too unless `scaleAnswer` is "empty". */
  countBody?: (count: number) => unknown;
  scaleAnswer?: "count" | "empty";
  /** The most a formation may run; above it a POST answers 422. */
  maxQuantity?: number;
  /** Requests per minute. */
  rateLimit?: number;
  port?: number;
}

export interface WebhookPlatform extends RecordingStandIn {
  count(process: string): number | undefined;
  /** Scales as the platform's own tools would (nothing is recorded). */
  setCount(process: string, n: number): void;
  /** The next `times` requests (of `method`, if given) answer this status and body before any check. */
  failNext(status: number, body?: unknown, times?: number, method?: string): void;
  setRateLimitRemaining(n: number): void;
  /** POSTs that changed a count. */
  scaleCount(): number;
}

type Answer = [status: number, body?: unknown];

const WINDOW_MS = 60_000;

export async function startWebhookPlatform(options: WebhookPlatformOptions): Promise<WebhookPlatform> {
  if (!options.secret) throw new Error("startWebhookPlatform: secret must not be empty");
  const counts = new Map(Object.entries(options.formations));
  const countBody = options.countBody ?? ((count: number) => ({ count }));
  const prefix = options.pathToken === undefined ? "" : `/hooks/${options.pathToken}`;
  const limit = options.rateLimit ?? 600;
  let window = { remaining: limit, resetsAt: Date.now() + WINDOW_MS };
  const received: RecordedRequest[] = [];
  let latencyMs = 0;
  let scales = 0;
  let injected: { status: number; body: unknown; times: number; method?: string } | undefined;
  const header = options.authHeader.toLowerCase();

  function route(method: string, path: string, bodyText: string): Answer {
    const name = path.startsWith(`${prefix}/formations/`)
      ? path.slice(`${prefix}/formations/`.length)
      : undefined;
    const count = name === undefined ? undefined : counts.get(decodeURIComponent(name));
    if (name === undefined || count === undefined || (method !== "GET" && method !== "POST"))
      return [404, { error: `no formation at ${path}` }];
    if (method === "GET") return [200, countBody(count)];
    let body: { process?: unknown; quantity?: unknown } | null;
    try {
      body = JSON.parse(bodyText) as typeof body;
    } catch {
      return [400, { error: "the body is not JSON" }];
    }
    if (body?.process !== decodeURIComponent(name)) return [422, { error: "process does not match the URL" }];
    const { quantity } = body;
    if (typeof quantity !== "number" || !Number.isInteger(quantity) || quantity < 0)
      return [422, { error: "quantity must be an integer >= 0" }];
    if (options.maxQuantity !== undefined && quantity > options.maxQuantity)
      return [422, { error: `quantity above the plan's maximum of ${options.maxQuantity}` }];
    counts.set(decodeURIComponent(name), quantity);
    scales++;
    return options.scaleAnswer === "empty" ? [202] : [200, countBody(quantity)];
  }

  function respond(request: IncomingMessage, bodyText: string): Answer {
    const method = request.method ?? "GET";
    if (Date.now() >= window.resetsAt) window = { remaining: limit, resetsAt: Date.now() + WINDOW_MS };
    if (injected && (injected.method === undefined || injected.method === method)) {
      const { status, body } = injected;
      if (--injected.times <= 0) injected = undefined;
      if (status === 429) window.remaining = 0;
      return [status, body];
    }
    if (request.headers[header] !== options.secret) return [401, { error: "unauthorized" }];
    if (window.remaining <= 0) return [429, { error: "too many requests" }];
    window.remaining--;
    return route(method, pathOf(request), bodyText);
  }

  const stand = recordingServer({
    name: "webhook-platform",
    recorded: received,
    async answer(request, response, bodyText) {
      // Recorded just before this call: the secret header is redacted like Authorization.
      const recorded = received.at(-1)!;
      if (recorded.headers[header] !== undefined) recorded.headers[header] = REDACTED;
      const answer = respond(request, bodyText);
      await stand.delay(latencyMs);
      send(response, answer);
    },
    answerError: (response) => send(response, [500, { error: "internal error" }]),
  });
  const url = await listen(stand.server, options.port);

  function send(response: ServerResponse, [status, body]: Answer): void {
    const headers: Record<string, string> = {
      "RateLimit-Limit": String(limit),
      "RateLimit-Remaining": String(window.remaining),
      "RateLimit-Reset": String(Math.max(0, Math.ceil((window.resetsAt - Date.now()) / 1000))),
    };
    if (status === 429) headers["Retry-After"] = headers["RateLimit-Reset"]!;
    if (body === undefined) {
      response.writeHead(status, headers);
      response.end();
    } else sendText(response, status, JSON.stringify(body), "application/json", headers);
  }

  return {
    // The base under which /formations/{name} lies, the secret path segment included.
    url: `${url}${prefix}`,
    received,
    setLatency(ms) {
      latencyMs = ms;
    },
    close: () => stand.close(),
    count: (process) => counts.get(process),
    setCount(process, n) {
      if (!counts.has(process)) throw new Error(`No formation ${process}`);
      counts.set(process, n);
    },
    failNext(status, body, times = 1, method) {
      checkStatus("failNext", status, 200);
      injected = { status, body: body ?? { error: `HTTP ${status}` }, times, method: method?.toUpperCase() };
    },
    setRateLimitRemaining(n) {
      window.remaining = n;
    },
    scaleCount: () => scales,
  };
}
