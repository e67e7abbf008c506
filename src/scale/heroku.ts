import { createHash } from "node:crypto";
import { z } from "zod";
import { envName, integer } from "../kit/fields.js";
import { field, isCount, JsonHttp, kindOfStatus, textField, type JsonAnswer } from "./json-http.js";
import { ScaleError, type BatchAnswer, type Scaler, type ScalerBatch, type ScalingBackend } from "./types.js";

/** Requests an account may make in its pool, refilled at about 75 a minute. */
export const HEROKU_RATE_LIMIT_POOL = 4500;
/**
 * How long an account makes no request after a 429 that says no Retry-After: two minutes refill
 * about 150 requests, enough for the next tick's reads and writes with some left for the
 * account's other tools; one tick is skipped, the next reads again.
 */
export const HEROKU_RATE_LIMIT_BACKOFF_MS = 120_000;

export const herokuScalingSchema = z.strictObject({
  backend: z.literal("heroku").describe("Heroku's Platform API formation endpoint."),
  app: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,28}[a-z0-9]$|^[0-9a-f-]{36}$/, { error: "expected a Heroku app name or id" })
    .describe("The Heroku app's name or id."),
  processType: z
    .string()
    .regex(/^[-\w]{1,128}$/, { error: "expected a Heroku process type" })
    .optional()
    .describe("The formation's process type to scale (default: the process's own name)."),
  // Secrets never live in the config: only the variable's name does.
  apiKeyEnv: envName
    .default("HEROKU_API_KEY")
    .describe("The environment variable holding the Heroku API key."),
  /** Heroku answers in well under a second; 5 s leaves the tick room for a slow heartbeat. */
  timeoutMs: integer(1, 28_000)
    .default(5000)
    .describe("How long one Platform API call may take, in milliseconds."),
  rateLimitReserve: integer(0, HEROKU_RATE_LIMIT_POOL)
    .default(HEROKU_RATE_LIMIT_POOL / 10)
    .describe(
      "Below this many requests left in the account's Heroku API pool (RateLimit-Remaining), scale-downs wait and scale-ups still go (0: nothing waits).",
    ),
});

export const DEFAULT_HEROKU_API_URL = "https://api.heroku.com";

/** The `heroku` backend's descriptor, listed in ./registry.ts. */
export const heroku: ScalingBackend<typeof herokuScalingSchema> = {
  schema: herokuScalingSchema,
  create(config, processName, env) {
    const apiKey = env[config.apiKeyEnv];
    if (!apiKey)
      throw new ScaleError("missing-credentials", "missing_api_key", `${config.apiKeyEnv} is not set`);
    return new HerokuFormationScaler({
      // The API root is configuration, so tests and proxies can stand in for api.heroku.com.
      baseUrl: env.HEROKU_API_URL || DEFAULT_HEROKU_API_URL,
      apiKey,
      app: config.app,
      processType: config.processType ?? processName,
      timeoutMs: config.timeoutMs,
      rateLimitReserve: config.rateLimitReserve,
    });
  },
  budgetMs: (config) => config.timeoutMs,
  formation: (config, processName) => `${config.app}/${config.processType ?? processName}`,
  secretEnv: (config) => [config.apiKeyEnv],
  advice: (error, config) => {
    switch (error.kind) {
      case "missing-credentials":
        return `set ${config.apiKeyEnv} to a Heroku API key (heroku authorizations:create), or name the variable that holds one in scaling.apiKeyEnv`;
      case "unauthorized":
        return `check the Heroku API key (HEROKU_API_KEY or the variable in scaling.apiKeyEnv, here ${config.apiKeyEnv})`;
      case "not-found":
        return "check scaling.app and scaling.processType";
      case "rate-limited":
        return `wait: the account's Heroku API pool of ${HEROKU_RATE_LIMIT_POOL} requests refills about 75 a minute, and other tools of the account draw on it too; the scale is decided again once it has refilled`;
      default:
        return "the scale is retried next tick; if it keeps failing, check the platform's status";
    }
  },
};

export interface HerokuFormationScalerOptions {
  /** API root, e.g. https://api.heroku.com */
  baseUrl: string;
  apiKey: string;
  /** App name or id. */
  app: string;
  /** Process type (or formation id). */
  processType: string;
  /** Per-request timeout; default 10000. */
  timeoutMs?: number;
  /** Requests left below which scale-downs wait; default 450. */
  rateLimitReserve?: number;
}

const HEROKU_ACCEPT = "application/vnd.heroku+json; version=3";

/**
 * Reads and sets one process type's quantity through the Heroku Platform API formation endpoints:
 * alone (`current`, `scaleTo`: one formation) or in its app's batch (`batch`: the formation list
 * and the batch update, one call each for every process type of the app a tick scales).
 */
export class HerokuFormationScaler implements Scaler {
  readonly target: string;
  readonly batch: ScalerBatch;
  readonly #http: JsonHttp;
  readonly #appUrl: string;
  readonly #formationUrl: string;
  readonly #headers: Record<string, string>;

  constructor(options: HerokuFormationScalerOptions) {
    this.target = `heroku ${options.app}/${options.processType}`;
    const timeoutMs = options.timeoutMs ?? 10_000;
    // Private fields, so the key shows up in no inspect, JSON.stringify or error output.
    this.#http = new JsonHttp({
      api: "Heroku API",
      target: this.target,
      timeoutMs,
      secrets: [options.apiKey],
    });
    this.#headers = { Accept: HEROKU_ACCEPT, Authorization: `Bearer ${options.apiKey}` };
    const base = options.baseUrl.replace(/\/+$/, "");
    this.#appUrl = `${base}/apps/${encodeURIComponent(options.app)}/formation`;
    this.#formationUrl = `${this.#appUrl}/${encodeURIComponent(options.processType)}`;
    // The account is its key at its API root: hashed, so the batch's names hold no secret.
    const account = createHash("sha256").update(`${base}\n${options.apiKey}`).digest("hex").slice(0, 16);
    const member = options.processType;
    this.batch = {
      key: `heroku:${account}:${options.app}`,
      account: `heroku:${account}`,
      member,
      rateLimitReserve: options.rateLimitReserve ?? HEROKU_RATE_LIMIT_POOL / 10,
      platform: "Heroku",
      readAll: (signal) => this.#formations("GET", undefined, signal),
      scaleAll: (quantities, signal) =>
        this.#formations(
          "PATCH",
          { updates: [...quantities].map(([type, quantity]) => ({ type, quantity })) },
          signal,
        ),
    };
  }

  async current(signal: AbortSignal): Promise<number> {
    return this.#quantity(await this.#send("GET", this.#formationUrl, undefined, signal));
  }

  async scaleTo(quantity: number, signal: AbortSignal): Promise<number> {
    return this.#quantity(await this.#send("PATCH", this.#formationUrl, { quantity }, signal));
  }

  toString(): string {
    return this.target;
  }

  /** The app's formation list (GET) or batch update (PATCH): every process type's quantity, by type and id. */
  async #formations(method: "GET" | "PATCH", body: unknown, signal: AbortSignal): Promise<BatchAnswer> {
    const answer = await this.#send(method, this.#appUrl, body, signal);
    if (!Array.isArray(answer.json)) throw this.#http.badResponse(answer, "without a formation list");
    const counts = new Map<string, number>();
    for (const formation of answer.json) {
      const quantity = field(formation, "quantity");
      if (!isCount(quantity)) throw this.#http.badResponse(answer, "without a valid formation quantity");
      // A process may name its formation by type or by id, as the single endpoints accept.
      for (const name of ["type", "id"]) {
        const value = field(formation, name);
        if (typeof value === "string") counts.set(value, quantity);
      }
    }
    const remaining = remainingOf(answer);
    return remaining === undefined ? { counts } : { counts, remaining };
  }

  /** One request; a refusal becomes a ScaleError with Heroku's own id and message. */
  async #send(method: "GET" | "PATCH", url: string, body: unknown, signal: AbortSignal): Promise<JsonAnswer> {
    const answer = await this.#http.send({ method, url, headers: this.#headers, body }, signal);
    if (!answer.ok) throw this.#apiError(answer);
    return answer;
  }

  #quantity(answer: JsonAnswer): number {
    const quantity = field(answer.json, "quantity");
    if (!isCount(quantity)) throw this.#http.badResponse(answer, "without a valid formation quantity");
    return quantity;
  }

  /** Heroku's own `{id, message}` when the body has it; the HTTP status otherwise. */
  #apiError(answer: JsonAnswer): ScaleError {
    const { json, status } = answer;
    const id = field(json, "id");
    // Heroku sends `error` instead of `message` for a few early refusals (e.g. missing_version).
    const text = textField(json, "message", "error");
    const heroku = typeof id === "string" && text !== undefined;
    let message = heroku ? text : answer.statusText || `HTTP ${status}`;
    const remaining = answer.headers.get("RateLimit-Remaining");
    if (status === 429 && remaining !== null) message += ` (RateLimit-Remaining: ${remaining})`;
    return this.#http.error(kindOfStatus(status), heroku ? id : `http_${status}`, message, status, {
      ...(status === 429 ? { retryAfterMs: retryAfterMs(answer.headers) } : {}),
      ...(status === 422 && heroku ? limitOf(id, json, text) : {}),
    });
  }
}

/** RateLimit-Remaining, which Heroku sends with every answer. */
function remainingOf(answer: JsonAnswer): number | undefined {
  const value = Number(answer.headers.get("RateLimit-Remaining") ?? Number.NaN);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}

/** Retry-After when the answer has it (in seconds), else the time the pool needs to refill enough. */
function retryAfterMs(headers: Headers): number {
  const seconds = Number(headers.get("Retry-After") ?? Number.NaN);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : HEROKU_RATE_LIMIT_BACKOFF_MS;
}

/**
 * The dyno limit a 422 names: `cannot_update_above_limit` ("Cannot update to more than 10
 * Performance-L size dynos per process type.") or `cannot_run_above_limit` (which also carries
 * a `limit` field). Other refusals name none.
 */
function limitOf(id: string, json: unknown, message: string): { limit?: number } {
  if (!/above_limit/.test(id)) return {};
  const stated = field(json, "limit");
  if (isCount(stated)) return { limit: stated };
  const named = /more than (\d+)/i.exec(message)?.[1];
  return named === undefined ? {} : { limit: Number(named) };
}
