import type { z } from "zod";
import type { BackendDescriptor } from "../kit/registry.js";
import type { Reading } from "../measure/index.js";
import type { DecisionState } from "./decision-state.js";
import type { Moment } from "./moment.js";

export type { Moment };

export type Action = "up" | "down" | "hold";

/** Conditions a decision reports; the tick turns them into notification events. */
export type DecisionCondition = "above-max" | "below-min" | "fail-safe" | "scale-down-held-busy";

export interface DecisionInput<Config> {
  config: Config;
  state: DecisionState;
  reading: Reading;
  /** The quantity the platform runs now. */
  current: number;
  /** The tick's time, in the configured time zone (bounds are wall-clock rules). */
  now: Moment;
}

export interface Decision {
  action: Action;
  target: number;
  reason: string;
  conditions: readonly DecisionCondition[];
  /** The bounds in force at `now`. */
  bounds: { min: number; max: number };
  /** The state to keep if no scale happens (or the scale fails): the reading is recorded. */
  state: DecisionState;
}

/** A decision backend is a pure function: no I/O, no clock but `now`. */
export type Decide<Config> = (input: DecisionInput<Config>) => Decision;

/**
 * The readings a policy is content with, for the dashboard's band: between `low` and `high` it
 * holds. `perProcess`: the values are per process and the reading is a total (a queue depth), so
 * the band a chart draws is these times the count.
 */
export interface Band {
  low: number;
  high: number;
  target?: number;
  perProcess?: boolean;
}

/** A decision backend: its settings, its rule and its band (listed in ./registry.ts). */
export interface DecisionBackend<Schema extends BackendDescriptor["schema"]> {
  readonly schema: Schema;
  readonly decide: Decide<z.infer<Schema>>;
  readonly band: (config: z.infer<Schema>) => Band;
  /**
   * How far back the rule reads `state.scales`, in milliseconds (absent: not at all; cool-downs
   * read `lastScaleAt`). Older records are dropped, so the stored state stays small.
   */
  readonly scaleRecordsMs?: (config: z.infer<Schema>) => number;
}
