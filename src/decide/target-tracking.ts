import type { DateTime } from "luxon";
import { z } from "zod";
import { integer, nonNegative } from "../kit/fields.js";
import { checkBoundsOrder, commonDecisionFields, decision, moveTo, preludeAndSettling } from "./common.js";
import type { HistoryEntry, DecisionState } from "./decision-state.js";
import type { Decide, DecisionBackend } from "./types.js";

/** Kubernetes' cap on a stabilization window; it also keeps the history this backend stores small. */
export const MAX_STABILIZATION_SECONDS = 3600;

/**
 * Proportional target tracking, as Kubernetes' Horizontal Pod Autoscaler:
 *
 * - `valueIs: "average"` (default): the value is per process (latency, jobs per process), and the
 *   recommendation is `ceil(current × value / targetValue)`. From 0 processes there is nothing
 *   to multiply: the recommendation is 1 when the value is above 0, else 0.
 * - `valueIs: "total"`: the value is for the whole formation (a queue depth) and `targetValue`
 *   is per process: the recommendation is `ceil(value / targetValue)` (HPA's external metric
 *   with an AverageValue target).
 * - Within `tolerance` (default 0.1) of the target, `|value / (current × target) − 1|` for a total,
 *   `|value / target − 1|` for an average, the recommendation is the current count. Exactly at
 *   the tolerance counts as within it (the comparison allows for floating-point rounding, so
 *   110 against 100 is within 10%; HPA's own float arithmetic would scale there).
 * - A failed reading that means overload (a heartbeat's timeout or 5xx; an ok reading without
 *   a value alike) recommends `current + (maxScaleUpStep ?? increment)`. HPA skips missing
 *   metrics, but here a down heartbeat is the strongest sign of overload; a failure that means
 *   "unknown" never gets here (the prelude holds).
 *
 * Scaling up follows the recommendation at once. Scaling down goes only to the highest
 * recommendation within the last `scaleDownStabilizationSeconds` (default 300, at most 3600):
 * each tick's raw recommendation is stored in its history entry, and the history keeps every
 * entry within that window besides the newest `historyLength` ones, so `historyLength` cannot
 * shorten the window (the state grows to window ÷ tick interval entries: 5 at the default 300 s
 * and one tick a minute). `recordScale` clears the history at each scale, so the counts scaled
 * to (`state.scales[].to`) within the window count as recommendations too: a scale down to 4
 * keeps the formation at 4 or more for the next window, much as the recommendations that led to
 * it would in HPA (where they expire up to one window earlier, by their own age).
 *
 * `maxScaleUpStep` / `maxScaleDownStep` limit one scale's change (unlimited when absent); HPA
 * limits per period, here the cool-downs set the period. `increment` does not apply to the
 * proportional move (HPA has none): it is only the failed-reading step when `maxScaleUpStep`
 * is absent. The bounds clamp the result and the per-direction cool-downs apply (moveTo).
 */
export const targetTrackingSchema = z
  .strictObject({
    backend: z
      .literal("target-tracking")
      .describe(
        "Proportional, as Kubernetes' HPA: ceil(current × value / targetValue) processes, or ceil(value / targetValue) for a total.",
      ),
    targetValue: z
      .number({ error: "expected number > 0" })
      .gt(0, { error: "expected number > 0" })
      .refine(Number.isFinite, { error: "expected number > 0" })
      .describe(
        "The value each process should see, in the measurement's unit (e.g. 300 ms, or 20 jobs per process with valueIs total).",
      ),
    valueIs: z
      .enum(["average", "total"])
      .default("average")
      .describe(
        "average: the reading is per process (a latency); total: it is for the whole formation (a queue depth).",
      ),
    tolerance: z
      .number({ error: "expected number from 0 to below 1" })
      .min(0, { error: "expected number from 0 to below 1" })
      .lt(1, { error: "expected number from 0 to below 1" })
      .default(0.1)
      .describe("No change while the value is within this fraction of the target (0.1: ±10%)."),
    scaleDownStabilizationSeconds: nonNegative("seconds")
      .max(MAX_STABILIZATION_SECONDS, { error: `expected seconds <= ${MAX_STABILIZATION_SECONDS}` })
      .default(300)
      .describe(
        "Scale down only to the highest recommendation within this many seconds; scale-up is at once.",
      ),
    maxScaleUpStep: integer(1)
      .optional()
      .describe(
        "At most this many processes added by one scale (unlimited when left out); also the step on a failed heartbeat.",
      ),
    maxScaleDownStep: integer(1)
      .optional()
      .describe("At most this many processes removed by one scale (unlimited when left out)."),
    ...commonDecisionFields,
  })
  .superRefine((config, ctx) => {
    checkBoundsOrder(config, ctx);
  });
export type TargetTrackingConfig = z.infer<typeof targetTrackingSchema>;

/** Slack for floating-point rounding: 3 × 0.3 / 0.1 is 9.000000000000002, and 110 / 100 − 1 is 0.10000000000000009. */
const EPSILON = 1e-9;

/** A number for a reason: at most two decimals, no trailing zeros. */
const show = (n: number): string => String(Math.round(n * 100) / 100);

/** The raw recommendation for an ok reading with a value, and why. */
export function recommend(
  config: Pick<TargetTrackingConfig, "targetValue" | "valueIs" | "tolerance">,
  value: number,
  current: number,
): { recommendation: number; why: string } {
  const { targetValue: target, tolerance } = config;
  const total = config.valueIs === "total";
  const what = total ? `${show(value)} in total` : `${show(value)} per process`;
  if (current === 0 && !total) {
    const recommendation = value > 0 ? 1 : 0;
    return { recommendation, why: `${what} with no process running recommends ${recommendation}` };
  }
  if (current > 0) {
    const ratio = total ? value / (current * target) : value / target;
    if (Math.abs(ratio - 1) <= tolerance + EPSILON) {
      return {
        recommendation: current,
        why: `${what} is within ${show(tolerance * 100)}% of the target of ${show(total ? current * target : target)}`,
      };
    }
  }
  const exact = total ? value / target : (current * value) / target;
  const recommendation = Math.max(0, Math.ceil(exact - EPSILON));
  const per = total ? `${show(target)} per process` : `${show(target)}`;
  return { recommendation, why: `${what} against a target of ${per} recommends ${recommendation}` };
}

/**
 * The history to keep: the newest `historyLength` entries and every entry within the
 * stabilization window (the decision reads the window, so the count limit must not cut it).
 */
export function keepHistory(
  history: readonly HistoryEntry[],
  config: Pick<TargetTrackingConfig, "historyLength" | "scaleDownStabilizationSeconds">,
  nowMs: number,
): HistoryEntry[] {
  const cutoff = nowMs - config.scaleDownStabilizationSeconds * 1000;
  return history.filter((entry, i) => i >= history.length - config.historyLength || entry.at > cutoff);
}

/**
 * The highest earlier recommendation within the window (an entry exactly
 * `scaleDownStabilizationSeconds` old has expired, as in HPA), counting the counts scaled to
 * within it; -Infinity when there is none.
 */
export function stabilizedFloor(
  state: DecisionState,
  config: Pick<TargetTrackingConfig, "scaleDownStabilizationSeconds">,
  now: DateTime,
): number {
  const cutoff = now.toMillis() - config.scaleDownStabilizationSeconds * 1000;
  let floor = -Infinity;
  for (const entry of state.history)
    if (entry.at > cutoff && entry.recommendation !== undefined)
      floor = Math.max(floor, entry.recommendation);
  for (const scale of state.scales) if (scale.at > cutoff) floor = Math.max(floor, scale.to);
  return floor;
}

export const decideTargetTracking: Decide<TargetTrackingConfig> = (input) => {
  const { config, state, reading, current, now } = input;
  const { decision: settled, bounds, record } = preludeAndSettling(input);
  if (settled) return settled;

  let recommendation: number;
  let why: string;
  if (!reading.ok || reading.value === null) {
    const upStep = config.maxScaleUpStep ?? config.increment;
    recommendation = current + upStep;
    why = `the measurement failed${reading.error ? ` (${reading.error})` : ""}: counted as overload, recommends ${recommendation}`;
  } else {
    ({ recommendation, why } = recommend(config, reading.value, current));
  }

  // A failed reading's value (a timeout's elapsed time) is not the metric: it is recorded as null.
  const next = record({ value: reading.ok ? reading.value : null, recommendation }, (history) =>
    keepHistory(history, config, now.toMillis()),
  );

  if (recommendation > current) {
    const limit = config.maxScaleUpStep;
    if (limit !== undefined && recommendation - current > limit)
      return moveTo("up", current + limit, input, bounds, `${why}, ${limit} at most per scale`, next);
    return moveTo("up", recommendation, input, bounds, why, next);
  }
  if (recommendation < current) {
    const floor = Math.max(recommendation, stabilizedFloor(state, config, now));
    const window = `the last ${show(config.scaleDownStabilizationSeconds)} s`;
    if (floor >= current)
      return decision("hold", current, `${why}, but the highest within ${window} is ${floor}`, bounds, next);
    let target = floor;
    let suffix = floor > recommendation ? `; down to ${floor}, the highest within ${window}` : "";
    const limit = config.maxScaleDownStep;
    if (limit !== undefined && current - target > limit) {
      target = current - limit;
      suffix += `, ${limit} at most per scale`;
    }
    return moveTo("down", target, input, bounds, `${why}${suffix}`, next);
  }
  return decision("hold", current, why, bounds, next);
};

/** The `target-tracking` backend's descriptor, listed in ./registry.ts. */
export const targetTracking: DecisionBackend<typeof targetTrackingSchema> = {
  schema: targetTrackingSchema,
  decide: decideTargetTracking,
  band: ({ targetValue: target, tolerance, valueIs }) => ({
    low: target * (1 - tolerance),
    high: target * (1 + tolerance),
    target,
    perProcess: valueIs === "total",
  }),
  // The counts scaled to within the window are part of the stabilized floor.
  scaleRecordsMs: (config) => config.scaleDownStabilizationSeconds * 1000,
};
