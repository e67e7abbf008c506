import type { DateTime } from "luxon";
import type { ProcessConfig } from "../config/schema.js";
import type { Decision } from "../decide/index.js";
import type { Env } from "../kit/env.js";
import type { Clock } from "../kit/clock.js";
import type { Scrubber } from "../kit/redact.js";
import { createMeasurement } from "../measure/index.js";
import {
  dispatch,
  eventFactory,
  type AutoscaleEvent,
  type EventFactory,
  type Notifiers,
} from "../notify/index.js";
import {
  createScaler,
  ScaleError,
  scalingAdvice,
  type ScaleAnswer,
  type Scaler,
  type ScalingSession,
} from "../scale/index.js";
import {
  limitStep,
  planStep,
  settleStep,
  trackNotices,
  untilNextMeasurement,
  type ScaleOutcome,
  type Signal,
  type Step,
  type StepInput,
} from "./process-step.js";
import { steeringOf, type ProcessRecord } from "./process-record.js";
import type { ProcessReport } from "./report.js";

export interface ProcessTickInput {
  name: string;
  config: ProcessConfig;
  record: ProcessRecord;
  now: DateTime;
  tickId: string;
  dryRun: boolean;
  env: Env;
  clock: Clock;
  notifiers: Notifiers;
  signal: AbortSignal;
  /** The process's scaler (scalerFor), or why there is none. */
  scaler: Scaler | ScaleError;
  /** The tick's platform calls, shared by the scalers of one batch (one read and one write per Heroku app). */
  session: ScalingSession;
  /** The tick's secrets, out of every notification. */
  secrets: Scrubber;
  /** Filled in as soon as a scale goes through, so a process cut off by the deadline afterwards keeps it. */
  progress?: ProcessProgress;
}

export interface ProcessProgress {
  record?: ProcessRecord;
  scaled?: { from: number; to: number };
}

export interface ProcessTickResult {
  report: ProcessReport;
  record: ProcessRecord;
}

/** A process measured and decided, before anything is scaled. */
export interface PlannedProcess {
  input: ProcessTickInput;
  scaler: Scaler | ScaleError;
  step: StepInput;
  planned: Step;
  report: ProcessReport;
  /** The scale to make (not in a dry run): the tick records it as pending before making it. */
  intent: { from: number; to: number } | null;
}

/** The scaler of a process, or the setup's error that it has none (a secret not set). */
export function scalerFor(config: ProcessConfig, name: string, env: Env): Scaler | ScaleError {
  try {
    return createScaler(config.scaling, name, env);
  } catch (caught) {
    return asScaleError(caught);
  }
}

/**
 * One process's part of a tick: the I/O around the pure step (./process-step.ts), in two halves
 * so the tick can record every scale's intent in one write between them. `planProcess`
 * measures and reads the formation at once (its batch's one read), and plans; the tick then
 * makes every scale (src/scale/session.ts: one write per batch), and `finishProcess` settles
 * its answer, then notifies.
 */
export async function planProcess(input: ProcessTickInput): Promise<PlannedProcess> {
  const { config, record, now, signal, scaler, session } = input;
  // Between a process's measurements the formation is still read, so bounds and schedules hold on time.
  const due = !(scaler instanceof ScaleError) && untilNextMeasurement(config, record, now.toMillis()) === 0;
  const [reading, current] = await Promise.all([
    due
      ? createMeasurement(config.measurement, { env: input.env, clock: input.clock }).measure(signal)
      : null,
    scaler instanceof ScaleError ? scaler : session.current(scaler, signal).catch(asScaleError),
  ]);
  const step: StepInput = { config, record, reading, current, now };
  const planned = planStep(step);
  const report = reportOf(input.name, planned, step, config);
  const { decision } = planned;
  const plan = { input, scaler, step, planned, report, intent: null };
  if (!decision || decision.action === "hold" || typeof current !== "number" || scaler instanceof ScaleError)
    return plan;
  const refused = unsafeTarget(decision, planned.record, now.toMillis());
  if (refused) {
    Object.assign(report, { status: "error", error: { id: "target_refused", message: refused } });
    return plan;
  }
  // What can wait while the platform's rate limit runs low does: decided again next tick.
  const deferred = session.deferral(scaler, current, decision.target);
  if (deferred) {
    const would = `the policy would scale ${decision.action} to ${decision.target}: ${decision.reason}`;
    report.decision = {
      ...report.decision!,
      action: "hold",
      target: current,
      reason: `${deferred}; ${would}`,
    };
    return plan;
  }
  if (input.dryRun) {
    report.status = "would-scale";
    return plan;
  }
  return { ...plan, intent: { from: current, to: decision.target } };
}

/** More processes than any platform runs for one type: a target past it is a bug, not a plan. */
const MAX_TARGET = 10_000;

/**
 * The last guard before a PATCH: a whole number of processes, within the bounds in force (a
 * pause's count or a manual override may stand outside them, by design). Whatever the policy
 * computed, anything else is refused and reported rather than sent.
 */
function unsafeTarget(decision: Decision, record: ProcessRecord, now: number): string | null {
  const { target, bounds } = decision;
  if (!Number.isInteger(target) || target < 0 || target > MAX_TARGET)
    return `not scaled: the target ${String(target)} is not a whole number of processes from 0 to ${MAX_TARGET}`;
  const { paused, override } = steeringOf(record, now);
  // A platform's limit below the minimum: as near the minimum as the platform allows.
  const min = Math.min(bounds.min, record.platformLimit?.limit ?? bounds.min);
  if (!paused && !override && (target < min || target > bounds.max))
    return `not scaled: the target ${target} is outside the bounds in force (${bounds.min}-${bounds.max})`;
  return null;
}

/**
 * The record kept while a planned scale is made: the plan's, with the scale pending, so a process
 * cut off before the platform answers leaves the next tick a scale to check. Its pending scale is
 * also what the tick appends before the PATCH (its intent), so a tick whose later save is lost
 * leaves the next one a record that says the new count was its own scale (found applied, it is
 * recorded with its cool-down, and not notified twice) and not a manual one.
 */
export function pendingRecord(plan: PlannedProcess): ProcessRecord | null {
  if (!plan.intent) return null;
  const pendingScale = { at: plan.input.now.toMillis(), ...plan.intent };
  return { ...plan.planned.record, pendingScale };
}

/** How the tick made a process's planned scale: the platform's answer, or why it made none. */
export type ScaleMade = { answer: Promise<ScaleAnswer> } | { notRecorded: string };

/**
 * Settles the scale the tick made (`made`; when the intent could not be recorded first, nothing
 * was scaled and the process reports it, to be tried again next tick), then notifies.
 */
export async function finishProcess(plan: PlannedProcess, made?: ScaleMade): Promise<ProcessTickResult> {
  const { input, step, report } = plan;
  const { config, now, signal } = input;
  let planned = plan.planned;
  let outcome: ScaleOutcome = null;
  if (plan.intent && made !== undefined && "notRecorded" in made)
    Object.assign(report, {
      status: "error",
      error: {
        id: "intent_not_recorded",
        message: `not scaled to ${plan.intent.to}: the scale could not be recorded first (${made.notRecorded}); tried again next tick`,
      },
    });
  else if (plan.intent && made !== undefined && "answer" in made)
    ({ planned, outcome } = answered(plan, await made.answer));
  const settled = settleStep(planned, step, outcome);
  const notices = trackNotices(settled, step);
  // Kept before sending: a deadline that cuts the sends short must not make the next tick re-send "started".
  if (input.progress) input.progress.record = notices.record;
  const event = eventFactory(input.name, input.tickId, now);
  const events = notices.signals.map((s) => input.secrets.deep(eventOf(s, event, config)));
  const warnings = await dispatch(events, config.notification, input.notifiers, input.env, signal);
  return {
    report: {
      ...report,
      ...steeringReport(notices.record, planned, now.toMillis()),
      notified: events.map((e) => e.kind),
      warnings: [...report.warnings, ...settled.warnings, ...warnings],
    },
    record: notices.record,
  };
}

/**
 * The record with its account's rate-limit back-off after the tick (a 429 of any of the
 * account's calls, or one a record held), or without one: every process of the account keeps it.
 */
export function withBackoff(record: ProcessRecord, until: number | undefined): ProcessRecord {
  if (record.rateLimitedUntil === until) return record;
  const { rateLimitedUntil: _, ...rest } = record;
  return until === undefined ? rest : { ...rest, rateLimitedUntil: until };
}

/** The pause, override and manual change the report shows, when there are any. */
function steeringReport(
  record: ProcessRecord,
  planned: Step,
  now: number,
): Pick<ProcessReport, "paused" | "override" | "manual"> {
  const { paused, override } = steeringOf(record, now);
  const manual = planned.signals.find((s) => s.kind === "manual-scale");
  return {
    ...(paused ? { paused } : {}),
    ...(override ? { override } : {}),
    ...(manual ? { manual: { from: manual.from, to: manual.to } } : {}),
  };
}

/**
 * The platform's answer to the process's scale, as the step to settle and its outcome; a scale
 * that went through is kept in `progress` at once. Capped at a limit the platform named, the
 * step is the one within it (nothing scaled when the process is already there).
 */
function answered(plan: PlannedProcess, answer: ScaleAnswer): { planned: Step; outcome: ScaleOutcome } {
  const { input, step, report } = plan;
  const current = step.current as number;
  const planned = answer.limit === undefined ? plan.planned : limitStep(plan.planned, step, answer.limit);
  if (planned.decision !== plan.planned.decision) report.decision = decisionView(planned.decision);
  if ("error" in answer) {
    Object.assign(report, { status: "error", error: errorOf(answer.error, input.config) });
    return { planned, outcome: { error: answer.error } };
  }
  if (answer.limit !== undefined && answer.to === current) return { planned, outcome: null };
  const { to } = answer;
  Object.assign(report, { status: "scaled", scaled: { from: current, to } });
  if (input.progress) {
    input.progress.scaled = { from: current, to };
    input.progress.record = settleStep(planned, step, { to }).record;
  }
  return { planned, outcome: { to } };
}

const decisionView = (decision: Decision | null): ProcessReport["decision"] =>
  decision && {
    action: decision.action,
    target: decision.target,
    reason: decision.reason,
    min: decision.bounds.min,
    max: decision.bounds.max,
  };

function reportOf(name: string, planned: Step, step: StepInput, config: ProcessConfig): ProcessReport {
  const { decision } = planned;
  const base: ProcessReport = {
    process: name,
    status: step.reading ? "held" : "waiting",
    reading: step.reading,
    current: typeof step.current === "number" ? step.current : null,
    decision: decisionView(decision),
    notified: [],
    warnings: [],
  };
  if (typeof step.current === "number") return base;
  return { ...base, status: "error", error: errorOf(step.current, config) };
}

/** The notification for a signal: the words are written only for what is sent. */
function eventOf(signal: Signal, event: EventFactory, config: ProcessConfig): AutoscaleEvent {
  if ("resolvedSince" in signal)
    return { ...event.resolved(signal.kind, signal.resolvedSince), phase: "resolved" };
  const made = ((): AutoscaleEvent => {
    switch (signal.kind) {
      case "measurement":
        return event.measurement(signal.reading);
      case "measurement-failed":
        return event.measurementFailed(signal.count, signal.reading);
      case "scale":
        return event.scale(signal.from, signal.to, signal.decision, signal.reading);
      case "above-max":
        return event.aboveMax(signal.decision, signal.reading);
      case "dyno-limit":
        return event.dynoLimit(signal.limit, signal.decision);
      case "scale-down-held-busy":
        return event.heldBusy(signal.decision, signal.reading);
      case "below-min":
        return event.belowMin(signal.decision, signal.reading);
      case "fail-safe":
        return event.failSafe(signal.decision, signal.reading);
      case "too-rapid":
        return event.tooRapid(signal.why, signal.to);
      case "scale-failed":
        return event.scaleFailed(signal.error, scalingAdvice(config.scaling, signal.error), signal.decision);
      case "pause":
        return event.pause(signal);
      case "resume":
        return event.resume(signal.since, signal.by);
      case "manual-scale":
        return event.manualScale(signal.from, signal.to, signal.until);
    }
  })();
  return signal.phase ? { ...made, phase: signal.phase } : made;
}

function errorOf(error: ScaleError, config: ProcessConfig): NonNullable<ProcessReport["error"]> {
  return { id: error.id, message: error.message, advice: scalingAdvice(config.scaling, error) };
}

function asScaleError(error: unknown): ScaleError {
  return error instanceof ScaleError ? error : new ScaleError("internal", "internal_error", String(error));
}
