// The measure stage's public face: what the engine, the config and the tools may use.
export {
  createMeasurement,
  measurementBudgetMs,
  measurementSchema,
  type MeasurementConfig,
} from "./registry.js";
export type { Measurement, MeasurementContext, Reading, Unit } from "./types.js";
