import { z } from "zod";
import { twoDecimals } from "../kit/decimal.js";
import { integer, nonNegative } from "../kit/fields.js";
import type { Reading } from "../measure/index.js";
import { checkBoundsOrder, commonDecisionFields, decision, moveTo, preludeAndSettling } from "./common.js";
import type { DecisionState, HistoryEntry, Recommendation } from "./decision-state.js";
import {
  behaviorSchema,
  DEFAULT_SCALE_DOWN_WINDOW_SECONDS,
  describeBlocked,
  describePolicies,
  keepRecommendations,
  longestPeriodMs,
  MAX_STABILIZATION_SECONDS,
  policyLimit,
  stabilize,
  type Behavior,
  type ScalingPolicy,
} from "./scaling-rules.js";
import type { Decide, Decision, DecisionBackend } from "./types.js";

/**
 * Proportional target tracking, as Kubernetes' Horizontal Pod Autoscaler (its semantics and
 * where they differ, with why: docs/backends.md, "Target tracking and Kubernetes' HPA"):
 *
 * - `valueIs: "average"` (default): the value is per process (latency, utilisation, jobs per
 *   process), and the recommendation is `ceil(current × value / target)`. From 0 processes there
 *   is nothing to multiply: the recommendation is 1 when the value is above 0, else 0.
 * - `valueIs: "total"`: the value is for the whole formation (a queue depth) and the target is
 *   per process: the recommendation is `ceil(value / target)` (HPA's AverageValue target).
 * - Within `tolerance` (default 0.1) of the target, `|value / (current × target) − 1|` for a
 *   total, `|value / target − 1|` for an average, the recommendation is the current count.
 *   Exactly at the tolerance counts as within it (the comparison allows for floating-point
 *   rounding, so 110 against 100 is within 10%; HPA's own float arithmetic would scale there).
 * - `targetValue` tracks the reading's value; `targets` tracks several of its named `metrics`
 *   instead, each with its target: the largest recommendation wins. A tracked metric that is null
 *   or absent is invalid, as in HPA: the valid ones decide, but never downward (then it holds),
 *   and with none valid it holds.
 * - A failed reading that means overload (a heartbeat's timeout or 5xx; with `targetValue`, an ok
 *   reading without a value alike) recommends `current + (maxScaleUpStep ?? increment)`. HPA
 *   skips missing metrics, but here a down heartbeat is the strongest sign of overload; a failure
 *   that means "unknown" never gets here (the prelude holds).
 *
 * Then HPA's behavior (./scaling-rules.ts): the recommendation is stabilized over the
 * recommendations of the last `stabilizationWindowSeconds` in each direction (scale up to the
 * lowest of them, default window 0; down to the highest, default 300 s), kept in
 * `state.recommendations`, which outlive scales; then the direction's policies limit the change
 * against the count at the start of each policy's period (the scale records within it). The
 * bounds clamp the result and the per-direction cool-downs apply (moveTo).
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
      .optional()
      .describe(
        "The value each process should see, in the measurement's unit (e.g. 300 ms, or 20 jobs per process with valueIs total). This or targets.",
      ),
    targets: z
      .record(
        z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, { error: "expected a metric name" }),
        z
          .number({ error: "expected number > 0" })
          .gt(0, { error: "expected number > 0" })
          .refine(Number.isFinite, { error: "expected number > 0" }),
      )
      .refine((targets) => Object.keys(targets).length > 0, { error: "expected at least one metric" })
      .optional()
      .describe(
        'Several of the reading\'s metrics, each with its target (e.g. {"utilisation": 60, "queueTimeP95Ms": 200}): the largest recommendation wins. This or targetValue.',
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
    behavior: behaviorSchema
      .optional()
      .describe(
        "Kubernetes HPA's behavior: per direction a stabilization window, rate-limit policies and selectPolicy.",
      ),
    scaleDownStabilizationSeconds: nonNegative("seconds")
      .max(MAX_STABILIZATION_SECONDS, { error: `expected seconds <= ${MAX_STABILIZATION_SECONDS}` })
      .optional()
      .describe(
        "Shorthand for behavior.scaleDown.stabilizationWindowSeconds (default 300): scale down only to the highest recommendation within this many seconds.",
      ),
    maxScaleUpStep: integer(1)
      .optional()
      .describe(
        "Shorthand for a scale-up policy of this many Pods per 1 s (at most this many added by one scale); also the step on a failed heartbeat.",
      ),
    maxScaleDownStep: integer(1)
      .optional()
      .describe(
        "Shorthand for a scale-down policy of this many Pods per 1 s (at most this many removed by one scale).",
      ),
    ...commonDecisionFields,
  })
  .superRefine((config, ctx) => {
    checkBoundsOrder(config, ctx);
    if (config.targetValue === undefined && config.targets === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["targetValue"],
        message: "expected number > 0 (or targets: a target per metric)",
      });
    if (config.targetValue !== undefined && config.targets !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["targets"],
        message: "expected targetValue or targets, not both",
      });
    const { scaleUp, scaleDown } = config.behavior ?? {};
    const clash = (key: string, given: boolean, path: string[]) => {
      if (given)
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `expected ${key} or ${path.join(".")}, not both`,
        });
    };
    clash(
      "scaleDownStabilizationSeconds",
      config.scaleDownStabilizationSeconds !== undefined &&
        scaleDown?.stabilizationWindowSeconds !== undefined,
      ["behavior", "scaleDown", "stabilizationWindowSeconds"],
    );
    clash("maxScaleUpStep", config.maxScaleUpStep !== undefined && scaleUp?.policies !== undefined, [
      "behavior",
      "scaleUp",
      "policies",
    ]);
    clash("maxScaleDownStep", config.maxScaleDownStep !== undefined && scaleDown?.policies !== undefined, [
      "behavior",
      "scaleDown",
      "policies",
    ]);
  });
export type TargetTrackingConfig = z.infer<typeof targetTrackingSchema>;

/** A step limit's policy: per 1 s, so only the scale at hand counts, whatever the time between ticks. */
const perScale = (value: number): ScalingPolicy[] => [{ type: "Pods", value, periodSeconds: 1 }];

/** The behavior in force, the shorthands mapped onto it; once per config object (a replay decides with one). */
const behaviors = new WeakMap<TargetTrackingConfig, Behavior>();
function behaviorOf(config: TargetTrackingConfig): Behavior {
  let behavior = behaviors.get(config);
  if (behavior) return behavior;
  const { scaleUp, scaleDown } = config.behavior ?? {};
  const up =
    scaleUp?.policies ?? (config.maxScaleUpStep === undefined ? [] : perScale(config.maxScaleUpStep));
  const down =
    scaleDown?.policies ?? (config.maxScaleDownStep === undefined ? [] : perScale(config.maxScaleDownStep));
  const downSeconds =
    scaleDown?.stabilizationWindowSeconds ??
    config.scaleDownStabilizationSeconds ??
    DEFAULT_SCALE_DOWN_WINDOW_SECONDS;
  behavior = {
    up: {
      windowMs: (scaleUp?.stabilizationWindowSeconds ?? 0) * 1000,
      select: scaleUp?.selectPolicy ?? "Max",
      policies: up,
    },
    down: { windowMs: downSeconds * 1000, select: scaleDown?.selectPolicy ?? "Max", policies: down },
  };
  behaviors.set(config, behavior);
  return behavior;
}

/** Slack for floating-point rounding: 3 × 0.3 / 0.1 is 9.000000000000002, and 110 / 100 − 1 is 0.10000000000000009. */
const EPSILON = 1e-9;

/** How a value compares with its target: the settings `recommend` reads besides the target. */
type Comparison = Pick<TargetTrackingConfig, "valueIs" | "tolerance">;

/** The raw recommendation for one value against its target, and why. */
export function recommend(
  config: Comparison & { targetValue: number },
  value: number,
  current: number,
): { recommendation: number; why: string } {
  return recommendAgainst(config.targetValue, config, value, current);
}

/** `recommend` with the target apart (no object per metric); `name` prefixes the reason. */
function recommendAgainst(
  target: number,
  { valueIs, tolerance }: Comparison,
  value: number,
  current: number,
  name?: string,
): { recommendation: number; why: string } {
  const total = valueIs === "total";
  const what = `${name === undefined ? "" : `${name} `}${twoDecimals(value)}${total ? " in total" : " per process"}`;
  if (current === 0 && !total) {
    const recommendation = value > 0 ? 1 : 0;
    return { recommendation, why: `${what} with no process running recommends ${recommendation}` };
  }
  if (current > 0) {
    const ratio = total ? value / (current * target) : value / target;
    if (Math.abs(ratio - 1) <= tolerance + EPSILON) {
      return {
        recommendation: current,
        why: `${what} is within ${twoDecimals(tolerance * 100)}% of the target of ${twoDecimals(total ? current * target : target)}`,
      };
    }
  }
  const exact = total ? value / target : (current * value) / target;
  const recommendation = Math.max(0, Math.ceil(exact - EPSILON));
  const per = total ? `${twoDecimals(target)} per process` : `${twoDecimals(target)}`;
  return { recommendation, why: `${what} against a target of ${per} recommends ${recommendation}` };
}

type Raw = { recommendation: number; why: string; missing?: string };

/**
 * Each tracked metric's recommendation, the largest winning (HPA's computeReplicasForMetrics);
 * `missing` names the invalid ones. Null when none is valid.
 */
function recommendTargets(
  targets: Record<string, number>,
  comparison: Comparison,
  metrics: Reading["metrics"],
  current: number,
): Raw | null {
  let best: { recommendation: number; why: string } | null = null;
  let missing: string | undefined;
  for (const name in targets) {
    const value = metrics?.[name];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      missing = missing === undefined ? name : `${missing}, ${name}`;
      continue;
    }
    const one = recommendAgainst(targets[name]!, comparison, value, current, name);
    if (best === null || one.recommendation > best.recommendation) best = one;
  }
  if (best === null) return null;
  return missing === undefined ? best : { ...best, missing };
}

/** The overload recommendation of a failed reading. */
function overload(config: TargetTrackingConfig, reading: Reading, current: number): Raw {
  const recommendation = current + (config.maxScaleUpStep ?? config.increment);
  const error = reading.error ? ` (${reading.error})` : "";
  return {
    recommendation,
    why: `the measurement failed${error}: counted as overload, recommends ${recommendation}`,
  };
}

/** The recommendations kept before this tick; a state written before they were kept has them in its history. */
function earlierRecommendations(state: DecisionState): readonly Recommendation[] {
  if (state.recommendations) return state.recommendations;
  const pairs: Recommendation[] = [];
  for (const entry of state.history)
    if (entry.recommendation !== undefined) pairs.push([entry.at, entry.recommendation]);
  return pairs;
}

/** `recorded` (a fresh state from `record`, so no copy is needed) keeping these recommendations. */
function keeping(recorded: DecisionState, recommendations: readonly Recommendation[]): DecisionState {
  recorded.recommendations = recommendations as Recommendation[];
  return recorded;
}

const seconds = (ms: number): string => `the last ${twoDecimals(ms / 1000)} s`;

export const decideTargetTracking: Decide<TargetTrackingConfig> = (input) => {
  const { config, state, reading, current, now } = input;
  const { decision: settled, bounds, record } = preludeAndSettling(input);
  if (settled) return settled;
  const nowMs = now.toMillis();
  const earlier = earlierRecommendations(state);
  // A failed reading's value (a timeout's elapsed time) is not the metric: it is recorded as null.
  const entry: Omit<HistoryEntry, "at"> = { value: reading.ok ? reading.value : null };

  let raw: Raw;
  if (!reading.ok) raw = overload(config, reading, current);
  else if (config.targets) {
    const tracked = recommendTargets(config.targets, config, reading.metrics, current);
    // HPA: with no valid metric, or an invalid one while the valid ones would scale down, hold;
    // no recommendation is kept, so a missing metric never counts as a low one.
    if (tracked === null || (tracked.missing !== undefined && tracked.recommendation < current)) {
      const why =
        tracked === null
          ? `holding: no tracked metric in the reading (${Object.keys(config.targets).join(", ")})`
          : `${tracked.why}, but ${tracked.missing} is missing: holding rather than scaling down`;
      return decision("hold", current, why, bounds, keeping(record(entry), earlier));
    }
    raw = tracked;
  } else if (reading.value === null) raw = overload(config, reading, current);
  else raw = recommendAgainst(config.targetValue!, config, reading.value, current);

  const behavior = behaviorOf(config);
  const desired = raw.recommendation;
  const next = keeping(record(entry), keepRecommendations(earlier, desired, behavior, nowMs));
  const { stabilized, lowest, highest } = stabilize(earlier, desired, current, behavior, nowMs);
  return limited(input, behavior, { desired, stabilized, lowest, highest, why: raw.why }, bounds, next);
};

/** The stabilized recommendation limited by the direction's policies, then moved to (moveTo). */
function limited(
  input: Parameters<Decide<TargetTrackingConfig>>[0],
  behavior: Behavior,
  {
    desired,
    stabilized,
    lowest,
    highest,
    why,
  }: { desired: number; stabilized: number; lowest: number; highest: number; why: string },
  bounds: { min: number; max: number },
  next: DecisionState,
): Decision {
  const { state, current, now } = input;
  if (stabilized > current) {
    const rules = behavior.up;
    const stable =
      stabilized < desired ? `; up to ${lowest}, the lowest within ${seconds(rules.windowMs)}` : "";
    const limit = policyLimit("up", rules, current, state.scales, now.toMillis());
    if (limit <= current && current < bounds.max)
      return decision("hold", current, `${why}${stable}, but ${describeBlocked("up", rules)}`, bounds, next);
    const target = Math.min(stabilized, limit);
    const capped = target < stabilized ? `, ${target} at most by ${describePolicies("up", rules)}` : "";
    return moveTo("up", target, input, bounds, `${why}${stable}${capped}`, next);
  }
  if (stabilized < current) {
    const rules = behavior.down;
    const stable =
      stabilized > desired ? `; down to ${highest}, the highest within ${seconds(rules.windowMs)}` : "";
    const limit = policyLimit("down", rules, current, state.scales, now.toMillis());
    if (limit >= current && current > bounds.min)
      return decision(
        "hold",
        current,
        `${why}${stable}, but ${describeBlocked("down", rules)}`,
        bounds,
        next,
      );
    const target = Math.max(stabilized, limit);
    const capped = target > stabilized ? `, ${target} at least by ${describePolicies("down", rules)}` : "";
    return moveTo("down", target, input, bounds, `${why}${stable}${capped}`, next);
  }
  // Stabilized at the current count while the recommendation moves: the window holds it.
  if (desired !== current) {
    const held =
      desired > current
        ? `the lowest within ${seconds(behavior.up.windowMs)} is ${lowest}`
        : `the highest within ${seconds(behavior.down.windowMs)} is ${highest}`;
    return decision("hold", current, `${why}, but ${held}`, bounds, next);
  }
  return decision("hold", current, why, bounds, next);
}

/** The `target-tracking` backend's descriptor, listed in ./registry.ts. */
export const targetTracking: DecisionBackend<typeof targetTrackingSchema> = {
  schema: targetTrackingSchema,
  decide: decideTargetTracking,
  // With several targets the dashboard's band is the first one's.
  band: ({ targetValue, targets, tolerance, valueIs }) => {
    const target = targetValue ?? Object.values(targets ?? {})[0] ?? 0;
    return {
      low: target * (1 - tolerance),
      high: target * (1 + tolerance),
      target,
      perProcess: valueIs === "total",
    };
  },
  // The policies count the scales within their periods.
  scaleRecordsMs: (config) => longestPeriodMs(behaviorOf(config)),
};
