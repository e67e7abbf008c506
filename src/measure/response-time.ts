import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { integer } from "../kit/fields.js";
import { HttpProbe, failedReading, probeFields } from "./http-probe.js";
import type { Measurement, MeasurementBackend, Reading } from "./types.js";

/**
 * With several samples, the first starts at once and the last `sampleWindowMs` later, so the
 * slowest possible measurement takes sampleWindowMs + timeoutMs. Capping that sum keeps it well
 * inside the tick's default deadline of 25 s, with room to read the formation and scale.
 */
export const MAX_SAMPLED_MS = 20_000;

/**
 * The seeds' ResponseTimeBackend: the time a heartbeat URL takes to answer in full. A non-2xx
 * answer or a timeout is a failed reading (the decision counts it as slow).
 *
 * `samples` > 1 takes that many requests spread evenly over `sampleWindowMs` and reports the
 * median (the upper middle one for an even count; see medianReading), so with 3 or more samples
 * one slow request (a GC pause, a cold cache) does not count as overload. The samples
 * are staggered, not chained: each starts on schedule even if the one before is still waiting,
 * which bounds the total time whatever the app does (at the cost of overlapping requests when
 * the app is slower than the spacing).
 */
export const responseTimeSchema = z
  .strictObject({
    backend: z
      .literal("response-time")
      .describe("The time a heartbeat URL takes to answer in full, in milliseconds."),
    ...probeFields,
    timeoutMs: probeFields.timeoutMs.describe(
      "How long to wait for the whole answer, in milliseconds; a timeout counts as overload.",
    ),
    method: z
      .enum(["GET", "HEAD", "POST"])
      .default("GET")
      .describe("The HTTP method of the heartbeat request."),
    samples: integer(1, 10)
      .default(1)
      .describe(
        "Requests per measurement, spread evenly over sampleWindowMs; the median is the reading, so one slow request is not overload.",
      ),
    sampleWindowMs: integer(0, MAX_SAMPLED_MS)
      .default(5000)
      .describe(
        "With samples > 1: milliseconds from the first request's start to the last's (sampleWindowMs + timeoutMs at most 20000).",
      ),
  })
  .refine((c) => c.samples === 1 || c.sampleWindowMs + c.timeoutMs <= MAX_SAMPLED_MS, {
    path: ["sampleWindowMs"],
    error: `with samples > 1, sampleWindowMs + timeoutMs must be at most ${MAX_SAMPLED_MS} (the tick has 25 s)`,
  });
export type ResponseTimeConfig = z.infer<typeof responseTimeSchema>;
/** The config as written (defaults optional), so tests and callers need not spell every default. */
export type ResponseTimeInput = z.input<typeof responseTimeSchema>;

export class ResponseTimeMeasurement implements Measurement {
  readonly #probe: HttpProbe;
  readonly #config: ResponseTimeConfig;

  constructor(config: ResponseTimeInput) {
    // Defaults applied here too, so a config built in code behaves as one parsed from JSON.
    this.#config = responseTimeSchema.parse(config);
    this.#probe = new HttpProbe(this.#config.url, this.#config.headers);
  }

  async measure(signal: AbortSignal): Promise<Reading> {
    const { samples, sampleWindowMs } = this.#config;
    const spacing = samples > 1 ? sampleWindowMs / (samples - 1) : 0;
    const readings = await Promise.all(
      Array.from({ length: samples }, (_, i) => this.#sampleAt(Math.round(i * spacing), signal)),
    );
    return medianReading(readings);
  }

  async #sampleAt(delayMs: number, signal: AbortSignal): Promise<Reading> {
    if (delayMs > 0) {
      try {
        await sleep(delayMs, undefined, { signal });
      } catch {
        return failedReading("response-time", "ms", "heartbeat failed: timed out");
      }
    }
    const result = await this.#probe.fetch(signal, {
      timeoutMs: this.#config.timeoutMs,
      method: this.#config.method,
    });
    if (!result.ok)
      return failedReading("response-time", "ms", result.error, {
        value: result.elapsedMs,
        failureMeans: result.failureMeans,
      });
    return { backend: "response-time", value: result.elapsedMs, unit: "ms", ok: true };
  }
}

/**
 * The median sample. A failed sample ranks slower than every success (a timeout is the slowest
 * answer; an error status is no answer). With an even count the upper of the two middle samples
 * is taken, never an average or the lower one: so the median is a failure exactly when at least
 * half the samples failed (with 2 samples, one failure fails the reading: a partial outage must
 * not read as healthy), and otherwise failures still push it up.
 */
export function medianReading(readings: Reading[]): Reading {
  const ok = readings.filter((r) => r.ok).sort((a, b) => a.value! - b.value!);
  const failures = readings.filter((r) => !r.ok);
  const ranked = [...ok, ...failures];
  if (ranked.length === 1) return ranked[0]!;
  const median = ranked[Math.floor(ranked.length / 2)]!;
  if (median.ok) return median;
  const error = `${failures.length} of ${readings.length} samples failed; first: ${failures[0]!.error}`;
  return { ...median, error };
}

/** The `response-time` backend's descriptor, listed in ./registry.ts. */
export const responseTime: MeasurementBackend<typeof responseTimeSchema> = {
  schema: responseTimeSchema,
  create: (config) => new ResponseTimeMeasurement(config),
  budgetMs: (config) => config.timeoutMs + (config.samples > 1 ? config.sampleWindowMs : 0),
};
