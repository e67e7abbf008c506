import { z } from "zod";
import { averageThresholdSchema, decideAverageThreshold } from "./average-threshold.js";
import { consecutiveThresholdSchema, decideConsecutiveThreshold } from "./consecutive-threshold.js";
import { decideTargetTracking, targetTrackingSchema } from "./target-tracking.js";
import type { Decision, DecisionInput } from "./types.js";

/** Every decision backend by its `backend` name: one schema entry and one dispatch entry each. */
export const decisionSchema = z.discriminatedUnion("backend", [
  consecutiveThresholdSchema,
  averageThresholdSchema,
  targetTrackingSchema,
]);
export type DecisionConfig = z.infer<typeof decisionSchema>;

export function decide(input: DecisionInput<DecisionConfig>): Decision {
  const { config } = input;
  switch (config.backend) {
    case "consecutive-threshold":
      return decideConsecutiveThreshold({ ...input, config });
    case "average-threshold":
      return decideAverageThreshold({ ...input, config });
    case "target-tracking":
      return decideTargetTracking({ ...input, config });
  }
}
