import { z } from "zod";
import { HttpProbe, probeFields } from "./http-probe.js";
import { jsonPath } from "./json-path.js";
import { measureReportedDuration } from "./reported-duration.js";
import { serverTimingMetric } from "./server-timing.js";
import type { Measurement, MeasurementBackend, Reading } from "./types.js";

/**
 * The seed's HerokuServiceTimeBackend, done the modern way: the time the app itself spent on a
 * heartbeat request, as it reports it in the standard `Server-Timing` header
 * (`Server-Timing: app;dur=123.4`), else in a field of its JSON body. Unlike response-time this
 * leaves out the network and the router, so it tracks the dynos' own load.
 *
 * No answer or a non-2xx answer is a failed reading meaning overload; an answer without the
 * metric is a failed reading meaning "unknown" (a misconfiguration, not load).
 */
export const serviceTimeSchema = z.strictObject({
  backend: z
    .literal("service-time")
    .describe(
      "The app's own time for the heartbeat request, in milliseconds, from its Server-Timing header (app;dur=123.4) or a JSON body field.",
    ),
  ...probeFields,
  metric: serverTimingMetric.default("app").describe("The Server-Timing metric whose dur is the reading."),
  jsonField: jsonPath
    .optional()
    .describe(
      "Dotted path of a JSON body field to fall back on when the header lacks the metric, e.g. timing.serviceMs.",
    ),
});
export type ServiceTimeConfig = z.infer<typeof serviceTimeSchema>;
export type ServiceTimeInput = z.input<typeof serviceTimeSchema>;

export class ServiceTimeMeasurement implements Measurement {
  readonly #config: ServiceTimeConfig;
  readonly #probe: HttpProbe;

  constructor(config: ServiceTimeInput) {
    this.#config = serviceTimeSchema.parse(config);
    this.#probe = new HttpProbe(this.#config.url, this.#config.headers);
  }

  measure(signal: AbortSignal): Promise<Reading> {
    return measureReportedDuration("service-time", this.#probe, this.#config, signal);
  }
}

/** The `service-time` backend's descriptor, listed in ./registry.ts. */
export const serviceTime: MeasurementBackend<typeof serviceTimeSchema> = {
  schema: serviceTimeSchema,
  create: (config) => new ServiceTimeMeasurement(config),
  budgetMs: (config) => config.timeoutMs,
};
