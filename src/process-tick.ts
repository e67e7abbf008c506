import type { DateTime } from "luxon";
import type { Clock } from "./clock.js";
import type { ProcessConfig } from "./config/schema.js";
import { decide } from "./decide/registry.js";
import { recordScale, type ProcessState } from "./decide/state.js";
import type { Decision } from "./decide/types.js";
import { createMeasurement } from "./measure/registry.js";
import type { Reading } from "./measure/types.js";
import { isLasting, trackConditions, type LastingKind } from "./notify/conditions.js";
import { dispatch } from "./notify/dispatch.js";
import { eventFactory, type EventFactory } from "./notify/event-factory.js";
import type { AutoscaleEvent } from "./notify/events.js";
import type { Notifiers } from "./notify/registry.js";
import { tooRapidReason } from "./notify/rules.js";
import type { ProcessReport } from "./report.js";
import { createScaler } from "./scale/registry.js";
import { ScaleError } from "./scale/types.js";

export interface ProcessTickInput {
  name: string;
  config: ProcessConfig;
  state: ProcessState;
  now: DateTime;
  tickId: string;
  dryRun: boolean;
  env: Record<string, string | undefined>;
  clock: Clock;
  notifiers: Notifiers;
  signal: AbortSignal;
  /** Filled in as soon as a scale goes through, so a process cut off by the deadline afterwards keeps it. */
  progress?: ProcessProgress;
}

export interface ProcessProgress {
  state?: ProcessState;
  scaled?: { from: number; to: number };
}

export interface ProcessTickResult {
  report: ProcessReport;
  state: ProcessState;
}

/** What measuring, deciding and scaling came to, before notifying. */
interface Outcome {
  report: ProcessReport;
  state: ProcessState;
  /** One-off events and the lasting conditions found this tick. */
  events: AutoscaleEvent[];
  /** The lasting conditions this tick could see, so only those can be resolved. */
  evaluated: LastingKind[];
}

/** One process's part of a tick: measure and read the formation at once, decide, scale, notify. */
export async function tickProcess(input: ProcessTickInput): Promise<ProcessTickResult> {
  const waitMs = untilNextMeasurement(input.config, input.state, input.now.toMillis());
  if (waitMs > 0) {
    const report: ProcessReport = { ...blankReport(input.name), status: "waiting" };
    report.warnings.push(
      `measured every ${input.config.intervalSeconds} s: next in ${Math.round(waitMs / 1000)} s`,
    );
    return { report, state: input.state };
  }
  const event = eventFactory(input.name, input.tickId, input.now);
  return notify(input, await measureDecideScale(input, event), event);
}

async function measureDecideScale(input: ProcessTickInput, event: EventFactory): Promise<Outcome> {
  const { name, config, now, signal } = input;
  let scaler;
  try {
    scaler = createScaler(config.scaling, name, input.env);
  } catch (caught) {
    const error = asScaleError(caught);
    return {
      report: errorReport(name, error, null),
      state: input.state,
      events: [event.scaleFailed(error)],
      evaluated: ["scale-failed"],
    };
  }

  const [reading, current] = await Promise.all([
    createMeasurement(config.measurement, { env: input.env, clock: input.clock }).measure(signal),
    scaler.current(signal).catch(asScaleError),
  ]);
  const failedReadings = reading.ok ? 0 : (input.state.failedReadings ?? 0) + 1;
  const events = [event.measurement(reading)];
  if (failedReadings >= config.notification.measurementFailuresToNotify) {
    events.push(event.measurementFailed(failedReadings, reading));
  }
  const evaluated: LastingKind[] = ["measurement-failed", "scale-failed"];
  if (current instanceof ScaleError) {
    // Without the platform's count no decision is safe; the reading is not recorded, so none is half-counted.
    events.push(event.scaleFailed(current));
    return {
      report: errorReport(name, current, reading),
      state: { ...input.state, failedReadings },
      events,
      evaluated,
    };
  }

  const measured = settlePendingScale(
    { ...input.state, lastMeasuredAt: now.toMillis(), failedReadings },
    current,
  );
  const decision = decide({ config: config.decision, state: measured, reading, current, now });
  events.push(...conditionEvents(decision, reading, event));
  evaluated.push("above-max", "below-min", "fail-safe", "too-rapid");
  const report: ProcessReport = {
    ...blankReport(name),
    status: "held",
    reading,
    current,
    decision: summary(decision),
  };

  let state = decision.state;
  if (decision.action !== "hold" && input.dryRun) {
    report.status = "would-scale";
    state = input.state;
  } else if (decision.action !== "hold") {
    try {
      const to = await scaler.scaleTo(decision.target, signal);
      state = recordScale(decision.state, { at: now.toMillis(), from: current, to });
      if (input.progress) Object.assign(input.progress, { state, scaled: { from: current, to } });
      Object.assign(report, { status: "scaled", scaled: { from: current, to } });
      events.push(event.scale(current, to, decision, reading));
    } catch (caught) {
      // The history is kept, so the same decision is taken, and the scale tried, again next tick.
      const error = asScaleError(caught);
      Object.assign(report, { status: "error", error: { id: error.id, message: error.message } });
      events.push(event.scaleFailed(error, decision));
      if (unclear(error))
        state = { ...state, pendingScale: { at: now.toMillis(), from: current, to: decision.target } };
    }
  }
  const tooRapid = tooRapidReason(config.notification, state.scales, now.toMillis());
  if (tooRapid) events.push(event.tooRapid(tooRapid, report.scaled?.to ?? current));
  return { report, state, events, evaluated };
}

function conditionEvents(decision: Decision, reading: Reading, event: EventFactory): AutoscaleEvent[] {
  return decision.conditions.map((condition) =>
    condition === "above-max"
      ? event.aboveMax(decision, reading)
      : condition === "below-min"
        ? event.belowMin(decision, reading)
        : event.failSafe(decision, reading),
  );
}

/**
 * Sends what the process notifies on: one-off events as they come, lasting conditions when
 * they start, repeat and end (their bookkeeping goes into the process's state).
 */
async function notify(
  input: ProcessTickInput,
  outcome: Outcome,
  event: EventFactory,
): Promise<ProcessTickResult> {
  const { notification } = input.config;
  const wanted = outcome.events.filter((e) => notification.notifyOn.includes(e.kind));
  const tracked = trackConditions({
    active: wanted.filter((e) => isLasting(e.kind)),
    evaluated: new Set(outcome.evaluated),
    notices: outcome.state.notices ?? {},
    now: input.now.toMillis(),
    repeatAfterMs: notification.repeatAfterMinutes * 60_000,
    resolved: event.resolved,
  });
  // A condition no longer notified on (notifyOn changed) is dropped, not announced as resolved.
  const events = [...wanted.filter((e) => !isLasting(e.kind)), ...tracked.events].filter((e) =>
    notification.notifyOn.includes(e.kind),
  );
  const warnings = await dispatch(events, notification, input.notifiers, input.env, input.signal);
  const notices = Object.keys(tracked.notices).length > 0 ? tracked.notices : undefined;
  const state: ProcessState = { ...outcome.state, notices };
  if (!notices) delete state.notices;
  return {
    report: {
      ...outcome.report,
      notified: events.map((e) => e.kind),
      warnings: [...outcome.report.warnings, ...warnings],
    },
    state,
  };
}

/** A failure after which the platform may still have applied the scale. */
function unclear(error: ScaleError): boolean {
  return ["timeout", "aborted", "network_error"].includes(error.id) || (error.status ?? 0) >= 500;
}

/**
 * A scale that got no clear answer last tick took effect if the formation now has its count:
 * then it is recorded (its cool-down and a fresh history apply); either way it is settled.
 */
function settlePendingScale(state: ProcessState, current: number): ProcessState {
  const { pendingScale, ...rest } = state;
  if (!pendingScale) return state;
  return current === pendingScale.to ? recordScale(rest, pendingScale) : rest;
}

/** Ticks run every minute; half a tick of slack keeps a 120 s interval from slipping to 180 s. */
const TICK_SLACK_MS = 30_000;

function untilNextMeasurement(config: ProcessConfig, state: ProcessState, now: number): number {
  if (config.intervalSeconds <= 60 || state.lastMeasuredAt === undefined) return 0;
  return Math.max(0, state.lastMeasuredAt + config.intervalSeconds * 1000 - TICK_SLACK_MS - now);
}

function asScaleError(error: unknown): ScaleError {
  return error instanceof ScaleError ? error : new ScaleError("internal_error", String(error));
}

function summary(decision: Decision): ProcessReport["decision"] {
  const { action, target, reason, bounds } = decision;
  return { action, target, reason, min: bounds.min, max: bounds.max };
}

function blankReport(name: string): ProcessReport {
  return {
    process: name,
    status: "held",
    reading: null,
    current: null,
    decision: null,
    notified: [],
    warnings: [],
  };
}

function errorReport(name: string, error: ScaleError, reading: Reading | null): ProcessReport {
  return { ...blankReport(name), status: "error", reading, error: { id: error.id, message: error.message } };
}
