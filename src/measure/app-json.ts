import { z } from "zod";

import { HttpProbe, failedReading, probeFields } from "./http-probe.js";
import { jsonPath, numberAtPath, parseJson } from "./json-path.js";
import type { Measurement, MeasurementBackend, Reading } from "./types.js";

/**
 * The seed's AppDecisionBackend: the app says in JSON what the autoscaler should know. Either
 *   - `{ "desired": 3 }`: the number of processes it wants (honoured within the bounds and
 *     cool-downs), or
 *   - a number at the dotted `path` (e.g. `queues.default.depth`), decided on like any other
 *     measurement, in `unit`.
 * An explicit `desired` wins over `path`, so an app can report a measurement normally and
 * override it when it knows better (before a batch job, say).
 *
 * No answer or a non-2xx answer fails meaning overload. An answer that is not what was asked for
 * (not JSON, no such field, not a number) fails meaning "unknown": the app is up, so that says
 * nothing about its load, and the decision holds.
 */
export const appJsonSchema = z.strictObject({
  backend: z
    .literal("app-json")
    .describe(
      'JSON from the app: a number at path, or {"desired": n}, a process count the decision honours within the bounds.',
    ),
  ...probeFields,
  path: jsonPath
    .optional()
    .describe(
      'Dotted path of the number to read, e.g. queues.default.depth; a "desired" field wins over it.',
    ),
  unit: z.enum(["ms", "jobs", "count"]).default("count").describe("The unit of the number at path."),
});
export type AppJsonConfig = z.infer<typeof appJsonSchema>;
export type AppJsonInput = z.input<typeof appJsonSchema>;

export class AppJsonMeasurement implements Measurement {
  readonly #config: AppJsonConfig;
  readonly #probe: HttpProbe;

  constructor(config: AppJsonInput) {
    this.#config = appJsonSchema.parse(config);
    this.#probe = new HttpProbe(this.#config.url, this.#config.headers);
  }

  async measure(signal: AbortSignal): Promise<Reading> {
    const { unit, path, timeoutMs } = this.#config;
    const result = await this.#probe.fetch(signal, { timeoutMs });
    if (!result.ok)
      return failedReading("app-json", unit, result.error, { failureMeans: result.failureMeans });
    const unknown = (error: string) => failedReading("app-json", unit, error, { failureMeans: "unknown" });

    const document = parseJson(result.body);
    if (document === undefined) return unknown("app-json: the body is not JSON");
    if (document !== null && typeof document === "object" && Object.hasOwn(document, "desired")) {
      const desired = (document as { desired: unknown }).desired;
      if (typeof desired !== "number" || !Number.isSafeInteger(desired) || desired < 0)
        return unknown('app-json: "desired" is not an integer >= 0');
      return { backend: "app-json", value: desired, unit: "count", ok: true, desired };
    }
    if (path === undefined) return unknown('app-json: expected {"desired": n} (no path is configured)');
    const field = numberAtPath(document, path);
    if (!field.ok) return unknown(`app-json: ${field.error}`);
    return { backend: "app-json", value: field.value, unit, ok: true };
  }
}

/** The `app-json` backend's descriptor, listed in ./registry.ts. */
export const appJson: MeasurementBackend<typeof appJsonSchema> = {
  schema: appJsonSchema,
  create: (config) => new AppJsonMeasurement(config),
  budgetMs: (config) => config.timeoutMs,
  readsAtZero: true,
};
