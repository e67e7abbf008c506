import { z } from "zod";
import { consecutiveThresholdSchema, decideConsecutiveThreshold } from "./consecutive-threshold.js";
import type { Decision, DecisionInput } from "./types.js";

/** Every decision backend by its `backend` name: one schema entry and one dispatch entry each. */
export const decisionSchema = z.discriminatedUnion("backend", [consecutiveThresholdSchema]);
export type DecisionConfig = z.infer<typeof decisionSchema>;

export function decide(input: DecisionInput<DecisionConfig>): Decision {
  switch (input.config.backend) {
    case "consecutive-threshold":
      return decideConsecutiveThreshold({ ...input, config: input.config });
  }
}
