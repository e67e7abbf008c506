import { failedReading, type HttpProbe } from "./http-probe.js";
import { numberInJson } from "./json-path.js";
import { findServerTiming } from "./server-timing.js";
import type { Reading } from "./types.js";

export interface DurationSource {
  /** The Server-Timing metric whose `dur` is the value. */
  metric: string;
  /** A dotted JSON body field to fall back on when the header lacks the metric. */
  jsonField?: string | undefined;
}

/**
 * A duration the app reports about its own request (service-time, queue-time): the `dur` of a
 * Server-Timing metric, else a field of the JSON body. The header comes first because it is the
 * standard and costs the app nothing to add; the body field is for stacks that cannot set it.
 */
export function reportedDuration(
  response: { headers: Headers; body: string },
  source: DurationSource,
): { ok: true; value: number } | { ok: false; error: string } {
  const timing = findServerTiming(response.headers.get("server-timing"), source.metric);
  if (timing?.duration != null && timing.duration >= 0) return { ok: true, value: timing.duration };

  const missing = !timing
    ? `no Server-Timing metric "${source.metric}"`
    : `the Server-Timing metric "${source.metric}" has no valid dur`;
  if (source.jsonField === undefined) return { ok: false, error: missing };
  const field = numberInJson(response.body, source.jsonField);
  return field.ok ? field : { ok: false, error: `${missing}, and ${field.error}` };
}

/**
 * One reading of a reported duration. No answer or a non-2xx answer fails meaning overload; an
 * answer without the duration fails meaning "unknown": the app is up, the setup is wrong, and
 * that says nothing about load.
 */
export async function measureReportedDuration(
  backend: string,
  probe: HttpProbe,
  config: DurationSource & { timeoutMs: number },
  signal: AbortSignal,
): Promise<Reading> {
  const result = await probe.fetch(signal, { timeoutMs: config.timeoutMs });
  if (!result.ok) return failedReading(backend, "ms", result.error, { failureMeans: result.failureMeans });
  const duration = reportedDuration(result, config);
  if (!duration.ok) return failedReading(backend, "ms", duration.error, { failureMeans: "unknown" });
  return { backend, value: duration.value, unit: "ms", ok: true };
}
