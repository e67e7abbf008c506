// The scale stage's public face: what the engine, the config and the tools may use.
export {
  createScaler,
  formationOf,
  scalingAdvice,
  scalingBudgetMs,
  scalingSchema,
  scalingSecretEnv,
  type ScalingConfig,
} from "./registry.js";
export { ScaleError, type ScaleErrorKind, type Scaler } from "./types.js";
