import { z } from "zod";
import { ResponseTimeMeasurement, responseTimeSchema } from "./response-time.js";
import type { Measurement } from "./types.js";

/** Every measurement backend by its `backend` name: one schema entry and one factory entry each. */
export const measurementSchema = z.discriminatedUnion("backend", [responseTimeSchema]);
export type MeasurementConfig = z.infer<typeof measurementSchema>;

export function createMeasurement(config: MeasurementConfig): Measurement {
  switch (config.backend) {
    case "response-time":
      return new ResponseTimeMeasurement(config);
  }
}
