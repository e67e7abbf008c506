/**
 * A local HTTP server that follows the contract of Render's REST API for a service's instance
 * count (https://api-docs.render.com: "Retrieve service", "Scale instance count"), so the
 * scaler and the tests talk to it exactly as they would to api.render.com: Bearer auth, the
 * `{message}` error bodies, 202 without a body for a scale, and the Ratelimit-* headers on
 * every answer (Render's windows are per minute: GETs share one limit, POSTs another).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  checkStatus,
  pathOf,
  recordingServer,
  sendText,
  type RecordedRequest,
  type RecordingStandIn,
} from "./http-kit.js";
import { listen } from "./listen.js";

type RenderServiceType = "web_service" | "private_service" | "background_worker" | "static_site" | "cron_job";

export interface RenderServiceSeed {
  numInstances: number;
  type?: RenderServiceType;
  /** Render's own autoscaling: while on, Render ignores a manual scale. */
  autoscaling?: boolean;
  suspended?: boolean;
}

export interface RenderApiOptions {
  apiKey: string;
  /** Service id (srv-...) -> its instance count, or more of its state. */
  services: Record<string, number | RenderServiceSeed>;
  port?: number;
  /** Requests per minute: Render's documented 400 for GETs and 30 for scales. */
  rateLimits?: { get?: number; post?: number };
}

export interface RenderApiServer extends RecordingStandIn {
  numInstances(serviceId: string): number | undefined;
  /** Scales as the dashboard would (outside the API: nothing is recorded or counted). */
  setNumInstances(serviceId: string, n: number): void;
  setAutoscaling(serviceId: string, enabled: boolean): void;
  /** The next `times` requests (of `method`, if given) answer this status and body before any check. */
  failNext(status: number, body?: Record<string, unknown>, times?: number, method?: string): void;
  /** What is left of the current minute's window of GETs or POSTs. */
  setRateLimitRemaining(kind: "get" | "post", n: number): void;
  /** Scales Render accepted (202). */
  scaleCount(): number;
}

interface Service {
  id: string;
  name: string;
  type: RenderServiceType;
  numInstances: number;
  autoscaling: boolean;
  suspended: boolean;
  createdAt: string;
  updatedAt: string;
}

interface Window {
  limit: number;
  remaining: number;
  resetsAt: number;
}

type Answer = [status: number, body: unknown];

const WINDOW_MS = 60_000;
const SCALABLE: ReadonlySet<RenderServiceType> = new Set([
  "web_service",
  "private_service",
  "background_worker",
]);
/** Render's manual scaling takes 1 to 100 instances. */
const MAX_INSTANCES = 100;
const JSON_TYPE = "application/json; charset=utf-8";

export async function startRenderApi(options: RenderApiOptions): Promise<RenderApiServer> {
  if (!options.apiKey) throw new Error("startRenderApi: apiKey must not be empty");
  const created = new Date().toISOString();
  const services = new Map<string, Service>();
  for (const [id, seed] of Object.entries(options.services)) {
    if (!/^srv-[a-z0-9]+$/.test(id)) throw new Error(`startRenderApi: invalid service id "${id}"`);
    const s = typeof seed === "number" ? { numInstances: seed } : seed;
    services.set(id, {
      id,
      name: id.slice(4),
      type: s.type ?? "web_service",
      numInstances: s.numInstances,
      autoscaling: s.autoscaling ?? false,
      suspended: s.suspended ?? false,
      createdAt: created,
      updatedAt: created,
    });
  }
  const windows = {
    get: newWindow(options.rateLimits?.get ?? 400),
    post: newWindow(options.rateLimits?.post ?? 30),
  };
  const received: RecordedRequest[] = [];
  let latencyMs = 0;
  let scales = 0;
  let injected: { status: number; body: unknown; times: number; method?: string } | undefined;

  const existing = (id: string): Service => {
    const service = services.get(id);
    if (!service) throw new Error(`No Render service ${id}`);
    return service;
  };

  function serviceJson(s: Service) {
    const details: Record<string, unknown> = { env: "node", plan: "starter", region: "oregon" };
    if (SCALABLE.has(s.type)) {
      details.numInstances = s.numInstances;
      details.autoscaling = {
        enabled: s.autoscaling,
        min: 1,
        max: 3,
        criteria: {
          cpu: { enabled: s.autoscaling, percentage: 70 },
          memory: { enabled: false, percentage: 70 },
        },
      };
    }
    return {
      id: s.id,
      name: s.name,
      type: s.type,
      ownerId: "tea-local",
      suspended: s.suspended ? "suspended" : "not_suspended",
      autoDeploy: "yes",
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
      serviceDetails: details,
    };
  }

  function route(method: string, path: string, bodyText: string): Answer {
    const match = /^\/v1\/services\/([^/]+)(\/scale)?$/.exec(path);
    const scale = match?.[2] !== undefined;
    if (!match || !((method === "GET" && !scale) || (method === "POST" && scale)))
      return [404, { message: "not found" }];
    const service = services.get(decodeURIComponent(match[1]!));
    if (!service) return [404, { message: "service not found" }];
    if (method === "GET") return [200, serviceJson(service)];
    let body: unknown;
    try {
      body = JSON.parse(bodyText);
    } catch {
      return [400, { message: "invalid JSON body" }];
    }
    const n = (body as { numInstances?: unknown } | null)?.numInstances;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_INSTANCES)
      return [400, { message: `numInstances must be an integer from 1 to ${MAX_INSTANCES}` }];
    if (!SCALABLE.has(service.type)) return [400, { message: `a ${service.type} cannot be scaled` }];
    // Render takes the request but ignores the count while its own autoscaling is on.
    if (!service.autoscaling) {
      service.numInstances = n;
      service.updatedAt = new Date().toISOString();
    }
    scales++;
    return [202, undefined];
  }

  function respond(request: IncomingMessage, bodyText: string): { answer: Answer; window: Window } {
    const method = request.method ?? "GET";
    const window = current(method === "GET" ? windows.get : windows.post);
    if (injected && (injected.method === undefined || injected.method === method)) {
      const { status, body } = injected;
      if (--injected.times <= 0) injected = undefined;
      if (status === 429) window.remaining = 0;
      return { answer: [status, body], window };
    }
    const [scheme, key] = (request.headers.authorization ?? "").split(" ", 2);
    if (scheme?.toLowerCase() !== "bearer" || key !== options.apiKey)
      return { answer: [401, { message: "unauthorized" }], window };
    if (window.remaining <= 0) return { answer: [429, { message: "rate limit exceeded" }], window };
    window.remaining--;
    return { answer: route(method, pathOf(request), bodyText), window };
  }

  const stand = recordingServer({
    name: "render-api",
    recorded: received,
    async answer(request, response, bodyText) {
      const { answer, window } = respond(request, bodyText);
      await stand.delay(latencyMs);
      send(response, answer, window);
    },
    answerError: (response) => send(response, [500, { message: "internal server error" }], windows.get),
  });
  const url = await listen(stand.server, options.port);

  return {
    url,
    received,
    setLatency(ms) {
      latencyMs = ms;
    },
    close: () => stand.close(),
    numInstances: (id) => services.get(id)?.numInstances,
    setNumInstances(id, n) {
      if (!Number.isInteger(n) || n < 0) throw new Error(`numInstances must be an integer >= 0, got ${n}`);
      existing(id).numInstances = n;
    },
    setAutoscaling(id, enabled) {
      existing(id).autoscaling = enabled;
    },
    failNext(status, body, times = 1, method) {
      checkStatus("failNext", status, 400);
      injected = {
        status,
        body: body ?? { message: `HTTP ${status}` },
        times,
        method: method?.toUpperCase(),
      };
    },
    setRateLimitRemaining(kind, n) {
      current(windows[kind]).remaining = n;
    },
    scaleCount: () => scales,
  };
}

function newWindow(limit: number): Window {
  return { limit, remaining: limit, resetsAt: Date.now() + WINDOW_MS };
}

/** The window, started afresh once its minute is over. */
function current(window: Window): Window {
  if (Date.now() >= window.resetsAt) Object.assign(window, newWindow(window.limit));
  return window;
}

function send(response: ServerResponse, [status, body]: Answer, window: Window): void {
  const headers = {
    "Ratelimit-Limit": String(window.limit),
    "Ratelimit-Remaining": String(window.remaining),
    // Seconds until the window resets, as in Render's documented example (`Ratelimit-Reset: 45`).
    "Ratelimit-Reset": String(Math.max(0, Math.ceil((window.resetsAt - Date.now()) / 1000))),
  };
  if (body === undefined) {
    response.writeHead(status, headers);
    response.end();
  } else sendText(response, status, JSON.stringify(body), JSON_TYPE, headers);
}
