import { httpHeaders, httpUrl, integer } from "../kit/fields.js";
import { describeFetchError, isAbort, withTimeout } from "../kit/http.js";
import { scrub } from "../kit/redact.js";
import type { Reading, Unit } from "./types.js";

/**
 * What every HTTP measurement backend shares: one request with a timeout, the whole body read,
 * and the outcome classified. A non-2xx answer or no answer is a failure the backend reports as
 * a failed reading (by default meaning overload); a 2xx answer is handed back for the backend
 * to read its number from.
 */

/** The settings of every backend that asks the app over HTTP. */
export const probeFields = {
  url: httpUrl.describe("The heartbeat URL (http or https); user:pass@ in it becomes HTTP Basic auth."),
  timeoutMs: integer(1, 60_000)
    .default(5000)
    .describe(
      "How long to wait for the whole answer, in milliseconds; no answer by then is a failed reading.",
    ),
  headers: httpHeaders
    .optional()
    .describe(
      "Extra request headers, e.g. an Authorization token; values are redacted whenever the config is printed.",
    ),
};

export type HttpMethod = "GET" | "HEAD" | "POST";

export type ProbeResult =
  | { ok: true; status: number; headers: Headers; body: string; elapsedMs: number }
  /**
   * `elapsedMs` is set when the time is still meaningful (an error status, a timeout).
   * `failureMeans: "unknown"` marks a failure that says nothing about load: the setup is wrong
   * (an invalid header, a redirect that is not followed), not the app slow.
   */
  | { ok: false; error: string; elapsedMs: number | null; failureMeans?: "unknown" };

export interface ProbeOptions {
  timeoutMs: number;
  method?: HttpMethod;
}

const DEFAULT_HEADERS = { "User-Agent": "autoscalebot", "Cache-Control": "no-cache" };

/** Redirects followed per request, fewer than fetch's 20: a heartbeat that needs more is misconfigured. */
export const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Dropped when a redirect turns the request into a GET, as fetch does. */
const REQUEST_BODY_HEADERS = ["content-encoding", "content-language", "content-location", "content-type"];

/** URL-decoded text, or the text as is when it is not valid percent-encoding (`p%zz`). */
function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export class HttpProbe {
  readonly #url: string = "";
  readonly #headers: Record<string, string> = {};
  /** Values never to be shown: configured header values and URL credentials. */
  readonly #secrets: string[] = [];
  /** Whether the request carries anything that must not reach another origin. */
  readonly #credentialed: boolean = false;
  /** Set when the configuration cannot make a request: every fetch fails with it. */
  readonly #invalid: string | undefined;

  /** Never throws: a URL or header that cannot be used makes every fetch fail instead. */
  constructor(rawUrl: string, headers: Record<string, string> = {}) {
    const secrets = Object.values(headers);
    // Headers merge case-insensitively; configured ones win over the defaults.
    const merged = new Headers(DEFAULT_HEADERS);
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      // URL's TypeError carries the input, which may hold credentials.
      this.#invalid = "the URL is not valid";
      return;
    }
    // fetch refuses URLs with credentials: `https://user:pass@host/` becomes HTTP Basic auth
    // (an Authorization header configured explicitly wins).
    if (url.username || url.password) {
      const username = decodeSafely(url.username);
      const password = decodeSafely(url.password);
      const basic = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
      merged.set("Authorization", basic);
      // A token may be the username alone (`https://ghp_token@host/`).
      secrets.push(basic, username, url.username, password, url.password);
      url.username = "";
      url.password = "";
    }
    for (const [name, value] of Object.entries(headers)) {
      try {
        merged.set(name, value);
      } catch {
        // Headers' own TypeError quotes the value; the schema normally rules this out.
        this.#invalid = `header "${name}" has an invalid name or value`;
        return;
      }
    }
    this.#url = url.toString();
    this.#headers = Object.fromEntries(merged);
    this.#credentialed = secrets.length > 0;
    this.#secrets = secrets;
  }

  /** One request. Never throws: any failure is a ProbeResult with ok=false and a safe message. */
  async fetch(signal: AbortSignal, options: ProbeOptions): Promise<ProbeResult> {
    if (this.#invalid !== undefined)
      return {
        ok: false,
        error: `heartbeat failed: ${this.#invalid}`,
        elapsedMs: null,
        failureMeans: "unknown",
      };
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    // One deadline for the request and every redirect it takes.
    const deadline = withTimeout(signal, options.timeoutMs);
    const unknown = (why: string): ProbeResult => ({
      ok: false,
      error: `heartbeat failed: ${why}`,
      elapsedMs: elapsed(),
      failureMeans: "unknown",
    });
    let url = new URL(this.#url);
    let method: string = options.method ?? "GET";
    let headers = this.#headers;
    try {
      for (let redirects = 0; ; redirects++) {
        // Redirects are followed here, not by fetch: it drops Authorization on a cross-origin
        // redirect but sends every other header on, and configured headers may be secrets.
        const response = await fetch(url, { method, signal: deadline, headers, redirect: "manual" });
        const location = response.headers.get("location");
        if (!REDIRECT_STATUSES.has(response.status) || location === null) {
          // The whole body: a slow app is often slow to stream, not to start.
          const body = await response.text();
          if (!response.ok)
            return { ok: false, error: `heartbeat answered HTTP ${response.status}`, elapsedMs: elapsed() };
          return { ok: true, status: response.status, headers: response.headers, body, elapsedMs: elapsed() };
        }
        await response.body?.cancel();
        // Messages name the target's origin at most: a path or query may hold a token.
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          return unknown(`HTTP ${response.status} redirect with an invalid Location; not followed`);
        }
        if (next.protocol !== "http:" && next.protocol !== "https:")
          return unknown(`redirected to a ${next.protocol} URL; not followed`);
        if (next.origin !== url.origin && this.#credentialed)
          return unknown(
            `redirected to another origin (${next.origin}); not followed, since the request carries credentials`,
          );
        if (redirects >= MAX_REDIRECTS) return unknown(`more than ${MAX_REDIRECTS} redirects`);
        // As fetch: 303 turns anything but HEAD into a GET, 301 and 302 turn a POST into one.
        if (
          (response.status === 303 && method !== "GET" && method !== "HEAD") ||
          ((response.status === 301 || response.status === 302) && method === "POST")
        ) {
          method = "GET";
          headers = Object.fromEntries(
            Object.entries(headers).filter(([name]) => !REQUEST_BODY_HEADERS.includes(name.toLowerCase())),
          );
        }
        next.username = "";
        next.password = "";
        next.hash = "";
        url = next;
      }
    } catch (error) {
      const why =
        isAbort(error) && !signal.aborted
          ? `no answer within ${options.timeoutMs} ms`
          : this.#scrub(describeFetchError(error));
      return { ok: false, error: `heartbeat failed: ${why}`, elapsedMs: isAbort(error) ? elapsed() : null };
    }
  }

  #scrub(message: string): string {
    return scrub(message, this.#secrets);
  }
}

/**
 * A failed reading. `failureMeans` stays unset (= overload) for no answer or an error status;
 * "unknown" is for an app that answered but without the number asked for, which says nothing
 * about its load.
 */
export function failedReading(
  backend: string,
  unit: Unit,
  error: string,
  options: { value?: number | null; failureMeans?: "unknown" | undefined } = {},
): Reading {
  const reading: Reading = { backend, value: options.value ?? null, unit, ok: false, error };
  if (options.failureMeans) reading.failureMeans = options.failureMeans;
  return reading;
}
