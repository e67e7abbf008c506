import { z } from "zod";
import { twoDecimals } from "../kit/decimal.js";
import { integer, nonNegative } from "../kit/fields.js";
import type { Reading } from "../measure/index.js";
import {
  checkBoundsOrder,
  checkThresholdsOrder,
  commonDecisionFields,
  decision,
  preludeAndSettling,
  step,
} from "./common.js";
import type { HistoryEntry, Verdict } from "./decision-state.js";
import type { Decide, DecisionBackend } from "./types.js";
import { plural } from "../kit/plural.js";

/**
 * The seeds' AverageThresholdBackend (written for queue sizes): once the last
 * `numberOfMeasurementsToAverage` readings since the last scale are in, their mean above
 * maxMeasurement scales up by `increment`, below minMeasurement down; a mean exactly at a
 * threshold holds, as in the seed ("outside" the thresholds, compared strictly).
 *
 * Mind the seed's defaults: with minMeasurement 0 a mean is never below it for readings that
 * cannot be negative (a queue size, a response time), so the defaults never scale down. Set
 * minMeasurement above 0 to scale down.
 *
 * A failed reading that means overload (a heartbeat's timeout or 5xx) has no value to average:
 * it is recorded with `value: null` and counts as +Infinity, so any failed reading among the
 * last N makes the mean "above maxMeasurement" (the same call as consecutive-threshold, for
 * which a failure is the slowest answer there is; an ok reading without a value counts the same
 * way). A failure that means "unknown" never gets here: the prelude holds on it.
 *
 * Each reading is recorded as `{ at, value, verdict? }`; the verdict is what this tick made of
 * the mean ("fail" above max, "pass" below min, "ok" within) and is absent while fewer than N
 * readings are in.
 */
export const averageThresholdSchema = z
  .strictObject({
    backend: z
      .literal("average-threshold")
      .describe(
        "The seed's, for queue sizes: the mean of the last readings above maxMeasurement scales up by increment, below minMeasurement down.",
      ),
    numberOfMeasurementsToAverage: integer(1, 1000)
      .default(3)
      .describe("Readings in the mean; nothing happens before that many are in since the last scale."),
    minMeasurement: nonNegative()
      .default(0)
      .describe(
        "A mean strictly below this scales down, in the measurement's unit; with 0 a queue never scales down, so set it above 0.",
      ),
    maxMeasurement: nonNegative()
      .default(20)
      .describe(
        "A mean strictly above this scales up, in the measurement's unit; a failed heartbeat counts as above.",
      ),
    ...commonDecisionFields,
  })
  .superRefine((config, ctx) => {
    checkBoundsOrder(config, ctx);
    checkThresholdsOrder(config, ctx);
    if (config.historyLength < config.numberOfMeasurementsToAverage) {
      ctx.addIssue({
        code: "custom",
        path: ["historyLength"],
        message: `expected historyLength >= ${config.numberOfMeasurementsToAverage} (numberOfMeasurementsToAverage looks back that far)`,
      });
    }
  });
export type AverageThresholdConfig = z.infer<typeof averageThresholdSchema>;

/** The value to record: null when the reading has none to average (it then counts as overload). */
export function recordedValue(reading: Reading): number | null {
  return reading.ok ? reading.value : null;
}

/** The mean of the entries' values, a null value counting as +Infinity. */
export function meanOf(entries: readonly Pick<HistoryEntry, "value">[]): number {
  let sum = 0;
  for (const entry of entries) sum += entry.value ?? Infinity;
  return sum / entries.length;
}

export function verdictOfMean(
  mean: number,
  config: { minMeasurement: number; maxMeasurement: number },
): Verdict {
  if (mean > config.maxMeasurement) return "fail";
  if (mean < config.minMeasurement) return "pass";
  return "ok";
}

export const decideAverageThreshold: Decide<AverageThresholdConfig> = (input) => {
  const { config, state, reading, current, now } = input;
  const { decision: settled, bounds, record } = preludeAndSettling(input);
  if (settled) return settled;

  // The history starts afresh at each scale (recordScale), so these are readings of the formation in place.
  const n = config.numberOfMeasurementsToAverage;
  const value = recordedValue(reading);
  const recent: HistoryEntry[] = [...state.history, { at: now.toMillis(), value }].slice(-n);
  if (recent.length < n) {
    const progress = `${recent.length} of ${n} readings to average`;
    return decision("hold", current, progress, bounds, record({ value }));
  }

  const mean = meanOf(recent);
  const verdict = verdictOfMean(mean, config);
  const next = record({ value, verdict });
  const failures = recent.filter((e) => e.value === null).length;
  const of = `the mean of the last ${plural(n, "reading")}`;

  if (failures > 0) {
    const why = `${of} is above ${config.maxMeasurement}: ${failures} failed, counted as overload`;
    return step("up", input, bounds, why, next);
  }
  if (verdict === "fail") {
    return step("up", input, bounds, `${of} (${twoDecimals(mean)}) is above ${config.maxMeasurement}`, next);
  }
  if (verdict === "pass") {
    return step(
      "down",
      input,
      bounds,
      `${of} (${twoDecimals(mean)}) is below ${config.minMeasurement}`,
      next,
    );
  }
  const range = `${config.minMeasurement}-${config.maxMeasurement}`;
  return decision("hold", current, `${of} (${twoDecimals(mean)}) is within ${range}`, bounds, next);
};

/** The `average-threshold` backend's descriptor, listed in ./registry.ts. */
export const averageThreshold: DecisionBackend<typeof averageThresholdSchema> = {
  schema: averageThresholdSchema,
  decide: decideAverageThreshold,
  band: (config) => ({ low: config.minMeasurement, high: config.maxMeasurement }),
};
