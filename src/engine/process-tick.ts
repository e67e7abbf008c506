import type { DateTime } from "luxon";
import type { Clock } from "../kit/clock.js";
import type { ProcessConfig } from "../config/schema.js";
import { enforceBounds, decision as makeDecision } from "../decide/common.js";
import { decide } from "../decide/registry.js";
import { recordScale, type ProcessState, type ScaleRecord } from "./process-record.js";
import type { Decision } from "../decide/types.js";
import { createMeasurement } from "../measure/registry.js";
import type { Reading } from "../measure/types.js";
import { isLasting, trackConditions, type LastingKind } from "../notify/conditions.js";
import { dispatch } from "../notify/dispatch.js";
import { eventFactory, type EventFactory } from "../notify/event-factory.js";
import type { AutoscaleEvent } from "../notify/events.js";
import type { Notifiers } from "../notify/registry.js";
import { tooRapidReason } from "../notify/rules.js";
import type { ProcessReport } from "./report.js";
import { createScaler } from "../scale/registry.js";
import { ScaleError, type Scaler } from "../scale/types.js";

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
  const event = eventFactory(input.name, input.tickId, input.now);
  return notify(input, await measureDecideScale(input, event), event);
}

async function measureDecideScale(input: ProcessTickInput, event: EventFactory): Promise<Outcome> {
  const { name, config, now, signal } = input;
  let scaler: Scaler;
  try {
    scaler = createScaler(config.scaling, name, input.env);
  } catch (caught) {
    const error = asScaleError(caught);
    return {
      report: errorReport(name, error, null),
      state: { ...input.state, platformFailure: "read" },
      events: [event.scaleFailed(error)],
      evaluated: ["scale-failed"],
    };
  }

  // Between a process's measurements the formation is still read, so bounds and schedules hold on time.
  const waitMs = untilNextMeasurement(config, input.state, now.toMillis());
  const [reading, current] = await Promise.all([
    waitMs > 0
      ? null
      : createMeasurement(config.measurement, { env: input.env, clock: input.clock }).measure(signal),
    scaler.current(signal).catch(asScaleError),
  ]);
  const events: AutoscaleEvent[] = [];
  const evaluated: LastingKind[] = [];
  let state = input.state;
  if (reading) {
    const failedReadings = reading.ok ? 0 : (state.failedReadings ?? 0) + 1;
    state = { ...state, lastMeasuredAt: now.toMillis(), failedReadings };
    events.push(event.measurement(reading));
    if (failedReadings >= config.notification.measurementFailuresToNotify) {
      events.push(event.measurementFailed(failedReadings, reading));
    }
    evaluated.push("measurement-failed");
  }
  if (current instanceof ScaleError) {
    // Without the platform's count no decision is safe; the reading is not recorded, so none is half-counted.
    events.push(event.scaleFailed(current));
    evaluated.push("scale-failed");
    const kept: ProcessState = {
      ...input.state,
      ...(reading ? { failedReadings: state.failedReadings } : {}),
      platformFailure: "read",
    };
    return { report: errorReport(name, current, reading), state: kept, events, evaluated };
  }
  if (state.platformFailure === "read") {
    // The failing call was the read, and it works again.
    evaluated.push("scale-failed");
    state = withoutPlatformFailure(state);
  }

  const settled = settlePendingScale(state, current);
  state = settled.state;
  if (settled.applied) events.push(event.scale(settled.applied.from, settled.applied.to, null, null));
  let decision: Decision;
  if (reading) {
    decision = decide({ config: config.decision, state, reading, current, now });
    events.push(...conditionEvents(decision, reading, event));
    evaluated.push("above-max", "below-min", "fail-safe", "too-rapid");
  } else {
    const corrected = enforceBounds(config.decision, state, current, now);
    const next = `measured every ${config.intervalSeconds} s: next in ${Math.round(waitMs / 1000)} s`;
    decision = corrected.decision ?? makeDecision("hold", current, next, corrected.bounds, state);
  }
  const report: ProcessReport = {
    ...blankReport(name),
    status: reading ? "held" : "waiting",
    reading,
    current,
    decision: summary(decision),
  };
  const outcome = await applyDecision(input, scaler, decision, current, report, event, reading);
  events.push(...outcome.events);
  if (outcome.scaleCall) evaluated.push("scale-failed"); // a scale tried tells whether scaling works
  const tooRapid = tooRapidReason(config.notification, outcome.state.scales, now.toMillis());
  if (tooRapid) events.push(event.tooRapid(tooRapid, report.scaled?.to ?? current));
  return { report, state: outcome.state, events, evaluated };
}

/** Carries out a decision: nothing for a hold, a report for a dry run, else the platform call. */
async function applyDecision(
  input: ProcessTickInput,
  scaler: Scaler,
  decision: Decision,
  current: number,
  report: ProcessReport,
  event: EventFactory,
  reading: Reading | null,
): Promise<{ state: ProcessState; events: AutoscaleEvent[]; scaleCall?: "ok" | "failed" }> {
  const at = input.now.toMillis();
  if (decision.action === "hold") return { state: decision.state, events: [] };
  if (input.dryRun) {
    report.status = "would-scale";
    return { state: input.state, events: [] };
  }
  try {
    const to = await scaler.scaleTo(decision.target, input.signal);
    const state = withoutPlatformFailure(recordScale(decision.state, { at, from: current, to }));
    if (input.progress) Object.assign(input.progress, { state, scaled: { from: current, to } });
    Object.assign(report, { status: "scaled", scaled: { from: current, to } });
    return { state, events: [event.scale(current, to, decision, reading)], scaleCall: "ok" };
  } catch (caught) {
    // The history is kept, so the same decision is taken, and the scale tried, again next tick.
    const error = asScaleError(caught);
    Object.assign(report, { status: "error", error: { id: error.id, message: error.message } });
    const state: ProcessState = { ...decision.state, platformFailure: "scale" };
    if (unclear(error)) state.pendingScale = { at, from: current, to: decision.target };
    return { state, events: [event.scaleFailed(error, decision)], scaleCall: "failed" };
  }
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
    // A failure is over at the first success; a load condition must stay away a while.
    resolveAfterMs: (kind) =>
      kind === "scale-failed" || kind === "measurement-failed"
        ? 0
        : notification.resolveAfterMinutes * 60_000,
    resolved: event.resolved,
  });
  // A condition no longer notified on (notifyOn changed) is dropped, not announced as resolved.
  const events = [...wanted.filter((e) => !isLasting(e.kind)), ...tracked.events].filter((e) =>
    notification.notifyOn.includes(e.kind),
  );
  const notices = Object.keys(tracked.notices).length > 0 ? tracked.notices : undefined;
  const state: ProcessState = { ...outcome.state, notices };
  if (!notices) delete state.notices;
  // Kept before sending: a deadline that cuts the sends short must not make the next tick re-send "started".
  if (input.progress) input.progress.state = state;
  const warnings = await dispatch(events, notification, input.notifiers, input.env, input.signal);
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
function settlePendingScale(
  state: ProcessState,
  current: number,
): { state: ProcessState; applied?: ScaleRecord } {
  const { pendingScale, ...rest } = state;
  if (!pendingScale) return { state };
  if (current !== pendingScale.to) return { state: rest };
  return { state: withoutPlatformFailure(recordScale(rest, pendingScale)), applied: pendingScale };
}

function withoutPlatformFailure(state: ProcessState): ProcessState {
  const { platformFailure: _, ...rest } = state;
  return rest;
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
