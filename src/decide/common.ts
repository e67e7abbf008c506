import type { DateTime } from "luxon";
import type { z } from "zod";
import { integer, nonNegative } from "../config/fields.js";
import { boundSchema, changePoints, resolveBound } from "./bounds.js";
import type { Decision, DecisionCondition } from "./types.js";
import type { ProcessState } from "./state.js";

/** Settings every decision backend shares; defaults are the seed's (autoscalebot 0.3 docs). */
export const commonDecisionFields = {
  minProcesses: boundSchema.default(1),
  maxProcesses: boundSchema.default(3),
  increment: integer(1).default(1),
  postScaleWaitSeconds: nonNegative("seconds").default(5),
  historyLength: integer(1, 1000).default(10),
};

interface CommonDecisionConfig {
  minProcesses: z.infer<typeof boundSchema>;
  maxProcesses: z.infer<typeof boundSchema>;
  increment: number;
  postScaleWaitSeconds: number;
  historyLength: number;
}

/** Schema check shared by all backends: min <= max at every time of day either bound changes. */
export function checkBoundsOrder(config: CommonDecisionConfig, ctx: z.RefinementCtx): void {
  // Bounds that failed their own checks are reported there; comparing them would only add noise.
  if (
    !boundSchema.safeParse(config.minProcesses).success ||
    !boundSchema.safeParse(config.maxProcesses).success
  )
    return;
  if (typeof config.maxProcesses === "number" && config.maxProcesses < 1) {
    ctx.addIssue({ code: "custom", path: ["maxProcesses"], message: "expected integer >= 1" });
    return;
  }
  for (const minute of changePoints(config.minProcesses, config.maxProcesses)) {
    const min = boundAtMinute(config.minProcesses, minute);
    const max = boundAtMinute(config.maxProcesses, minute);
    if (min > max) {
      const at = `${Math.floor(minute / 60)}:${String(minute % 60).padStart(2, "0")}`;
      ctx.addIssue({
        code: "custom",
        path: ["minProcesses"],
        message: `minProcesses (${min}) is above maxProcesses (${max}) from ${at}`,
      });
      return;
    }
  }
}

function boundAtMinute(bound: z.infer<typeof boundSchema>, minute: number): number {
  return resolveBound(bound, { hour: Math.floor(minute / 60), minute: minute % 60 });
}

export function boundsAt(config: CommonDecisionConfig, now: DateTime): { min: number; max: number } {
  return { min: resolveBound(config.minProcesses, now), max: resolveBound(config.maxProcesses, now) };
}

/** Milliseconds left of the cool-down after the last scale (0 when none is running). */
export function cooldownRemainingMs(
  config: CommonDecisionConfig,
  state: ProcessState,
  now: DateTime,
): number {
  if (state.lastScaleAt === null) return 0;
  return Math.max(0, state.lastScaleAt + config.postScaleWaitSeconds * 1000 - now.toMillis());
}

/**
 * The parts of a decision every backend takes the same way: the bounds in force, and a
 * correction when the platform runs outside them (a bound changed with the time of day, or
 * someone scaled by hand) — that correction wins over any measurement.
 */
export function outsideBounds(
  current: number,
  bounds: { min: number; max: number },
  state: ProcessState,
): Decision | null {
  if (current < bounds.min) {
    return decision("up", bounds.min, `${current} is below the minimum of ${bounds.min}`, bounds, state);
  }
  if (current > bounds.max) {
    return decision("down", bounds.max, `${current} is above the maximum of ${bounds.max}`, bounds, state);
  }
  return null;
}

/** A step of `increment` in `direction`, held at the bounds (reported as a condition when it is). */
export function step(
  direction: "up" | "down",
  current: number,
  increment: number,
  bounds: { min: number; max: number },
  why: string,
  state: ProcessState,
): Decision {
  if (direction === "up") {
    if (current >= bounds.max) {
      return decision("hold", current, `${why}, but already at the maximum of ${bounds.max}`, bounds, state, [
        "above-max",
      ]);
    }
    return decision("up", Math.min(current + increment, bounds.max), why, bounds, state);
  }
  if (current <= bounds.min) {
    return decision("hold", current, `${why}, but already at the minimum of ${bounds.min}`, bounds, state, [
      "below-min",
    ]);
  }
  return decision("down", Math.max(current - increment, bounds.min), why, bounds, state);
}

export function decision(
  action: Decision["action"],
  target: number,
  reason: string,
  bounds: { min: number; max: number },
  state: ProcessState,
  conditions: DecisionCondition[] = [],
): Decision {
  return { action, target, reason, bounds, state, conditions };
}
