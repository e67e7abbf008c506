import { describeFetchError, isAbort, withTimeout } from "../kit/http.js";
import { ScaleError, type Scaler } from "./types.js";

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
      if (isAbort(error) && signal.aborted) {
        throw new ScaleError(
          "aborted",
          `Heroku API request to ${this.target} was cancelled before it answered`,
        );
      }
      if (isAbort(error)) {
        throw new ScaleError("timeout", `Heroku API did not answer within ${this.#timeoutMs} ms`);
      }
      throw new ScaleError("network_error", this.#redact(describeFetchError(error)));
    }
    const json = parseJson(text);
    if (!response.ok) throw this.#apiError(response, json);
    const quantity = (json as { quantity?: unknown } | undefined)?.quantity;
    if (typeof quantity !== "number" || !Number.isInteger(quantity) || quantity < 0) {
      throw new ScaleError(
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
    return new ScaleError(heroku ? id : `http_${response.status}`, this.#redact(message), response.status);
  }

  /** The key must never leave in a message, even if a server or proxy echoes it. */
  #redact(message: string): string {
    return this.#apiKey ? message.split(this.#apiKey).join("[redacted]") : message;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
