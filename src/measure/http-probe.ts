import { z } from "zod";
import { describeFetchError, isAbort, withTimeout } from "../http.js";
import { REDACTED } from "../config/redact.js";
import type { Reading, Unit } from "./types.js";

/**
 * What every HTTP measurement backend shares: one request with a timeout, the whole body read,
 * and the outcome classified. A non-2xx answer or no answer is a failure the backend reports as
 * a failed reading (by default meaning overload); a 2xx answer is handed back for the backend
 * to read its number from.
 */

/**
 * Extra request headers, e.g. a token for an authenticated heartbeat. Validated here so that
 * fetch never throws on a bad value: its TypeError would quote the value, and values may be
 * secrets. The issues zod reports name the header, never its value.
 */
export const httpHeaders = z.record(
  z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, { error: "expected an HTTP header name" }),
  z.string().regex(/^[\t\x20-\x7e\x80-\xff]*$/, {
    error: "expected a header value without line breaks or control characters",
  }),
);

export type HttpMethod = "GET" | "HEAD" | "POST";

export type ProbeResult =
  | { ok: true; status: number; headers: Headers; body: string; elapsedMs: number }
  /** `elapsedMs` is set when the time is still meaningful (an error status, a timeout). */
  | { ok: false; error: string; elapsedMs: number | null };

export interface ProbeOptions {
  timeoutMs: number;
  method?: HttpMethod;
}

const DEFAULT_HEADERS = { "User-Agent": "autoscalebot", "Cache-Control": "no-cache" };

export class HttpProbe {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  /** Values never to be shown: configured header values and URL credentials. */
  readonly #secrets: string[];

  constructor(rawUrl: string, headers: Record<string, string> = {}) {
    // Headers merge case-insensitively; configured ones win over the defaults.
    const merged = new Headers(DEFAULT_HEADERS);
    // fetch refuses URLs with credentials: `https://user:pass@host/` becomes HTTP Basic auth
    // (an Authorization header configured explicitly wins).
    const url = new URL(rawUrl);
    const secrets = Object.values(headers);
    if (url.username || url.password) {
      const username = decodeURIComponent(url.username);
      const password = decodeURIComponent(url.password);
      const basic = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
      merged.set("Authorization", basic);
      secrets.push(basic, password, url.password);
      url.username = "";
      url.password = "";
    }
    for (const [name, value] of Object.entries(headers)) {
      try {
        merged.set(name, value);
      } catch {
        // Headers' own TypeError quotes the value; the schema normally rules this out.
        throw new TypeError(`header "${name}" has an invalid name or value`);
      }
    }
    this.#url = url.toString();
    this.#headers = Object.fromEntries(merged);
    // Longest first so a secret containing another is removed whole; very short values are
    // left alone, since scrubbing "1" would mangle the message and hides nothing.
    this.#secrets = [...new Set(secrets)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  }

  /** One request. Never throws: any failure is a ProbeResult with ok=false and a safe message. */
  async fetch(signal: AbortSignal, options: ProbeOptions): Promise<ProbeResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const response = await fetch(this.#url, {
        method: options.method ?? "GET",
        signal: withTimeout(signal, options.timeoutMs),
        headers: this.#headers,
        redirect: "follow",
      });
      // The whole body: a slow app is often slow to stream, not to start.
      const body = await response.text();
      if (!response.ok)
        return { ok: false, error: `heartbeat answered HTTP ${response.status}`, elapsedMs: elapsed() };
      return { ok: true, status: response.status, headers: response.headers, body, elapsedMs: elapsed() };
    } catch (error) {
      const why =
        isAbort(error) && !signal.aborted
          ? `no answer within ${options.timeoutMs} ms`
          : this.#scrub(describeFetchError(error));
      return { ok: false, error: `heartbeat failed: ${why}`, elapsedMs: isAbort(error) ? elapsed() : null };
    }
  }

  #scrub(message: string): string {
    return this.#secrets.reduce((text, secret) => text.replaceAll(secret, REDACTED), message);
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
  options: { value?: number | null; failureMeans?: "unknown" } = {},
): Reading {
  const reading: Reading = { backend, value: options.value ?? null, unit, ok: false, error };
  if (options.failureMeans) reading.failureMeans = options.failureMeans;
  return reading;
}
