import { z } from "zod";
import { integer, nonNegative } from "../kit/fields.js";
import type { Recommendation, ScaleRecord } from "./decision-state.js";

/**
 * Kubernetes' HorizontalPodAutoscaler `behavior`, for target tracking: per direction a
 * stabilization window over the recommendations and rate limits (policies) over the scales.
 * The semantics are HPA's (pkg/controller/podautoscaler/horizontal.go); where they differ, the
 * docs (docs/backends.md, "Target tracking and Kubernetes' HPA") say so and why.
 */

/** Kubernetes' cap on a stabilization window; it also bounds the recommendations kept. */
export const MAX_STABILIZATION_SECONDS = 3600;
/** Kubernetes' cap on a policy's period. */
export const MAX_PERIOD_SECONDS = 1800;

export const scalingPolicySchema = z.strictObject({
  type: z
    .enum(["Pods", "Percent"])
    .describe(
      "Pods: at most `value` processes; Percent: at most `value` % of the count at the period's start.",
    ),
  value: integer(1).describe("The processes, or the percent, the period allows."),
  periodSeconds: integer(1, MAX_PERIOD_SECONDS).describe(
    "The period the limit covers: the scales within it count against it (1 to 1800, as in HPA).",
  ),
});
export type ScalingPolicy = z.infer<typeof scalingPolicySchema>;

const selectPolicySchema = z
  .enum(["Max", "Min", "Disabled"])
  .describe(
    "Max: the policy that allows the biggest change; Min: the smallest; Disabled: no scaling this way.",
  );

function rulesSchema(direction: "up" | "down", defaultWindow: number) {
  const pick = direction === "up" ? "lowest" : "highest";
  return z.strictObject({
    stabilizationWindowSeconds: nonNegative("seconds")
      .max(MAX_STABILIZATION_SECONDS, { error: `expected seconds <= ${MAX_STABILIZATION_SECONDS}` })
      .optional()
      .describe(
        `Scale ${direction} only to the ${pick} recommendation within this many seconds (default ${defaultWindow}).`,
      ),
    selectPolicy: selectPolicySchema.optional().describe("Which policy applies (default Max)."),
    policies: z
      .array(scalingPolicySchema)
      .min(1, { error: "expected at least one policy (leave policies out for no limit)" })
      .optional()
      .describe(`Rate limits on scaling ${direction}; none: no limit.`),
  });
}

export const DEFAULT_SCALE_DOWN_WINDOW_SECONDS = 300;

export const behaviorSchema = z.strictObject({
  scaleUp: rulesSchema("up", 0).optional().describe("Scaling up: HPA's behavior.scaleUp."),
  scaleDown: rulesSchema("down", DEFAULT_SCALE_DOWN_WINDOW_SECONDS)
    .optional()
    .describe("Scaling down: HPA's behavior.scaleDown."),
});

/** One direction's rules in force: the window in milliseconds, the selection and the policies. */
export interface ScalingRules {
  windowMs: number;
  select: "Max" | "Min" | "Disabled";
  /** Empty: no limit. */
  policies: readonly ScalingPolicy[];
}

export interface Behavior {
  up: ScalingRules;
  down: ScalingRules;
}

/** The longest period any policy counts scales over, in milliseconds (0 with none). */
export function longestPeriodMs(behavior: Behavior): number {
  let longest = 0;
  for (const policy of behavior.up.policies) longest = Math.max(longest, policy.periodSeconds);
  for (const policy of behavior.down.policies) longest = Math.max(longest, policy.periodSeconds);
  return longest * 1000;
}

/**
 * The recommendation stabilized, as HPA's stabilizeRecommendationWithBehaviors: the current count
 * brought within [lowest recommendation in the scale-up window, highest in the scale-down window],
 * `desired` (this tick's) counting in both. An entry exactly a window old has expired.
 */
export function stabilize(
  earlier: readonly Recommendation[],
  desired: number,
  current: number,
  behavior: Behavior,
  nowMs: number,
): { stabilized: number; lowest: number; highest: number } {
  const upCutoff = nowMs - behavior.up.windowMs;
  const downCutoff = nowMs - behavior.down.windowMs;
  let lowest = desired;
  let highest = desired;
  for (const [at, recommendation] of earlier) {
    if (at > upCutoff && recommendation < lowest) lowest = recommendation;
    if (at > downCutoff && recommendation > highest) highest = recommendation;
  }
  return { stabilized: Math.min(Math.max(current, lowest), highest), lowest, highest };
}

/**
 * The recommendations to keep after this tick's: only those a later tick can still need. One in
 * neither window is gone; one with a newer one at least as high is no longer the highest of any
 * scale-down window, and one with a newer one at least as low no longer the lowest of any
 * scale-up window, so it goes when both hold. With the default windows (0 up, 300 s down) what
 * is left is a falling staircase of at most window ÷ tick entries, usually one or two.
 */
export function keepRecommendations(
  earlier: readonly Recommendation[],
  desired: number,
  behavior: Behavior,
  nowMs: number,
): Recommendation[] {
  const upCutoff = nowMs - behavior.up.windowMs;
  const downCutoff = nowMs - behavior.down.windowMs;
  const kept: Recommendation[] = [[nowMs, desired]];
  let newerHighest = desired;
  let newerLowest = desired;
  for (let i = earlier.length - 1; i >= 0; i--) {
    const entry = earlier[i]!;
    const [at, recommendation] = entry;
    const highestOfSome = at > downCutoff && recommendation > newerHighest;
    const lowestOfSome = at > upCutoff && recommendation < newerLowest;
    if (highestOfSome || lowestOfSome) kept.push(entry);
    newerHighest = Math.max(newerHighest, recommendation);
    newerLowest = Math.min(newerLowest, recommendation);
  }
  return kept.reverse();
}

/**
 * The count at the start of a period ending now: the current count less the changes of the scales
 * within it (HPA's currentReplicas − replicasAdded + replicasDeleted). A scale exactly a period
 * old is outside it.
 */
function periodStart(
  current: number,
  scales: readonly ScaleRecord[],
  periodSeconds: number,
  nowMs: number,
): number {
  const cutoff = nowMs - periodSeconds * 1000;
  let start = current;
  for (const scale of scales) if (scale.at > cutoff) start -= scale.to - scale.from;
  return start;
}

/**
 * The count a direction's rules allow now, from the count each policy's period started at:
 * up, the most (HPA's calculateScaleUpLimitWithScalingRules), never below `current`, Infinity
 * without policies; down, the fewest (calculateScaleDownLimitWithBehaviors), never above
 * `current`, -Infinity without policies. `Max` selects the policy that allows the larger change,
 * `Min` the smaller, `Disabled` none.
 */
export function policyLimit(
  direction: "up" | "down",
  rules: ScalingRules,
  current: number,
  scales: readonly ScaleRecord[],
  nowMs: number,
): number {
  const up = direction === "up";
  if (rules.select === "Disabled") return current;
  if (rules.policies.length === 0) return up ? Infinity : -Infinity;
  // The larger count is the larger change up, and the smaller change down.
  const larger = (rules.select === "Max") === up;
  let limit = larger ? -Infinity : Infinity;
  for (const policy of rules.policies) {
    const start = periodStart(current, scales, policy.periodSeconds, nowMs);
    const share = policy.value / 100;
    // As in HPA: up, rounded up (a small percentage of a small count must still allow one more);
    // down, truncated (its int32 conversion: a percentage removes whole processes only).
    const proposed = up
      ? policy.type === "Pods"
        ? start + policy.value
        : Math.ceil(start * (1 + share))
      : policy.type === "Pods"
        ? start - policy.value
        : Math.trunc(start * (1 - share));
    limit = larger ? Math.max(limit, proposed) : Math.min(limit, proposed);
  }
  return up ? Math.max(limit, current) : Math.min(limit, current);
}

/** The rules in words, for a reason: "the scale-down policy (2 processes per 60 s)". */
export function describePolicies(direction: "up" | "down", rules: ScalingRules): string {
  const each = rules.policies.map(
    (p) =>
      `${p.value}${p.type === "Percent" ? "%" : p.value === 1 ? " process" : " processes"} per ${p.periodSeconds} s`,
  );
  const joined =
    each.length > 1
      ? `${rules.select === "Min" ? "the least of" : "the most of"} ${each.join(", ")}`
      : each[0];
  return `the scale-${direction} policy (${joined})`;
}

/** Why the rules allow no scale in `direction` now, for a reason. */
export function describeBlocked(direction: "up" | "down", rules: ScalingRules): string {
  if (rules.select === "Disabled") return `scaling ${direction} is disabled (selectPolicy Disabled)`;
  return `${describePolicies(direction, rules)} allows no ${direction === "up" ? "more" : "fewer"} now`;
}
