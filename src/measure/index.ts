// The measure stage's public face: what the engine, the config and the tools may use.
export { createMeasurement, readsAtZero, measurementBudgetMs, measurementSchema } from "./registry.js";
export type { Reading, Unit } from "./types.js";
export {
  failedSample,
  requestMetricsReading,
  type MetricSetting,
  type ProcessSample,
} from "./process-metrics.js";
