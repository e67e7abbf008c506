/** Inputs for the decision backends' tests: the moment, readings, and ticks that carry the state on. */
import { DateTime } from "luxon";
import { emptyDecisionState, recordScale, type DecisionState } from "../../src/decide/decision-state.js";
import type { Decide, Decision } from "../../src/decide/types.js";
import type { Reading } from "../../src/measure/types.js";

export const ZONE = "America/Vancouver";
/** A plain winter day, far from any DST change. */
export const T0 = DateTime.fromISO("2026-01-15T12:00:00", { zone: ZONE });
export const MINUTE_MS = 60 * 1000;
export const HOUR_MS = 60 * MINUTE_MS;

/** A heartbeat that failed: a timeout or a 5xx means overload (the default). */
export const failed = (value: number | null = null): Reading => ({
  backend: "response-time",
  value,
  unit: "ms",
  ok: false,
  error: "heartbeat answered HTTP 503",
});

/** A broker that could not be reached: the failure means "unknown". */
export const unreachable: Reading = {
  backend: "queue",
  value: null,
  unit: "jobs",
  ok: false,
  error: "broker unreachable",
  failureMeans: "unknown",
};

/** The state right after a scale from `from` to `to` at `at` (T0 by default): its cool-down starts then. */
export const afterScale = (
  from: number,
  to: number,
  at: DateTime = T0,
  state: DecisionState = emptyDecisionState(),
): DecisionState => recordScale(state, { at: at.toMillis(), from, to });

export interface OnceOptions {
  current?: number;
  state?: DecisionState;
  now?: DateTime;
}

export interface RunOptions {
  current?: number;
  state?: DecisionState;
  start?: DateTime;
  intervalSeconds?: number;
}

/**
 * `once` decides one tick; `run` ticks every `intervalSeconds`, carrying each decision's state
 * into the next tick (no scale is applied: the platform stays at `current`, as if every scale
 * failed or none was asked for). The defaults are the backend's test's own.
 */
export function ticks<Config>(
  decide: Decide<Config>,
  defaults: { current: number; intervalSeconds: number },
) {
  const once = (
    config: Config,
    reading: Reading,
    { current = defaults.current, state = emptyDecisionState(), now = T0 }: OnceOptions = {},
  ): Decision => decide({ config, state, reading, current, now });

  const run = (
    config: Config,
    readings: Reading[],
    {
      current = defaults.current,
      state = emptyDecisionState(),
      start = T0,
      intervalSeconds = defaults.intervalSeconds,
    }: RunOptions = {},
  ): Decision[] => {
    const decisions: Decision[] = [];
    let carried = state;
    readings.forEach((reading, i) => {
      const d = once(config, reading, {
        current,
        state: carried,
        now: start.plus({ seconds: i * intervalSeconds }),
      });
      decisions.push(d);
      carried = d.state;
    });
    return decisions;
  };

  return { once, run };
}

/**
 * A platform that follows the decisions from `current` at T0, a tick every `intervalSeconds`:
 * each scale is applied (recordScale) and `log` tells what each tick did (`up:2`, `hold`, or
 * the hold's first condition).
 */
export function followDecisions<Config>(
  decide: Decide<Config>,
  config: Config,
  { current, intervalSeconds }: { current: number; intervalSeconds: number },
) {
  const platform = {
    current,
    state: emptyDecisionState(),
    now: T0,
    log: [] as string[],
    tick(reading: Reading): void {
      const { state, now } = platform;
      const d = decide({ config, state, reading, current: platform.current, now });
      platform.log.push(d.action === "hold" ? (d.conditions[0] ?? "hold") : `${d.action}:${d.target}`);
      if (d.action === "hold") platform.state = d.state;
      else {
        platform.state = recordScale(d.state, { at: now.toMillis(), from: platform.current, to: d.target });
        platform.current = d.target;
      }
      platform.now = now.plus({ seconds: intervalSeconds });
    },
  };
  return platform;
}

export const actions = (decisions: Decision[]) => decisions.map((d) => d.action);
export const repeat = <T>(item: T, n: number): T[] => Array.from({ length: n }, () => item);
export const last = <T>(items: T[]): T => {
  const item = items[items.length - 1];
  if (item === undefined) throw new Error("empty");
  return item;
};
