import { setMaxListeners } from "node:events";
import { z } from "zod";
import { integer } from "../kit/fields.js";
import { HttpProbe, probeFields } from "./http-probe.js";
import { jsonPath, parseJson, readJsonPath } from "./json-path.js";
import {
  BACKEND,
  failedSample,
  METRIC_SETTINGS,
  PROCESS_METRIC_UNITS,
  requestMetricsReading,
  type MetricSetting,
  type ProcessMetric,
  type ProcessSample,
} from "./process-metrics.js";
import { MAX_SAMPLED_MS } from "./response-time.js";
import { UNIT_MAX } from "./sane.js";
import type { Measurement, MeasurementBackend, Reading } from "./types.js";

/**
 * A load-proportional signal from the app: the request metrics every process keeps of the
 * requests it serves (the heartbeat package's createRequestMetrics), read from its heartbeat
 * endpoint, which answers with the window of the process that served it (`requestMetrics` in
 * its JSON body). The router sends each request to a random process, so `samples` requests a
 * tick reach several processes; ./process-metrics.ts combines them, each process once.
 *
 * Nothing is published anywhere: no Redis command at all, where processes publishing their
 * windows to a store the tick reads would cost about 5 million commands a month for 20
 * processes every 10 s (ten times Upstash's free plan). The price is that the reading is an
 * estimate from the processes sampled (`processesSeen` says how many).
 */
export const requestMetricsSchema = z
  .strictObject({
    backend: z
      .literal(BACKEND)
      .describe(
        "The request metrics of the app's processes (utilisation, requests per process, queue-time p95), from samples of its heartbeat endpoint, each answered by a random process.",
      ),
    ...probeFields,
    timeoutMs: probeFields.timeoutMs.describe(
      "How long to wait for each sample's whole answer, in milliseconds; a sample without an answer by then is skipped.",
    ),
    metric: z
      .enum(Object.keys(METRIC_SETTINGS) as [MetricSetting, ...MetricSetting[]])
      .default("utilisation")
      .describe(
        "The figure that is the reading's value: utilisation (percent of the processes' capacity in use, their mean), requests-per-process (requests per minute, their mean) or queue-time-p95 (ms, the largest process p95). All three are in the reading's metrics.",
      ),
    samples: integer(1, 20)
      .default(8)
      .describe(
        "Heartbeat requests per measurement; the router spreads them over the processes at random, and each process seen counts once.",
      ),
    concurrency: integer(1, 20)
      .optional()
      .describe(
        "Sample requests in flight at once (default: all of them, so the measurement takes one timeoutMs at most, as the tick's budget expects); ceil(samples / concurrency) × timeoutMs at most 20000.",
      ),
    jsonField: jsonPath
      .default("requestMetrics")
      .describe("Dotted path of the request metrics in the heartbeat's JSON body."),
  })
  .refine((c) => roundsOf(c) * c.timeoutMs <= MAX_SAMPLED_MS, {
    path: ["timeoutMs"],
    error: `ceil(samples / concurrency) × timeoutMs must be at most ${MAX_SAMPLED_MS} (the tick has 25 s)`,
  });
export type RequestMetricsConfig = z.infer<typeof requestMetricsSchema>;
export type RequestMetricsInput = z.input<typeof requestMetricsSchema>;

/** Sample requests in flight at once: `concurrency`, all of them by default. */
const lanesOf = (c: { samples: number; concurrency?: number | undefined }) =>
  Math.min(c.concurrency ?? c.samples, c.samples);
/** Samples one lane takes one after another at most: the measurement's longest time, in timeouts. */
const roundsOf = (c: { samples: number; concurrency?: number | undefined }) =>
  Math.ceil(c.samples / lanesOf(c));

export class RequestMetricsMeasurement implements Measurement {
  readonly #config: RequestMetricsConfig;
  readonly #probe: HttpProbe;

  constructor(config: RequestMetricsInput) {
    this.#config = requestMetricsSchema.parse(config);
    this.#probe = new HttpProbe(this.#config.url, this.#config.headers);
  }

  async measure(signal: AbortSignal): Promise<Reading> {
    const { samples, metric } = this.#config;
    // Each sample's timeout listens to the signal until it fires, so up to `samples` at once:
    // this measurement's own signal allows that many without Node's leak warning.
    const own = AbortSignal.any([signal]);
    setMaxListeners(samples + 1, own);
    const taken: ProcessSample[] = [];
    let next = 0;
    // `concurrency` lanes, each taking the next sample when its last one is done.
    const lane = async () => {
      while (next < samples) {
        const i = next++;
        taken[i] = await this.#sample(own);
      }
    };
    await Promise.all(Array.from({ length: lanesOf(this.#config) }, lane));
    return requestMetricsReading(taken, metric);
  }

  async #sample(signal: AbortSignal): Promise<ProcessSample> {
    const result = await this.#probe.fetch(signal, { timeoutMs: this.#config.timeoutMs });
    if (!result.ok) return failedSample(result.error, result.failureMeans ?? "overload");
    return processSample(result.body, this.#config.jsonField);
  }
}

/** Where each figure is in the heartbeat's summary. */
const SUMMARY_FIELDS: ReadonlyArray<[ProcessMetric, string]> = [
  ["utilisation", "utilisationPercent"],
  ["requestsPerProcess", "requestsPerMinute"],
  ["queueTimeP95Ms", "queueTime.p95Ms"],
];

/**
 * One process's figures from its heartbeat's body (the heartbeat package's
 * RequestMetricsSummary at `jsonField`). A body without them is a failed sample that says
 * nothing about load: the app is up, its setup lacks the metrics.
 */
export function processSample(body: string, jsonField: string): ProcessSample {
  const unknown = (why: string) => failedSample(`request-metrics: ${why}`, "unknown");
  const document = parseJson(body);
  if (document === undefined) return unknown("the body is not JSON");
  const summary = readJsonPath(document, jsonField);
  if (summary === null || typeof summary !== "object")
    return unknown(`the JSON body has no object "${jsonField}" (is the heartbeat given its metrics?)`);
  const process = readJsonPath(summary, "process");
  if (typeof process !== "string" || process === "")
    return unknown(`"${jsonField}.process" is not a process name`);
  const sample: ProcessSample = { ...failedSample("", "unknown"), ok: true, process };
  for (const [metric, path] of SUMMARY_FIELDS) {
    const max = UNIT_MAX[PROCESS_METRIC_UNITS[metric]];
    const value = readJsonPath(summary, path);
    if (
      value !== null &&
      !(typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= max)
    )
      return unknown(`"${jsonField}.${path}" is not a number from 0 to ${max} or null`);
    sample[metric] = value;
  }
  return sample;
}

/** The `request-metrics` backend's descriptor, listed in ./registry.ts. */
export const requestMetrics: MeasurementBackend<typeof requestMetricsSchema> = {
  schema: requestMetricsSchema,
  create: (config) => new RequestMetricsMeasurement(config),
  budgetMs: (config) => roundsOf(config) * config.timeoutMs,
};
