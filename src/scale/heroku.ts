import { z } from "zod";
import { envName, integer } from "../kit/fields.js";
import { withTimeout } from "../kit/http.js";
import { scrub } from "../kit/redact.js";
import { transportError } from "./json-http.js";
import { ScaleError, type ScaleErrorKind, type Scaler, type ScalingBackend } from "./types.js";

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
        return "wait: Heroku's API allows 4500 requests an hour; the scale is retried next tick";
      default:
        return "the scale is retried next tick; if it keeps failing, check the platform's status";
    }
  },
};

/** The engine's kind of a Heroku answer, by status. */
function kindOf(status: number): ScaleErrorKind {
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 404) return "not-found";
  if (status === 429) return "rate-limited";
  return status >= 500 ? "server" : "refused";
}

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
}

/** Reads and sets one process type's quantity through the Heroku Platform API formation endpoints. */
export class HerokuFormationScaler implements Scaler {
  readonly target: string;
  // A private field, so the key shows up in no inspect, JSON.stringify or error output.
  readonly #apiKey: string;
  readonly #url: string;
  readonly #timeoutMs: number;

  constructor(options: HerokuFormationScalerOptions) {
    this.target = `heroku ${options.app}/${options.processType}`;
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    const base = options.baseUrl.replace(/\/+$/, "");
    this.#url = `${base}/apps/${encodeURIComponent(options.app)}/formation/${encodeURIComponent(options.processType)}`;
  }

  current(signal: AbortSignal): Promise<number> {
    return this.#request("GET", undefined, signal);
  }

  scaleTo(quantity: number, signal: AbortSignal): Promise<number> {
    return this.#request("PATCH", { quantity }, signal);
  }

  toString(): string {
    return this.target;
  }

  /** Sends one request and returns the formation's quantity; every failure becomes a ScaleError. */
  async #request(method: "GET" | "PATCH", body: unknown, signal: AbortSignal): Promise<number> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.#url, {
        method,
        headers: {
          Accept: "application/vnd.heroku+json; version=3",
          Authorization: `Bearer ${this.#apiKey}`,
          "Content-Type": "application/json",
          "User-Agent": "autoscalebot",
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: withTimeout(signal, this.#timeoutMs),
      });
      // Read under the same deadline: a stalled body is as much a timeout as stalled headers.
      text = await response.text();
    } catch (error) {
      throw transportError(error, signal, {
        api: "Heroku API",
        target: this.target,
        timeoutMs: this.#timeoutMs,
        scrub: (text) => this.#redact(text),
      });
    }
    const json = parseJson(text);
    if (!response.ok) throw this.#apiError(response, json);
    const quantity = (json as { quantity?: unknown } | undefined)?.quantity;
    if (typeof quantity !== "number" || !Number.isInteger(quantity) || quantity < 0) {
      throw new ScaleError(
        "bad-response",
        "bad_response",
        `Heroku API answered ${response.status} without a valid formation quantity`,
        response.status,
      );
    }
    return quantity;
  }

  /** Heroku's own `{id, message}` when the body has it; the HTTP status otherwise. */
  #apiError(response: Response, json: unknown): ScaleError {
    const fields = (typeof json === "object" && json !== null ? json : {}) as Record<string, unknown>;
    // Heroku sends `error` instead of `message` for a few early refusals (e.g. missing_version).
    const { id } = fields;
    const text = fields.message ?? fields.error;
    const heroku = typeof id === "string" && typeof text === "string";
    let message = heroku ? text : response.statusText || `HTTP ${response.status}`;
    const remaining = response.headers.get("RateLimit-Remaining");
    if (response.status === 429 && remaining !== null) message += ` (RateLimit-Remaining: ${remaining})`;
    return new ScaleError(
      kindOf(response.status),
      heroku ? id : `http_${response.status}`,
      this.#redact(message),
      response.status,
    );
  }

  /** The key must never leave in a message, even if a server or proxy echoes it. */
  #redact(message: string): string {
    return scrub(message, [this.#apiKey]);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
