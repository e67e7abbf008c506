import type { Reading, Unit } from "./types.js";

/**
 * How the `request-metrics` measurement makes one reading of the whole formation out of the
 * processes its samples reached. Pure, and shared with the simulator (src/simulate/model.ts),
 * so that a simulated policy reads exactly what the real backend would report.
 *
 * The router sends each sample request to a random process, so a tick's samples reach several
 * processes, some more than once. Each process counts once (the first sample from it), then:
 *   - utilisation and requests per process: the mean over the processes seen, an estimate of
 *     the formation's mean (what `ceil(current × value / target)` scales on);
 *   - queue time p95: the largest of the processes' p95s. Under random routing one process can
 *     be swamped while the others idle, and its users wait as long as its queue says; the
 *     largest p95 is never below the p95 of all their requests together (if each process has at
 *     most 5% of its requests above x, so has their union), so it does not understate the tail,
 *     while a mean would average a hot process away.
 * A failed sample (no answer, an error status, a body without the figures) is skipped; all
 * failed is a failed reading that, like a failed heartbeat, counts as overload (unless every
 * failure says nothing about load: then "unknown", and the decision holds).
 */

/** The figures of a reading's `metrics`, with their units: the contract the decisions read. */
export const PROCESS_METRIC_UNITS = {
  /** Share of the processes' capacity in use, in percent (0–100). */
  utilisation: "percent",
  /** Requests per minute per process. */
  requestsPerProcess: "rpm",
  /** The 95th percentile of request queue time (now − X-Request-Start), in ms. */
  queueTimeP95Ms: "ms",
} as const satisfies Record<string, Unit>;
export type ProcessMetric = keyof typeof PROCESS_METRIC_UNITS;

/** The `metric` setting's names for the figure that becomes the reading's value. */
export const METRIC_SETTINGS = {
  utilisation: "utilisation",
  "requests-per-process": "requestsPerProcess",
  "queue-time-p95": "queueTimeP95Ms",
} as const satisfies Record<string, ProcessMetric>;
export type MetricSetting = keyof typeof METRIC_SETTINGS;

/** One sample: the process that answered and its figures (null: it could not say), or why it failed. */
export interface ProcessSample {
  ok: boolean;
  process: string;
  utilisation: number | null;
  requestsPerProcess: number | null;
  queueTimeP95Ms: number | null;
  /** A failed sample's reason, and whether it says nothing about load ("unknown"). */
  error: string;
  failureMeans: "overload" | "unknown";
}

export const BACKEND = "request-metrics";

/** The reading of `count` samples (the first `count` of `samples`: the simulator reuses its array). */
export function requestMetricsReading(
  samples: readonly ProcessSample[],
  metric: MetricSetting,
  count = samples.length,
): Reading {
  const key = METRIC_SETTINGS[metric];
  const unit = PROCESS_METRIC_UNITS[key];
  let processes = 0;
  let failures = 0;
  let firstFailure: ProcessSample | null = null;
  let overload = false;
  // Sums and counts of the figures given (nulls left out), for their means.
  let utilisationSum = 0;
  let utilisationCount = 0;
  let rateSum = 0;
  let rateCount = 0;
  // The largest p95 given, with its count (not a number-or-null: that is boxed at every sample).
  let queueTimeMax = 0;
  let queueTimeCount = 0;
  for (let i = 0; i < count; i++) {
    const sample = samples[i]!;
    if (!sample.ok) {
      failures++;
      firstFailure ??= sample;
      if (sample.failureMeans === "overload") overload = true;
      continue;
    }
    if (seenBefore(samples, i)) continue;
    processes++;
    if (sample.utilisation !== null) {
      utilisationSum += sample.utilisation;
      utilisationCount++;
    }
    if (sample.requestsPerProcess !== null) {
      rateSum += sample.requestsPerProcess;
      rateCount++;
    }
    if (sample.queueTimeP95Ms !== null) {
      queueTimeMax = Math.max(queueTimeMax, sample.queueTimeP95Ms);
      queueTimeCount++;
    }
  }
  if (processes === 0) {
    const reading: Reading = {
      backend: BACKEND,
      value: null,
      unit,
      ok: false,
      error: `${failures} of ${count} samples failed; first: ${firstFailure?.error ?? "no samples"}`,
    };
    if (!overload) reading.failureMeans = "unknown";
    return reading;
  }
  const metrics: Record<ProcessMetric, number | null> = {
    utilisation: utilisationCount > 0 ? tenth(utilisationSum / utilisationCount) : null,
    requestsPerProcess: rateCount > 0 ? tenth(rateSum / rateCount) : null,
    queueTimeP95Ms: queueTimeCount > 0 ? tenth(queueTimeMax) : null,
  };
  const value =
    key === "utilisation"
      ? metrics.utilisation
      : key === "requestsPerProcess"
        ? metrics.requestsPerProcess
        : metrics.queueTimeP95Ms;
  if (value === null)
    return {
      backend: BACKEND,
      value: null,
      unit,
      ok: false,
      error: `none of the ${processes} processes sampled reported ${key}${key === "queueTimeP95Ms" ? " (no request carried X-Request-Start)" : ""}`,
      failureMeans: "unknown",
      metrics,
      processesSeen: processes,
    };
  return { backend: BACKEND, value, unit, ok: true, metrics, processesSeen: processes };
}

/** Whether an earlier successful sample came from the same process (whose figures then stand). */
function seenBefore(samples: readonly ProcessSample[], i: number): boolean {
  const process = samples[i]!.process;
  for (let j = 0; j < i; j++) if (samples[j]!.ok && samples[j]!.process === process) return true;
  return false;
}

const tenth = (value: number) => Math.round(value * 10) / 10;

/** A sample that failed, for `requestMetricsReading`. */
export const failedSample = (error: string, failureMeans: "overload" | "unknown"): ProcessSample => ({
  ok: false,
  process: "",
  utilisation: null,
  requestsPerProcess: null,
  queueTimeP95Ms: null,
  error,
  failureMeans,
});
