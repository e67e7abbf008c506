import { z } from "zod";
import { nonNegative, integer } from "../kit/fields.js";
import type { Reading } from "../measure/index.js";
import { boundSchema, changePoints, describeWallClock, resolveBound, type Bound } from "./bounds.js";
import { failSafeReason, failSafeSchema, type FailSafe } from "./fail-safe.js";
import { prewarmSchema, type Prewarm } from "./prewarm-profile.js";
import { scheduleAt, scheduleSchema, type Schedule, type ScheduleEntry } from "./schedule.js";
import type { HistoryEntry, DecisionState } from "./decision-state.js";
import type { Decision, DecisionCondition, DecisionInput, Moment } from "./types.js";

/** Settings every decision backend shares; defaults are the seed's (autoscalebot 0.3 docs). */
export const commonDecisionFields = {
  minProcesses: boundSchema
    .default(1)
    .describe("Never fewer processes: an integer, a time-of-day map or a list of rules, read in timezone."),
  maxProcesses: boundSchema
    .default(3)
    .describe(
      "Never more processes: likewise (a fixed maximum is at least 1); min <= max is checked at every change.",
    ),
  increment: integer(1)
    .default(1)
    .describe("Processes added or removed by one step of the threshold backends."),
  // The seed's single cool-down.
  postScaleWaitSeconds: nonNegative("seconds")
    .default(5)
    .describe("Seconds after a scale before the next one; sets both cool-downs below unless they are given."),
  scaleUpCooldownSeconds: nonNegative("seconds")
    .optional()
    .describe("Seconds after a scale with no scale up (default: postScaleWaitSeconds)."),
  scaleDownCooldownSeconds: nonNegative("seconds")
    .optional()
    .describe("Seconds after a scale with no scale down (default: postScaleWaitSeconds)."),
  historyLength: integer(1, 1000).default(10).describe("Readings kept per process in the stored state."),
  idleMinutesBeforeZero: integer(0, 1440)
    .default(10)
    .describe(
      "With a minimum of 0: scale the last process away only after the queue and its jobs in progress read 0 for this many minutes.",
    ),
  allowZero: z
    .boolean()
    .default(false)
    .describe(
      "Let minProcesses reach 0 for a measurement that is not a job queue (a web process then answers nothing until a reading wakes it).",
    ),
  schedule: scheduleSchema
    .optional()
    .describe(
      "Cron entries that set a floor or an exact count from when they fire until the next one fires.",
    ),
  failSafe: failSafeSchema
    .optional()
    .describe(
      'Scale straight out when the app is down or too slow; off unless present ("failSafe": {} takes the defaults).',
    ),
  prewarm: prewarmSchema
    .optional()
    .describe(
      'Predictive pre-warming: raise the floor ahead of a rise that recurs at the same hour of the week or day, learned from the counts this process ended each hour at; off unless present ("prewarm": {} takes the defaults).',
    ),
};

export interface CommonDecisionConfig {
  minProcesses: Bound;
  maxProcesses: Bound;
  increment: number;
  postScaleWaitSeconds: number;
  scaleUpCooldownSeconds?: number | undefined;
  scaleDownCooldownSeconds?: number | undefined;
  historyLength: number;
  idleMinutesBeforeZero: number;
  allowZero: boolean;
  schedule?: Schedule | undefined;
  failSafe?: FailSafe | undefined;
  prewarm?: Prewarm | undefined;
}

export interface Bounds {
  min: number;
  max: number;
}

/** Schema check shared by all backends: min <= max at every moment of the week either bound changes. */
export function checkBoundsOrder(config: CommonDecisionConfig, ctx: z.RefinementCtx): void {
  // Bounds that failed their own checks are reported there; comparing them would only add noise.
  if (
    !boundSchema.safeParse(config.minProcesses).success ||
    !boundSchema.safeParse(config.maxProcesses).success
  )
    return;
  if (typeof config.maxProcesses === "number" && config.maxProcesses < 1) {
    ctx.addIssue({ code: "custom", path: ["maxProcesses"], message: "expected integer >= 1" });
    return;
  }
  for (const at of changePoints(config.minProcesses, config.maxProcesses)) {
    const min = resolveBound(config.minProcesses, at);
    const max = resolveBound(config.maxProcesses, at);
    if (min > max) {
      // Only rule lists vary by weekday; for the rest the time of day says it all.
      const byDay = Array.isArray(config.minProcesses) || Array.isArray(config.maxProcesses);
      const when = byDay ? describeWallClock(at) : describeWallClock(at).slice(4);
      ctx.addIssue({
        code: "custom",
        path: ["minProcesses"],
        message: `minProcesses (${min}) is above maxProcesses (${max}) from ${when}`,
      });
      return;
    }
  }
}

/** Schema check shared by the threshold backends: minMeasurement below maxMeasurement. */
export function checkThresholdsOrder(
  config: { minMeasurement: number; maxMeasurement: number },
  ctx: z.RefinementCtx,
): void {
  if (config.minMeasurement >= config.maxMeasurement) {
    ctx.addIssue({
      code: "custom",
      path: ["minMeasurement"],
      message: "expected minMeasurement < maxMeasurement",
    });
  }
}

/** The bounds in force at `now`: min/max rules, then the schedule's floor or exact count. */
export function boundsAt(
  config: Pick<CommonDecisionConfig, "minProcesses" | "maxProcesses" | "schedule">,
  now: Moment,
): Bounds {
  const min = resolveBound(config.minProcesses, now);
  const max = resolveBound(config.maxProcesses, now);
  return config.schedule ? withSchedule(min, max, scheduleAt(config.schedule, now)) : { min, max };
}

/** The min/max rules' bounds with a schedule entry in force: a floor, or an exact count. */
export function withSchedule(
  min: number,
  max: number,
  entry: Pick<ScheduleEntry, "mode" | "processes">,
): Bounds {
  if (entry.mode === "exact") return { min: entry.processes, max: entry.processes };
  return { min: Math.min(Math.max(min, entry.processes), max), max };
}

/** Milliseconds left before a scale in `direction` may follow the last scale (0 when free). */
export function cooldownRemainingMs(
  config: CommonDecisionConfig,
  state: DecisionState,
  now: Moment,
  direction: "up" | "down",
): number {
  if (state.lastScaleAt === null) return 0;
  const seconds =
    (direction === "up" ? config.scaleUpCooldownSeconds : config.scaleDownCooldownSeconds) ??
    config.postScaleWaitSeconds;
  return Math.max(0, state.lastScaleAt + seconds * 1000 - now.toMillis());
}

/**
 * While both directions cool down the platform is still settling: readings then say little
 * about the new formation and are not recorded.
 */
export function settlingMs(config: CommonDecisionConfig, state: DecisionState, now: Moment): number {
  return Math.min(
    cooldownRemainingMs(config, state, now, "up"),
    cooldownRemainingMs(config, state, now, "down"),
  );
}

/**
 * What every backend decides the same way, before its own rule: the bounds in force; a
 * correction when the platform runs outside them (a bound changed with the time, or someone
 * scaled by hand); the fail-safe; a count the app asks for itself; a reading that says nothing
 * (an unreachable broker). Returns the decision, or the bounds for the backend to go on with.
 */
export function prelude(
  input: DecisionInput<CommonDecisionConfig>,
): { decision: Decision; bounds?: never } | { decision?: never; bounds: Bounds } {
  const { config, state, reading, current, now } = input;
  const corrected = enforceBounds(config, state, current, now);
  if (corrected.decision) return corrected;
  const { bounds } = corrected;
  const failSafe = failSafeMove(config, reading, bounds);
  if (failSafe) {
    const { target, why } = failSafe;
    if (current >= target)
      return {
        decision: decision("hold", current, `${why}; already at ${current}`, bounds, state, ["fail-safe"]),
      };
    return { decision: decision("up", target, why, bounds, state, ["fail-safe"]) };
  }
  if (!reading.ok && reading.failureMeans === "unknown") {
    return {
      decision: decision(
        "hold",
        current,
        `holding: the measurement failed (${reading.error})`,
        bounds,
        state,
      ),
    };
  }
  if (reading.ok && reading.desired !== undefined) return { decision: honourDesired(input, reading, bounds) };
  return { bounds };
}

/**
 * Where the fail-safe scales for this reading, held within the bounds, and why; null when it is
 * off or does not fire. Also what reaches past a hold the engine imposes (a manual override).
 */
export function failSafeMove(
  config: Pick<CommonDecisionConfig, "failSafe">,
  reading: Reading,
  bounds: Bounds,
): { target: number; why: string } | null {
  const fired = config.failSafe && failSafeReason(config.failSafe, reading);
  if (!config.failSafe || !fired) return null;
  const target = Math.min(Math.max(config.failSafe.processes ?? bounds.max, bounds.min), bounds.max);
  return { target, why: `fail-safe: ${fired}` };
}

/** The state with this tick's reading appended to its history, trimmed by `keep`. */
export type RecordReading = (
  entry: Omit<HistoryEntry, "at">,
  keep?: (history: HistoryEntry[]) => HistoryEntry[],
) => DecisionState;

/**
 * The steps every backend takes before its own rule: the prelude, then a hold while the
 * platform settles after a scale (the reading is not recorded then). Returns that decision, or
 * the bounds for the rule to go on with and `record`, which gives the state with this tick's
 * reading appended to the history: by default the newest `historyLength` entries are kept.
 */
export function preludeAndSettling(
  input: DecisionInput<CommonDecisionConfig>,
):
  | { decision: Decision; bounds?: never; record?: never }
  | { decision?: never; bounds: Bounds; record: RecordReading } {
  const { config, state, current, now } = input;
  const settled = prelude(input);
  if (settled.decision) return settled;
  const { bounds } = settled;
  const waitMs = settlingMs(config, state, now);
  if (waitMs > 0) {
    const why = `cooling down for ${Math.ceil(waitMs / 1000)} s after the last scale`;
    return { decision: decision("hold", current, why, bounds, state) };
  }
  // Runs every tick and every simulated minute: one new array, and the entry built field by field.
  const record: RecordReading = (entry, keep) => {
    const added: HistoryEntry = { at: now.toMillis(), value: entry.value };
    if (entry.verdict !== undefined) added.verdict = entry.verdict;
    if (entry.recommendation !== undefined) added.recommendation = entry.recommendation;
    const { history } = state;
    const kept = keep
      ? history.slice()
      : history.slice(Math.max(0, history.length + 1 - config.historyLength));
    kept.push(added);
    // Object.assign, not a spread: V8 gives a spread copy of a record whose fields were added one
    // by one a hidden class of its own, and a replay's records then reach a score of them, which
    // makes every read of a record a slow lookup. Object.assign's copies share theirs.
    const next = Object.assign({}, state);
    next.history = keep ? keep(kept) : kept;
    return next;
  };
  return { bounds, record };
}

/**
 * The bounds in force, and a move to the nearest one when the platform runs outside them (a
 * bound changed with the time, or someone scaled by hand): needs no reading, so it also runs
 * on the ticks between a process's measurements.
 */
export function enforceBounds(
  config: Pick<CommonDecisionConfig, "minProcesses" | "maxProcesses" | "schedule">,
  state: DecisionState,
  current: number,
  now: Moment,
): { decision: Decision; bounds?: never } | { decision?: never; bounds: Bounds } {
  const bounds = boundsAt(config, now);
  if (current < bounds.min) {
    return {
      decision: decision("up", bounds.min, `${current} is below the minimum of ${bounds.min}`, bounds, state),
    };
  }
  if (current > bounds.max) {
    return {
      decision: decision(
        "down",
        bounds.max,
        `${current} is above the maximum of ${bounds.max}`,
        bounds,
        state,
      ),
    };
  }
  return { bounds };
}

/** The app-json backend's `{ "desired": n }`: the app knows best, within the bounds and cool-downs. */
function honourDesired(
  input: DecisionInput<CommonDecisionConfig>,
  reading: Reading,
  bounds: Bounds,
): Decision {
  const { config, state, current, now } = input;
  const target = Math.min(Math.max(reading.desired!, bounds.min), bounds.max);
  const why = `the app asks for ${reading.desired}`;
  if (target === current) {
    const conditions: DecisionCondition[] =
      reading.desired! > bounds.max ? ["above-max"] : reading.desired! < bounds.min ? ["below-min"] : [];
    return decision("hold", current, why, bounds, state, conditions);
  }
  const direction = target > current ? "up" : "down";
  const waitMs = cooldownRemainingMs(config, state, now, direction);
  if (waitMs > 0) return coolingDown(direction, waitMs, current, bounds, state);
  return decision(direction, target, why, bounds, state);
}

export function coolingDown(
  direction: "up" | "down",
  waitMs: number,
  current: number,
  bounds: Bounds,
  state: DecisionState,
): Decision {
  return decision(
    "hold",
    current,
    `cooling down for ${Math.ceil(waitMs / 1000)} s before scaling ${direction}`,
    bounds,
    state,
  );
}

/**
 * A move towards `target` in `direction`, held at the bounds (reported as a condition when it
 * is) and during that direction's cool-down.
 */
export function moveTo(
  direction: "up" | "down",
  target: number,
  input: { config: CommonDecisionConfig; state: DecisionState; current: number; now: Moment },
  bounds: Bounds,
  why: string,
  state: DecisionState,
): Decision {
  const { current } = input;
  if (direction === "up" && current >= bounds.max) {
    return decision("hold", current, `${why}, but already at the maximum of ${bounds.max}`, bounds, state, [
      "above-max",
    ]);
  }
  if (direction === "down" && current <= bounds.min) {
    return decision("hold", current, `${why}, but already at the minimum of ${bounds.min}`, bounds, state, [
      "below-min",
    ]);
  }
  const waitMs = cooldownRemainingMs(input.config, input.state, input.now, direction);
  if (waitMs > 0) return coolingDown(direction, waitMs, current, bounds, state);
  return decision(direction, Math.min(Math.max(target, bounds.min), bounds.max), why, bounds, state);
}

/** A step of `increment` in `direction` (the threshold backends' move). */
export function step(
  direction: "up" | "down",
  input: { config: CommonDecisionConfig; state: DecisionState; current: number; now: Moment },
  bounds: Bounds,
  why: string,
  state: DecisionState,
): Decision {
  const delta = direction === "up" ? input.config.increment : -input.config.increment;
  return moveTo(direction, input.current + delta, input, bounds, why, state);
}

export function decision(
  action: Decision["action"],
  target: number,
  reason: string,
  bounds: Bounds,
  state: DecisionState,
  conditions: readonly DecisionCondition[] = NO_CONDITIONS,
): Decision {
  return { action, target, reason, bounds, state, conditions };
}

/**
 * Most decisions report no condition: one empty list for them all (a replay decides every
 * minute). Read-only by its type, not frozen: V8 does not compile a `for...of` over a frozen
 * array to a plain loop, and every loop over a decision's conditions that met this one ran the
 * generic iteration from then on.
 */
const NO_CONDITIONS: readonly DecisionCondition[] = [];
