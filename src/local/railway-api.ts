/**
 * A local HTTP server that follows the contract of Railway's public GraphQL API
 * (`POST /graphql/v2`) for the two operations the scaler sends: the `serviceInstance` query's
 * `numReplicas` and the `serviceInstanceUpdate` mutation. Like backboard.railway.com it takes an
 * account token as `Authorization: Bearer` or a project token (one environment's) as
 * `Project-Access-Token`; answers resolver failures as HTTP 200 with `{"errors": [...], "data":
 * null}`, a document it cannot validate as HTTP 400, and an exhausted rate limit as HTTP 429
 * with `Retry-After`; every answer carries `X-RateLimit-Limit`, `-Remaining` and `-Reset`.
 *
 * It is no GraphQL engine: it recognises the root field by name and reads its arguments from
 * the variables (as the scaler sends them), which is all this contract needs.
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

export interface RailwayApiOptions {
  /** An account or workspace token, sent as `Authorization: Bearer`. */
  token: string;
  /** A project token and the one environment it reaches, sent as `Project-Access-Token`. */
  projectToken?: { token: string; environmentId: string };
  /** `serviceId/environmentId` -> numReplicas (null: never scaled, which Railway runs as 1). */
  instances: Record<string, number | null>;
  port?: number;
  /** Requests per hour (Railway's Hobby plan allows 1000). */
  rateLimit?: number;
}

export interface RailwayApiServer extends RecordingStandIn {
  numReplicas(serviceId: string, environmentId: string): number | null | undefined;
  /** Scales as the dashboard would (outside the API: nothing is recorded or counted). */
  setNumReplicas(serviceId: string, environmentId: string, n: number | null): void;
  /** The next `times` requests answer this HTTP status and body (default a GraphQL error) before any check. */
  failNext(status: number, body?: unknown, times?: number): void;
  /** The next `times` requests answer HTTP 200 with this GraphQL error, as Railway's resolvers fail. */
  failNextGraphql(message: string, code?: string, times?: number): void;
  setRateLimitRemaining(n: number): void;
  /** Successful serviceInstanceUpdate mutations. */
  scaleCount(): number;
}

type Answer = [status: number, body: unknown];

const WINDOW_MS = 3_600_000;
/** Railway runs at most 50 replicas of a service, across all regions. */
const MAX_REPLICAS = 50;

const graphqlError = (message: string, code = "INTERNAL_SERVER_ERROR", path?: string): unknown => ({
  errors: [{ message, ...(path ? { path: [path] } : {}), extensions: { code } }],
  data: null,
});

export async function startRailwayApi(options: RailwayApiOptions): Promise<RailwayApiServer> {
  if (!options.token) throw new Error("startRailwayApi: token must not be empty");
  const instances = new Map(Object.entries(options.instances));
  const limit = options.rateLimit ?? 1000;
  let window = { remaining: limit, resetsAt: Date.now() + WINDOW_MS };
  const received: RecordedRequest[] = [];
  let latencyMs = 0;
  let scales = 0;
  let injected: { status: number; body: unknown; times: number } | undefined;

  /** The environments a request's credentials reach: "all", one environment's id, or none (the answer). */
  function reach(request: IncomingMessage): string | Answer {
    const project = request.headers["project-access-token"];
    if (project !== undefined) {
      if (!options.projectToken || project !== options.projectToken.token)
        return [200, graphqlError("Project Token not found")];
      return options.projectToken.environmentId;
    }
    const [scheme, token] = (request.headers.authorization ?? "").split(" ", 2);
    if (scheme?.toLowerCase() !== "bearer" || token !== options.token)
      return [200, graphqlError("Not Authorized")];
    return "all";
  }

  function resolve(request: IncomingMessage, bodyText: string): Answer {
    let body: { query?: unknown; variables?: unknown };
    try {
      body = JSON.parse(bodyText) as typeof body;
    } catch {
      return [400, graphqlError("Unexpected token in JSON body", "BAD_REQUEST")];
    }
    if (typeof body?.query !== "string")
      return [400, graphqlError("GraphQL operations must contain a non-empty `query`.", "BAD_REQUEST")];
    const root = /\{\s*(\w+)\s*\(/.exec(body.query)?.[1];
    if (root !== "serviceInstance" && root !== "serviceInstanceUpdate") {
      return [
        400,
        graphqlError(`Cannot query field "${root ?? ""}" on type "Query".`, "GRAPHQL_VALIDATION_FAILED"),
      ];
    }
    const variables = (
      typeof body.variables === "object" && body.variables !== null ? body.variables : {}
    ) as Record<string, unknown>;
    const { serviceId, environmentId, input } = variables;
    for (const [name, value] of [
      ["serviceId", serviceId],
      ["environmentId", environmentId],
    ] as const) {
      if (typeof value !== "string")
        return [
          400,
          graphqlError(`Variable "$${name}" of required type "String!" was not provided.`, "BAD_USER_INPUT"),
        ];
    }
    const reached = reach(request);
    if (Array.isArray(reached)) return reached;
    const key = `${serviceId as string}/${environmentId as string}`;
    if (reached !== "all" && reached !== environmentId)
      return [200, graphqlError("Not Authorized", undefined, root)];
    if (!instances.has(key)) return [200, graphqlError("ServiceInstance not found", undefined, root)];
    if (root === "serviceInstance")
      return [200, { data: { serviceInstance: { numReplicas: instances.get(key) } } }];
    const replicas = (input as { numReplicas?: unknown } | undefined)?.numReplicas;
    if (typeof replicas !== "number" || !Number.isInteger(replicas)) {
      return [
        400,
        graphqlError(
          `Variable "$input" got invalid value ${JSON.stringify(replicas)} at "input.numReplicas"; Int cannot represent non-integer value`,
          "BAD_USER_INPUT",
        ),
      ];
    }
    if (replicas < 0 || replicas > MAX_REPLICAS)
      return [200, graphqlError(`numReplicas must be between 0 and ${MAX_REPLICAS}`, "BAD_USER_INPUT", root)];
    instances.set(key, replicas);
    scales++;
    return [200, { data: { serviceInstanceUpdate: true } }];
  }

  function respond(request: IncomingMessage, bodyText: string): Answer {
    if (Date.now() >= window.resetsAt) window = { remaining: limit, resetsAt: Date.now() + WINDOW_MS };
    if (injected) {
      const { status, body } = injected;
      if (--injected.times <= 0) injected = undefined;
      if (status === 429) window.remaining = 0;
      return [status, body];
    }
    if (request.method !== "POST" || pathOf(request) !== "/graphql/v2") return [404, "Not Found"];
    if (window.remaining <= 0) return [429, graphqlError("Rate limit exceeded", "RATE_LIMITED")];
    window.remaining--;
    return resolve(request, bodyText);
  }

  const stand = recordingServer({
    name: "railway-api",
    recorded: received,
    async answer(request, response, bodyText) {
      // Recorded just before this call: the project token is as secret as the Authorization header.
      const recorded = received.at(-1)!;
      if (recorded.headers["project-access-token"] !== undefined)
        recorded.headers["project-access-token"] = REDACTED;
      const answer = respond(request, bodyText);
      await stand.delay(latencyMs);
      send(response, answer);
    },
    answerError: (response) => send(response, [500, graphqlError("Problem processing request")]),
  });
  const url = await listen(stand.server, options.port);

  function send(response: ServerResponse, [status, body]: Answer): void {
    const headers: Record<string, string> = {
      "X-RateLimit-Limit": String(limit),
      "X-RateLimit-Remaining": String(window.remaining),
      "X-RateLimit-Reset": new Date(window.resetsAt).toISOString(),
    };
    if (status === 429) headers["Retry-After"] = String(Math.ceil((window.resetsAt - Date.now()) / 1000));
    const text = typeof body === "string" ? body : JSON.stringify(body);
    sendText(response, status, text, typeof body === "string" ? "text/plain" : "application/json", headers);
  }

  const key = (serviceId: string, environmentId: string) => `${serviceId}/${environmentId}`;
  return {
    url,
    received,
    setLatency(ms) {
      latencyMs = ms;
    },
    close: () => stand.close(),
    numReplicas: (serviceId, environmentId) => instances.get(key(serviceId, environmentId)),
    setNumReplicas(serviceId, environmentId, n) {
      if (!instances.has(key(serviceId, environmentId)))
        throw new Error(`No Railway service instance ${key(serviceId, environmentId)}`);
      instances.set(key(serviceId, environmentId), n);
    },
    failNext(status, body, times = 1) {
      checkStatus("failNext", status, 200);
      injected = { status, body: body ?? graphqlError(`HTTP ${status}`), times };
    },
    failNextGraphql(message, code, times = 1) {
      injected = { status: 200, body: graphqlError(message, code), times };
    },
    setRateLimitRemaining(n) {
      window.remaining = n;
    },
    scaleCount: () => scales,
  };
}
