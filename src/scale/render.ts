/**
 * Render's REST API (https://api-docs.render.com): a service's instance count. The count is
 * `serviceDetails.numInstances` of `GET /v1/services/{serviceId}`; a scale is
 * `POST /v1/services/{serviceId}/scale` with `{"numInstances": n}`, answered 202 without a body.
 * Errors are `{id?, code?, message?}` with the HTTP status; every answer carries
 * `Ratelimit-Limit`, `Ratelimit-Remaining` and `Ratelimit-Reset`.
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
import type { Scaler, ScalingBackend } from "./types.js";

export const renderScalingSchema = z.strictObject({
  backend: z
    .literal("render")
    .describe("Render's REST API: a web service's, private service's or worker's instance count."),
  serviceId: z
    .string()
    .regex(/^srv-[a-z0-9]{1,64}$/, { error: "expected a Render service id (srv-...)" })
    .describe("The Render service's id, srv-... (in its dashboard URL)."),
  apiKeyEnv: envName
    .default("RENDER_API_KEY")
    .describe("The environment variable holding the Render API key."),
  timeoutMs: integer(1, 28_000)
    .default(5000)
    .describe("How long one Render API call may take, in milliseconds."),
});

export const DEFAULT_RENDER_API_URL = "https://api.render.com";

/** What a Render answer's rate limit says, quoted in a 429's message. */
const RATE_LIMIT_HEADERS = ["Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset"];

/** The `render` backend's descriptor, listed in ./registry.ts. */
export const render: ScalingBackend<typeof renderScalingSchema> = {
  schema: renderScalingSchema,
  create(config, _processName, env) {
    const apiKey = secretFrom(env, config.apiKeyEnv, "missing_api_key");
    return new RenderScaler({
      // The API root is configuration, so tests and proxies can stand in for api.render.com.
      baseUrl: env.RENDER_API_URL || DEFAULT_RENDER_API_URL,
      apiKey,
      serviceId: config.serviceId,
      timeoutMs: config.timeoutMs,
    });
  },
  budgetMs: (config) => config.timeoutMs,
  formation: (config) => config.serviceId,
  secretEnv: (config) => [config.apiKeyEnv],
  advice: (error, config) => {
    switch (error.kind) {
      case "missing-credentials":
        return `set ${config.apiKeyEnv} to a Render API key (Account Settings → API Keys), or name the variable that holds one in scaling.apiKeyEnv`;
      case "unauthorized":
        return `check the Render API key (RENDER_API_KEY or the variable in scaling.apiKeyEnv, here ${config.apiKeyEnv}) and that its workspace owns the service`;
      case "not-found":
        return "check scaling.serviceId (srv-..., in the service's dashboard URL)";
      case "rate-limited":
        return "wait: Render allows about 30 scale calls and 400 reads a minute; the scale is retried next tick";
      case "refused":
        if (error.id === AUTOSCALING_ON)
          return "turn Render's autoscaling off for this service (its Scaling tab), or leave the service to Render and remove this process";
        if (error.id === SUSPENDED) return "resume the service on Render";
        return "Render refused the request; check the service's type and plan (static sites and cron jobs have no instances)";
      default:
        return "the scale is retried next tick; if it keeps failing, check https://status.render.com";
    }
  },
};

/** Our ids for the states in which scaling a Render service cannot work. */
const AUTOSCALING_ON = "render_autoscaling_enabled";
const SUSPENDED = "render_service_suspended";

export interface RenderScalerOptions {
  /** API root, e.g. https://api.render.com (the client adds /v1/...). */
  baseUrl: string;
  apiKey: string;
  serviceId: string;
  timeoutMs: number;
}

/** Reads and sets one Render service's instance count. */
export class RenderScaler implements Scaler {
  readonly target: string;
  readonly #apiKey: string;
  readonly #url: string;
  readonly #http: JsonHttp;

  constructor(options: RenderScalerOptions) {
    this.target = `render ${options.serviceId}`;
    this.#apiKey = options.apiKey;
    this.#url = `${options.baseUrl.replace(/\/+$/, "")}/v1/services/${encodeURIComponent(options.serviceId)}`;
    this.#http = new JsonHttp({
      api: "Render API",
      target: this.target,
      timeoutMs: options.timeoutMs,
      secrets: [options.apiKey],
    });
  }

  async current(signal: AbortSignal): Promise<number> {
    const answer = await this.#send("GET", this.#url, undefined, signal);
    const service = answer.json;
    const details = field(service, "serviceDetails");
    // Render ignores a manual count while its own autoscaling is on, and numInstances is then not the running count.
    if (field(field(details, "autoscaling"), "enabled") === true) {
      throw this.#http.error(
        "refused",
        AUTOSCALING_ON,
        `Render's autoscaling is on for ${this.target}: Render ignores manual scaling while it is`,
      );
    }
    if (field(service, "suspended") === "suspended")
      throw this.#http.error("refused", SUSPENDED, `${this.target} is suspended`);
    const count = field(details, "numInstances");
    if (!isCount(count)) throw this.#http.badResponse(answer, "without serviceDetails.numInstances");
    return count;
  }

  async scaleTo(quantity: number, signal: AbortSignal): Promise<number> {
    // 202 Accepted without a body: Render has taken the count, and the next read shows it.
    await this.#send("POST", `${this.#url}/scale`, { numInstances: quantity }, signal);
    return quantity;
  }

  toString(): string {
    return this.target;
  }

  async #send(method: "GET" | "POST", url: string, body: unknown, signal: AbortSignal): Promise<JsonAnswer> {
    const answer = await this.#http.send(
      { method, url, headers: { Authorization: `Bearer ${this.#apiKey}` }, body },
      signal,
    );
    if (answer.ok) return answer;
    // Render's `{id?, code?, message?}`: the stable `code` when there is one, else the status.
    const code = textField(answer.json, "code");
    let message = textField(answer.json, "message") ?? (answer.statusText || `HTTP ${answer.status}`);
    if (answer.status === 429) message += rateLimitNote(answer.headers, RATE_LIMIT_HEADERS);
    throw this.#http.error(
      kindOfStatus(answer.status),
      code ?? `http_${answer.status}`,
      message,
      answer.status,
    );
  }
}
