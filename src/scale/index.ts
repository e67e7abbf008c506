// The scale stage's public face: what the engine, the config and the tools may use.
export {
  createScaler,
  formationOf,
  scalingAdvice,
  scalingBudgetMs,
  scalingSchema,
  scalingSecretEnv,
} from "./registry.js";
export { ScaleError, type Scaler } from "./types.js";
export { ScalingSession, type ScaleAnswer } from "./session.js";
