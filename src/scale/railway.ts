/**
 * Railway's public GraphQL API (https://docs.railway.com/integrations/api): a service's replica
 * count in one environment, as Railway's own autoscaling guide does it. The count is
 * `serviceInstance(serviceId, environmentId) { numReplicas }` (null means 1); a scale is
 * `serviceInstanceUpdate(serviceId, environmentId, input: { numReplicas })`, answered `true`.
 * Failures mostly come as HTTP 200 with `{"errors": [{"message", "extensions": {"code"}}]}`;
 * an exhausted rate limit is HTTP 429 with `Retry-After` and the `X-RateLimit-*` headers.
 */
import { z } from "zod";
import { envName, integer } from "../kit/fields.js";
import {
  field,
  isCount,
  JsonHttp,
  kindOfStatus,
  rateLimitNote,
  secretFrom,
  textField,
  type JsonAnswer,
} from "./json-http.js";
import type { ScaleErrorKind, Scaler, ScalingBackend } from "./types.js";

const railwayId = (what: string) =>
  z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, {
    error: `expected a Railway ${what} id (a UUID)`,
  });

export const railwayScalingSchema = z.strictObject({
  backend: z
    .literal("railway")
    .describe("Railway's public GraphQL API: a service's replica count in one environment."),
  serviceId: railwayId("service").describe(
    "The Railway service's id (Cmd/Ctrl+K in the project, or its dashboard URL).",
  ),
  environmentId: railwayId("environment").describe(
    "The id of the environment whose replicas are scaled (production, staging, ...).",
  ),
  apiTokenEnv: envName
    .default("RAILWAY_API_TOKEN")
    .describe("The environment variable holding the Railway API token."),
  tokenType: z
    .enum(["account", "project"])
    .default("account")
    .describe(
      "account: an account, workspace or OAuth token, sent as Authorization: Bearer; project: a project token (scoped to one environment), sent as Project-Access-Token.",
    ),
  timeoutMs: integer(1, 28_000)
    .default(5000)
    .describe("How long one Railway API call may take, in milliseconds."),
});

export const DEFAULT_RAILWAY_API_URL = "https://backboard.railway.com";
const GRAPHQL_PATH = "/graphql/v2";

/** What a Railway answer says of its rate limit, quoted in a rate-limited message. */
const RATE_LIMIT_HEADERS = ["Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"];

const READ = `query serviceInstance($serviceId: String!, $environmentId: String!) {
  serviceInstance(serviceId: $serviceId, environmentId: $environmentId) {
    numReplicas
  }
}`;
const SCALE = `mutation serviceInstanceUpdate($serviceId: String!, $environmentId: String!, $input: ServiceInstanceUpdateInput!) {
  serviceInstanceUpdate(serviceId: $serviceId, environmentId: $environmentId, input: $input)
}`;

/** The `railway` backend's descriptor, listed in ./registry.ts. */
export const railway: ScalingBackend<typeof railwayScalingSchema> = {
  schema: railwayScalingSchema,
  create(config, _processName, env) {
    const token = secretFrom(env, config.apiTokenEnv, "missing_api_token");
    return new RailwayScaler({
      // The API root is configuration, so tests and proxies can stand in for backboard.railway.com.
      baseUrl: env.RAILWAY_API_URL || DEFAULT_RAILWAY_API_URL,
      token,
      tokenType: config.tokenType,
      serviceId: config.serviceId,
      environmentId: config.environmentId,
      timeoutMs: config.timeoutMs,
    });
  },
  budgetMs: (config) => config.timeoutMs,
  formation: (config) => `${config.serviceId}/${config.environmentId}`,
  secretEnv: (config) => [config.apiTokenEnv],
  advice: (error, config) => {
    switch (error.kind) {
      case "missing-credentials":
        return `set ${config.apiTokenEnv} to a Railway API token (account or workspace token, or a project token with tokenType "project"), or name the variable that holds one in scaling.apiTokenEnv`;
      case "unauthorized":
        return `check the Railway token in ${config.apiTokenEnv} and scaling.tokenType (a project token is sent as Project-Access-Token and reaches only its own environment)`;
      case "not-found":
        return "check scaling.serviceId and scaling.environmentId (the service must exist in that environment)";
      case "rate-limited":
        return "wait: Railway allows 1000 API requests an hour on Hobby, 10000 on Pro; the scale is retried next tick";
      case "refused":
        return "Railway refused the request: check the replica bounds (at most 50 replicas in all) and that the API still has serviceInstanceUpdate's numReplicas";
      default:
        return "the scale is retried next tick; if it keeps failing, check https://status.railway.com";
    }
  },
};

export interface RailwayScalerOptions {
  /** API root, e.g. https://backboard.railway.com (the client adds /graphql/v2 unless it is there). */
  baseUrl: string;
  token: string;
  tokenType: "account" | "project";
  serviceId: string;
  environmentId: string;
  timeoutMs: number;
}

/** Reads and sets one Railway service's replica count in one environment. */
export class RailwayScaler implements Scaler {
  readonly target: string;
  readonly #auth: Record<string, string>;
  readonly #url: string;
  readonly #ids: { serviceId: string; environmentId: string };
  readonly #http: JsonHttp;

  constructor(options: RailwayScalerOptions) {
    this.target = `railway ${options.serviceId}/${options.environmentId}`;
    this.#auth =
      options.tokenType === "project"
        ? { "Project-Access-Token": options.token }
        : { Authorization: `Bearer ${options.token}` };
    const base = options.baseUrl.replace(/\/+$/, "");
    this.#url = base.endsWith(GRAPHQL_PATH) ? base : `${base}${GRAPHQL_PATH}`;
    this.#ids = { serviceId: options.serviceId, environmentId: options.environmentId };
    this.#http = new JsonHttp({
      api: "Railway API",
      target: this.target,
      timeoutMs: options.timeoutMs,
      secrets: [options.token],
    });
  }

  async current(signal: AbortSignal): Promise<number> {
    const { answer, data } = await this.#query("serviceInstance", READ, this.#ids, signal);
    const replicas = field(field(data, "serviceInstance"), "numReplicas");
    // Railway leaves numReplicas null for a service never scaled: it runs one replica.
    if (replicas === null) return 1;
    if (!isCount(replicas)) throw this.#http.badResponse(answer, "without serviceInstance.numReplicas");
    return replicas;
  }

  async scaleTo(quantity: number, signal: AbortSignal): Promise<number> {
    const variables = { ...this.#ids, input: { numReplicas: quantity } };
    const { answer, data } = await this.#query("serviceInstanceUpdate", SCALE, variables, signal);
    if (field(data, "serviceInstanceUpdate") !== true)
      throw this.#http.badResponse(answer, "without serviceInstanceUpdate: true");
    return quantity;
  }

  toString(): string {
    return this.target;
  }

  /** One GraphQL operation; its `data`, or a ScaleError from the HTTP status or the `errors` it answered. */
  async #query(
    operationName: string,
    query: string,
    variables: object,
    signal: AbortSignal,
  ): Promise<{ answer: JsonAnswer; data: unknown }> {
    const answer = await this.#http.send(
      { method: "POST", url: this.#url, headers: this.#auth, body: { query, operationName, variables } },
      signal,
    );
    const errors = field(answer.json, "errors");
    const first: unknown = Array.isArray(errors) ? errors[0] : undefined;
    if (answer.ok && first === undefined) return { answer, data: field(answer.json, "data") };
    const code = textField(field(first, "extensions"), "code");
    let message = textField(first, "message") ?? (answer.statusText || `HTTP ${answer.status}`);
    if (Array.isArray(errors) && errors.length > 1) message += ` (and ${errors.length - 1} more errors)`;
    const kind = answer.ok ? graphqlKind(code, message) : kindOfStatus(answer.status);
    if (kind === "rate-limited") message += rateLimitNote(answer.headers, RATE_LIMIT_HEADERS);
    const id = code?.toLowerCase() ?? (answer.ok ? "graphql_error" : `http_${answer.status}`);
    throw this.#http.error(kind, id, message, answer.status);
  }
}

/**
 * The engine's kind of a GraphQL error Railway answered with HTTP 200. Railway's gateway is
 * Apollo's: `extensions.code` when there is a specific one, but it often reports refusals as
 * INTERNAL_SERVER_ERROR with a telling message ("Not Authorized", "ServiceInstance not found").
 */
function graphqlKind(code: string | undefined, message: string): ScaleErrorKind {
  if (
    /^(UNAUTHENTICATED|UNAUTHORIZED|FORBIDDEN)$/.test(code ?? "") ||
    /not authori[sz]ed|token not found|unauthenticated/i.test(message)
  )
    return "unauthorized";
  if (/NOT_FOUND$/.test(code ?? "") || /not found/i.test(message)) return "not-found";
  if (/^(RATE_LIMITED|TOO_MANY_REQUESTS)$/.test(code ?? "") || /rate limit|too many requests/i.test(message))
    return "rate-limited";
  if (/^(BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED|GRAPHQL_PARSE_FAILED|BAD_REQUEST)$/.test(code ?? ""))
    return "refused";
  // A resolver that failed may have done its work first: the next tick reads the count again.
  if (code === "INTERNAL_SERVER_ERROR" || /problem processing request/i.test(message)) return "server";
  return "refused";
}
