import { z } from "zod";
import { HttpProbe, probeFields } from "./http-probe.js";
import { jsonPath } from "./json-path.js";
import { measureReportedDuration } from "./reported-duration.js";
import { serverTimingMetric } from "./server-timing.js";
import type { Measurement, MeasurementBackend, Reading } from "./types.js";

/**
 * Request queue time, the signal Judoscale and HireFire scale web dynos on: how long requests
 * wait for a free dyno. Only the app can see it (from `X-Request-Start`, set by the router when
 * the request arrived; see packages/heartbeat/src/queue-time.ts), so its heartbeat endpoint reports
 * the queue time of the heartbeat request itself, as `Server-Timing: queue;dur=42` or a JSON field.
 *
 * Queue time rises as soon as dynos are saturated, while response time also moves with slow
 * endpoints and downstream services; it is the better signal for adding dynos.
 */
export const queueTimeSchema = z.strictObject({
  backend: z
    .literal("queue-time")
    .describe(
      "Request queue time the heartbeat endpoint reports (now − X-Request-Start), in milliseconds: Server-Timing queue;dur=42, else a JSON field.",
    ),
  ...probeFields,
  metric: serverTimingMetric.default("queue").describe("The Server-Timing metric whose dur is the reading."),
  jsonField: jsonPath
    .default("queueTimeMs")
    .describe("Dotted path of the JSON body field to fall back on when the header lacks the metric."),
});
export type QueueTimeConfig = z.infer<typeof queueTimeSchema>;
export type QueueTimeInput = z.input<typeof queueTimeSchema>;

export class QueueTimeMeasurement implements Measurement {
  readonly #config: QueueTimeConfig;
  readonly #probe: HttpProbe;

  constructor(config: QueueTimeInput) {
    this.#config = queueTimeSchema.parse(config);
    this.#probe = new HttpProbe(this.#config.url, this.#config.headers);
  }

  measure(signal: AbortSignal): Promise<Reading> {
    return measureReportedDuration("queue-time", this.#probe, this.#config, signal);
  }
}

/** The `queue-time` backend's descriptor, listed in ./registry.ts. */
export const queueTime: MeasurementBackend<typeof queueTimeSchema> = {
  schema: queueTimeSchema,
  create: (config) => new QueueTimeMeasurement(config),
  budgetMs: (config) => config.timeoutMs,
};
