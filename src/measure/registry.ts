import { z } from "zod";
import { AppJsonMeasurement, appJsonSchema } from "./app-json.js";
import { QueueTimeMeasurement, queueTimeSchema } from "./queue-time.js";
import { ResponseTimeMeasurement, responseTimeSchema } from "./response-time.js";
import { ServiceTimeMeasurement, serviceTimeSchema } from "./service-time.js";
import type { Measurement } from "./types.js";

/** Every measurement backend by its `backend` name: one schema entry and one factory entry each. */
export const measurementSchema = z.discriminatedUnion("backend", [
  responseTimeSchema,
  serviceTimeSchema,
  queueTimeSchema,
  appJsonSchema,
]);
export type MeasurementConfig = z.infer<typeof measurementSchema>;

export function createMeasurement(config: MeasurementConfig): Measurement {
  switch (config.backend) {
    case "response-time":
      return new ResponseTimeMeasurement(config);
    case "service-time":
      return new ServiceTimeMeasurement(config);
    case "queue-time":
      return new QueueTimeMeasurement(config);
    case "app-json":
      return new AppJsonMeasurement(config);
  }
}
