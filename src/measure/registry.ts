import { z } from "zod";
import type { Clock } from "../kit/clock.js";
import { AppJsonMeasurement, appJsonSchema } from "./app-json.js";
import { BullmqQueueMeasurement, bullmqQueueSchema } from "./bullmq-queue.js";
import { CeleryQueueMeasurement, celeryQueueSchema } from "./celery-queue.js";
import { QueueTimeMeasurement, queueTimeSchema } from "./queue-time.js";
import { ResponseTimeMeasurement, responseTimeSchema } from "./response-time.js";
import { ServiceTimeMeasurement, serviceTimeSchema } from "./service-time.js";
import { SidekiqQueueMeasurement, sidekiqQueueSchema } from "./sidekiq-queue.js";
import type { Measurement } from "./types.js";

/** Every measurement backend by its `backend` name: one schema entry and one factory entry each. */
export const measurementSchema = z.discriminatedUnion("backend", [
  responseTimeSchema,
  serviceTimeSchema,
  queueTimeSchema,
  appJsonSchema,
  celeryQueueSchema,
  sidekiqQueueSchema,
  bullmqQueueSchema,
]);
export type MeasurementConfig = z.infer<typeof measurementSchema>;

/** What backends may need besides their settings: secrets from the environment, the engine's clock. */
export interface MeasurementContext {
  env: Record<string, string | undefined>;
  clock: Clock;
}

export function createMeasurement(
  config: MeasurementConfig,
  { env, clock }: MeasurementContext,
): Measurement {
  switch (config.backend) {
    case "response-time":
      return new ResponseTimeMeasurement(config);
    case "service-time":
      return new ServiceTimeMeasurement(config);
    case "queue-time":
      return new QueueTimeMeasurement(config);
    case "app-json":
      return new AppJsonMeasurement(config);
    case "celery-queue":
      return new CeleryQueueMeasurement(config, env);
    case "sidekiq-queue":
      return new SidekiqQueueMeasurement(config, env, clock);
    case "bullmq-queue":
      return new BullmqQueueMeasurement(config, env, clock);
  }
}
