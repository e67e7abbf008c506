/**
 * What the JSON-over-HTTP scalers share (Render, Railway, the generic webhook): one request
 * under the caller's deadline and our own timeout, its answer read and parsed, transport
 * failures as ScaleErrors the engine understands, and every message scrubbed of the secrets the
 * requests carry. The platform's own answers (statuses, error bodies) stay with each scaler.
 */
import type { Env } from "../kit/env.js";
import { describeFetchError, isAbort, withTimeout } from "../kit/http.js";
import { scrub } from "../kit/redact.js";
import { ScaleError, type ScaleErrorKind } from "./types.js";

export interface JsonHttpOptions {
  /** Names the API in messages, e.g. "Render API". */
  api: string;
  /** The scaler's target, for the message of a cancelled request. */
  target: string;
  /** How long one request may take, body included. */
  timeoutMs: number;
  /** Every secret the requests carry (keys, secret URLs and their parts): none leaves in a message. */
  secrets: readonly string[];
}

export interface JsonRequest {
  method: "GET" | "POST" | "PATCH";
  url: string;
  headers: Record<string, string>;
  /** Sent as JSON when given. */
  body?: unknown;
}

export interface JsonAnswer {
  status: number;
  statusText: string;
  ok: boolean;
  headers: Headers;
  /** The parsed body; undefined when it is empty or not JSON. */
  json: unknown;
}

/** Sends requests for one scaler; holds its secrets in private fields, so no inspect or JSON shows them. */
export class JsonHttp {
  readonly #api: string;
  readonly #target: string;
  readonly #timeoutMs: number;
  readonly #secrets: readonly string[];

  constructor(options: JsonHttpOptions) {
    this.#api = options.api;
    this.#target = options.target;
    this.#timeoutMs = options.timeoutMs;
    this.#secrets = options.secrets;
  }

  /** Sends one request and reads its answer; a transport failure (no answer) is a ScaleError. */
  async send(request: JsonRequest, signal: AbortSignal): Promise<JsonAnswer> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(request.url, {
        method: request.method,
        headers: this.#headers(request),
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: withTimeout(signal, this.#timeoutMs),
        // A redirect would carry our headers elsewhere (and turn a POST into a GET): it is an answer to report.
        redirect: "manual",
      });
      // Read under the same deadline: a stalled body is as much a timeout as stalled headers.
      text = await response.text();
    } catch (error) {
      throw transportError(error, signal, {
        api: this.#api,
        target: this.#target,
        timeoutMs: this.#timeoutMs,
        scrub: (text) => this.scrub(text),
      });
    }
    return {
      status: response.status,
      statusText: response.statusText,
      ok: response.ok,
      headers: response.headers,
      json: parseJson(text),
    };
  }

  /** Ours first, then the request's own, which replace ours by name whatever their case. */
  #headers(request: JsonRequest): Headers {
    const headers = new Headers({ Accept: "application/json", "User-Agent": "autoscalebot" });
    if (request.body !== undefined) headers.set("Content-Type", "application/json");
    for (const [name, value] of Object.entries(request.headers)) headers.set(name, value);
    return headers;
  }

  /** A ScaleError whose message is scrubbed of every secret (a server or proxy may echo one). */
  error(
    kind: ScaleErrorKind,
    id: string,
    message: string,
    status?: number,
    details?: ScaleError["details"],
  ): ScaleError {
    return new ScaleError(kind, id, this.scrub(message), status, details);
  }

  /** The answer held no count where one was expected. */
  badResponse(answer: JsonAnswer, what: string): ScaleError {
    return this.error(
      "bad-response",
      "bad_response",
      `${this.#api} answered ${answer.status} ${what}`,
      answer.status,
    );
  }

  scrub(text: string): string {
    return scrub(text, this.#secrets);
  }
}

/**
 * The secret a variable holds, or the setup's error naming the variable (never a value): a
 * `missing-credentials` ScaleError, which the tick reports with the process without notifying.
 */
export function secretFrom(env: Env, variable: string, id: string, what?: string): string {
  const value = env[variable];
  if (!value)
    throw new ScaleError("missing-credentials", id, `${variable} is not set${what ? ` (${what})` : ""}`);
  return value;
}

/** The engine's kind of an HTTP refusal, as REST platforms mean their statuses. */
export function kindOfStatus(status: number): ScaleErrorKind {
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 404) return "not-found";
  if (status === 429) return "rate-limited";
  return status >= 500 ? "server" : "refused";
}

/** The rate-limit headers an answer carries, as a note for its message: " (Retry-After: 30, ...)". */
export function rateLimitNote(headers: Headers, names: readonly string[]): string {
  const present = names.flatMap((name) => {
    const value = headers.get(name);
    return value === null ? [] : [`${name}: ${value}`];
  });
  return present.length === 0 ? "" : ` (${present.join(", ")})`;
}

/** A process count: an integer >= 0. */
export function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** An object's own field, or undefined (for reading answers of unknown shape). */
export function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null && Object.hasOwn(value, name)
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

/** The first of the fields that holds a string. */
export function textField(value: unknown, ...names: string[]): string | undefined {
  for (const name of names) {
    const text = field(value, name);
    if (typeof text === "string") return text;
  }
  return undefined;
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * A platform call that got no answer, as the engine's ScaleError: cancelled by the tick, timed
 * out (unclear: the platform may have applied it), or a network failure. Every platform client
 * classes its fetch failures so.
 */
export function transportError(
  error: unknown,
  signal: AbortSignal,
  call: { api: string; target: string; timeoutMs: number; scrub: (text: string) => string },
): ScaleError {
  if (isAbort(error) && signal.aborted)
    return new ScaleError(
      "aborted",
      "aborted",
      call.scrub(`${call.api} request to ${call.target} was cancelled before it answered`),
    );
  if (isAbort(error))
    return new ScaleError("timeout", "timeout", `${call.api} did not answer within ${call.timeoutMs} ms`);
  return new ScaleError("network", "network_error", call.scrub(describeFetchError(error)));
}
