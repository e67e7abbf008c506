import { backendRegistry, type AnySchema } from "../kit/registry.js";
import { averageThreshold } from "./average-threshold.js";
import { consecutiveThreshold } from "./consecutive-threshold.js";
import { targetTracking } from "./target-tracking.js";
import type { Decision, DecisionBackend, DecisionInput } from "./types.js";

/** Every decision backend: a new one is a file exporting its descriptor, and a line here. */
const decisions = backendRegistry([consecutiveThreshold, averageThreshold, targetTracking]);

export const decisionSchema = decisions.schema;
export type DecisionConfig = typeof decisionSchema._output;

// The discriminated union guarantees a config matches the descriptor its `backend` names.
const of = (config: DecisionConfig): DecisionBackend<AnySchema> => decisions.of(config);

export const decide = (input: DecisionInput<DecisionConfig>): Decision => of(input.config).decide(input);
