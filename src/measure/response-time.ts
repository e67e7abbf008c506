import { z } from "zod";
import { httpUrl, integer } from "../config/fields.js";
import { describeFetchError, isAbort, withTimeout } from "../http.js";
import type { Measurement, Reading } from "./types.js";

/**
 * The seeds' ResponseTimeBackend: the time a heartbeat URL takes to answer in full. A non-2xx
 * answer or a timeout is a failed reading (the decision counts it as slow).
 */
export const responseTimeSchema = z.strictObject({
  backend: z.literal("response-time"),
  url: httpUrl,
  timeoutMs: integer(1, 60_000).default(5000),
});
export type ResponseTimeConfig = z.infer<typeof responseTimeSchema>;

export class ResponseTimeMeasurement implements Measurement {
  readonly #url: string;
  readonly #headers: Record<string, string> = { "User-Agent": "autoscalebot", "Cache-Control": "no-cache" };

  constructor(private readonly config: ResponseTimeConfig) {
    // fetch refuses URLs with credentials: `https://user:pass@host/` becomes HTTP Basic auth.
    const url = new URL(config.url);
    if (url.username || url.password) {
      const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      this.#headers.Authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
      url.username = "";
      url.password = "";
    }
    this.#url = url.toString();
  }

  async measure(signal: AbortSignal): Promise<Reading> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const response = await fetch(this.#url, {
        signal: withTimeout(signal, this.config.timeoutMs),
        headers: this.#headers,
        redirect: "follow",
      });
      await response.arrayBuffer(); // the whole body: a slow app is often slow to stream, not to start
      if (!response.ok) return failed(`heartbeat answered HTTP ${response.status}`, elapsed());
      return { backend: "response-time", value: elapsed(), unit: "ms", ok: true };
    } catch (error) {
      const why =
        isAbort(error) && !signal.aborted
          ? `no answer within ${this.config.timeoutMs} ms`
          : describeFetchError(error);
      return failed(`heartbeat failed: ${why}`, isAbort(error) ? elapsed() : null);
    }
  }
}

function failed(error: string, value: number | null): Reading {
  return { backend: "response-time", value, unit: "ms", ok: false, error };
}
