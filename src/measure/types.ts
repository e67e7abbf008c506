import type { z } from "zod";
import type { Clock } from "../kit/clock.js";
import type { Env } from "../kit/env.js";
import type { BackendDescriptor } from "../kit/registry.js";

/** "percent": 0 to 100; "rpm": requests per minute. */
export type Unit = "ms" | "jobs" | "count" | "percent" | "rpm";

/** One measurement. A failed measurement is a Reading with ok=false, never an exception. */
export interface Reading {
  backend: string;
  value: number | null;
  unit: Unit;
  ok: boolean;
  error?: string;
  /**
   * What a failed reading says about load. A heartbeat that times out or answers 5xx is the
   * strongest sign of overload ("overload", the default); an unreachable queue broker says
   * nothing about the queue ("unknown"), so decisions hold, as KEDA's fallback does.
   */
  failureMeans?: "overload" | "unknown";
  /**
   * Jobs in progress (queue backends): read with the waiting ones, in the same round trip. A
   * worker's scale-down is held while it is above 0 and `holdScaleDownWhileBusy` is true.
   */
  busy?: number;
  /** The queue measurement's setting of that name; set whenever `busy` is. */
  holdScaleDownWhileBusy?: boolean;
  /** A process count the app itself asks for (app-json backend). */
  desired?: number;
  /**
   * Several figures of one measurement, by name (request-metrics backend): `utilisation`
   * (percent), `requestsPerProcess` (rpm) and `queueTimeP95Ms` (ms), each null when it could not
   * be read; `value` is the one the measurement's `metric` names. See ./process-metrics.ts.
   */
  metrics?: Record<string, number | null>;
  /** How many distinct processes the reading's samples reached (request-metrics backend). */
  processesSeen?: number;
}

export interface Measurement {
  measure(signal: AbortSignal): Promise<Reading>;
}

/** What a backend may need besides its settings: secrets from the environment, the engine's clock. */
export interface MeasurementContext {
  env: Env;
  clock: Clock;
}

/** A measurement backend: its settings and how to build it (listed in ./registry.ts). */
export interface MeasurementBackend<Schema extends BackendDescriptor["schema"]> {
  readonly schema: Schema;
  create(config: z.infer<Schema>, context: MeasurementContext): Measurement;
  /** The longest one measurement may take (its timeouts and sampling window), for the tick's budget. */
  budgetMs(config: z.infer<Schema>): number;
  /**
   * It reads as well with none of the process running (a job queue, or the app's own answer from
   * another process): then minProcesses may be 0 without allowZero.
   */
  readonly readsAtZero?: true;
}
