import { z } from "zod";
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
import type { Verdict } from "./decision-state.js";
import type { Decide, DecisionBackend } from "./types.js";
import { plural } from "../kit/plural.js";

/**
 * The seeds' ConsecutiveThresholdBackend: a reading above maxMeasurement (or a failed one: a
 * timeout or an error status is the slowest answer there is) is a fail, one below
 * minMeasurement a pass; N fails in a row scale up, M passes in a row scale down.
 */
export const consecutiveThresholdSchema = z
  .strictObject({
    backend: z
      .literal("consecutive-threshold")
      .describe(
        "Streaks: a reading above maxMeasurement (or a failed heartbeat) is a fail, one below minMeasurement a pass; enough in a row scale by increment.",
      ),
    minMeasurement: nonNegative()
      .default(400)
      .describe("A reading below this is a pass, in the measurement's unit (ms for a heartbeat)."),
    maxMeasurement: nonNegative()
      .default(1200)
      .describe("A reading above this is a fail, in the measurement's unit (ms for a heartbeat)."),
    failsToScaleUp: integer(1, 1000).default(3).describe("Fails in a row before scaling up by increment."),
    passesToScaleDown: integer(1, 1000)
      .default(5)
      .describe("Passes in a row before scaling down by increment."),
    ...commonDecisionFields,
  })
  .superRefine((config, ctx) => {
    checkBoundsOrder(config, ctx);
    checkThresholdsOrder(config, ctx);
    const needed = Math.max(config.failsToScaleUp, config.passesToScaleDown);
    if (config.historyLength < needed) {
      ctx.addIssue({
        code: "custom",
        path: ["historyLength"],
        message: `expected historyLength >= ${needed} (failsToScaleUp and passesToScaleDown look back that far)`,
      });
    }
  });
export type ConsecutiveThresholdConfig = z.infer<typeof consecutiveThresholdSchema>;

export function verdictOf(
  reading: Reading,
  config: { minMeasurement: number; maxMeasurement: number },
): Verdict {
  if (!reading.ok || reading.value === null || reading.value > config.maxMeasurement) return "fail";
  if (reading.value < config.minMeasurement) return "pass";
  return "ok";
}

/** How many of the newest history entries have this verdict, without a break. */
export function streak(history: readonly { verdict?: Verdict | undefined }[], verdict: Verdict): number {
  let count = 0;
  for (let i = history.length - 1; i >= 0 && history[i]!.verdict === verdict; i--) count++;
  return count;
}

export const decideConsecutiveThreshold: Decide<ConsecutiveThresholdConfig> = (input) => {
  const { config, reading, current } = input;
  const { decision: settled, bounds, record } = preludeAndSettling(input);
  if (settled) return settled;

  const verdict = verdictOf(reading, config);
  const next = record({ value: reading.value, verdict });
  const fails = streak(next.history, "fail");
  const passes = streak(next.history, "pass");

  if (fails >= config.failsToScaleUp) {
    return step(
      "up",
      input,
      bounds,
      `${plural(fails, "fail")} in a row (> ${config.maxMeasurement} or failed)`,
      next,
    );
  }
  if (passes >= config.passesToScaleDown) {
    return step(
      "down",
      input,
      bounds,
      `${plural(passes, "pass", "passes")} in a row (< ${config.minMeasurement})`,
      next,
    );
  }
  const progress =
    verdict === "fail"
      ? `${fails} of ${config.failsToScaleUp} fails to scale up`
      : verdict === "pass"
        ? `${passes} of ${config.passesToScaleDown} passes to scale down`
        : `within ${config.minMeasurement}-${config.maxMeasurement}`;
  return decision("hold", current, progress, bounds, next);
};

/** The `consecutive-threshold` backend's descriptor, listed in ./registry.ts. */
export const consecutiveThreshold: DecisionBackend<typeof consecutiveThresholdSchema> = {
  schema: consecutiveThresholdSchema,
  decide: decideConsecutiveThreshold,
  band: (config) => ({ low: config.minMeasurement, high: config.maxMeasurement }),
};
