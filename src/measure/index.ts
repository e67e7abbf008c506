// The measure stage's public face: what the engine, the config and the tools may use.
export { createMeasurement, readsAtZero, measurementBudgetMs, measurementSchema } from "./registry.js";
export type { Reading, Unit } from "./types.js";
export {
  PROCESS_METRIC_UNITS,
  failedSample,
  requestMetricsReading,
  seenBefore,
  type MetricSetting,
  type ProcessMetric,
  type ProcessSample,
} from "./process-metrics.js";
