import { backendRegistry, type AnySchema } from "../kit/registry.js";
import { averageThreshold } from "./average-threshold.js";
import { consecutiveThreshold } from "./consecutive-threshold.js";
import { targetTracking } from "./target-tracking.js";
import type { DecisionState } from "./decision-state.js";
import type { Band, Decision, DecisionBackend, DecisionInput } from "./types.js";
import { guardWorkers } from "./workers.js";

/** Every decision backend: a new one is a file exporting its descriptor, and a line here. */
const decisions = backendRegistry([consecutiveThreshold, averageThreshold, targetTracking]);

export const decisionSchema = decisions.schema;
export type DecisionConfig = typeof decisionSchema._output;

// The discriminated union guarantees a config matches the descriptor its `backend` names.
const of = (config: DecisionConfig): DecisionBackend<AnySchema> => decisions.of(config);

/**
 * The decision for a process. Backends return the state they were given with their changes (they
 * spread it), so whatever else the caller keeps in it comes back too: the engine's record, for
 * one (test/decide/keeps-state.test.ts checks every backend). Then what workers need
 * (./workers.ts): no scale-down while jobs are in progress, and scaling to zero and back.
 */
export const decide = <State extends DecisionState>(
  input: DecisionInput<DecisionConfig> & { state: State },
): Decision & { state: State } =>
  guardWorkers(input, of(input.config).decide(input) as Decision & { state: State });

/** The band of readings the policy holds within, as the dashboard shades it. */
export const decisionBand = (config: DecisionConfig): Band => of(config).band(config);

/** How far back the policy reads the process's scale records (0: not at all). */
export const decisionScaleRecordsMs = (config: DecisionConfig): number =>
  of(config).scaleRecordsMs?.(config) ?? 0;
