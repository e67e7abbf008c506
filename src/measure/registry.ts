import { backendRegistry, type AnySchema } from "../kit/registry.js";
import { appJson } from "./app-json.js";
import { bullmqQueue } from "./bullmq-queue.js";
import { celeryQueue } from "./celery-queue.js";
import { queueTime } from "./queue-time.js";
import { requestMetrics } from "./request-metrics.js";
import { responseTime } from "./response-time.js";
import { serviceTime } from "./service-time.js";
import { sidekiqQueue } from "./sidekiq-queue.js";
import { checked } from "./sane.js";
import type { Measurement, MeasurementBackend, MeasurementContext } from "./types.js";

/** Every measurement backend: a new one is a file exporting its descriptor, and a line here. */
const measurements = backendRegistry([
  responseTime,
  serviceTime,
  queueTime,
  requestMetrics,
  appJson,
  celeryQueue,
  sidekiqQueue,
  bullmqQueue,
]);

export const measurementSchema = measurements.schema;
export type MeasurementConfig = typeof measurementSchema._output;

// The discriminated union guarantees a config matches the descriptor its `backend` names.
const of = (config: MeasurementConfig): MeasurementBackend<AnySchema> => measurements.of(config);

/** Every backend's readings are checked at the edge (./sane.ts), whatever the backend. */
export const createMeasurement = (config: MeasurementConfig, context: MeasurementContext): Measurement =>
  checked(of(config).create(config, context));
export const measurementBudgetMs = (config: MeasurementConfig): number => of(config).budgetMs(config);
/** Whether the measurement reads as well with none of the process running (see MeasurementBackend). */
export const readsAtZero = (config: MeasurementConfig): boolean => of(config).readsAtZero === true;
