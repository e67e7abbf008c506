import type { DateTime } from "luxon";
import type { Clock } from "./clock.js";
import type { ProcessConfig } from "./config/schema.js";
import { decide } from "./decide/registry.js";
import { recordScale, type ProcessState } from "./decide/state.js";
import type { Decision, DecisionCondition } from "./decide/types.js";
import { createMeasurement } from "./measure/registry.js";
import type { Reading } from "./measure/types.js";
import type { AutoscaleEvent, EventKind } from "./notify/events.js";
import type { Notifiers } from "./notify/registry.js";
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
}

export interface ProcessTickResult {
  report: ProcessReport;
  state: ProcessState;
}

function asScaleError(error: unknown): ScaleError {
  return error instanceof ScaleError ? error : new ScaleError("internal_error", String(error));
}

/** One process's part of a tick: measure and read the formation at once, decide, scale, notify. */
export async function tickProcess(input: ProcessTickInput): Promise<ProcessTickResult> {
  const { name, config, now, signal } = input;
  const event = eventFactory(input);
  const waitMs = untilNextMeasurement(config, input.state, now.toMillis());
  if (waitMs > 0) {
    const report = { ...failure(name, null, null), status: "waiting" as const };
    report.warnings.push(
      `measured every ${config.intervalSeconds} s: next in ${Math.round(waitMs / 1000)} s`,
    );
    return { report, state: input.state };
  }

  let scaler;
  try {
    scaler = createScaler(config.scaling, name, input.env);
  } catch (error) {
    return finish(input, failure(name, asScaleError(error), null), input.state, [
      event.scaleFailed(asScaleError(error)),
    ]);
  }

  const [reading, current] = await Promise.all([
    createMeasurement(config.measurement, { env: input.env, clock: input.clock }).measure(signal),
    scaler.current(signal).catch(asScaleError),
  ]);
  const events = [event.measurement(reading)];
  if (current instanceof ScaleError) {
    // Without the platform's count no decision is safe; the reading is not recorded, so none is half-counted.
    return finish(input, failure(name, current, reading), input.state, [
      ...events,
      event.scaleFailed(current),
    ]);
  }

  const measured = { ...input.state, lastMeasuredAt: now.toMillis() };
  const decision = decide({ config: config.decision, state: measured, reading, current, now });
  events.push(...decision.conditions.map((condition) => event.condition(condition, decision, reading)));
  const report: ProcessReport = {
    ...failure(name, null, reading),
    status: "held",
    current,
    decision: summary(decision),
  };
  if (decision.action === "hold") return finish(input, report, decision.state, events);
  if (input.dryRun) return finish(input, { ...report, status: "would-scale" }, input.state, events);

  try {
    const to = await scaler.scaleTo(decision.target, signal);
    const state = recordScale(decision.state, { at: now.toMillis(), from: current, to });
    events.push(event.scale(current, to, decision, reading));
    return finish(input, { ...report, status: "scaled", scaled: { from: current, to } }, state, events);
  } catch (caught) {
    // The history is kept, so the same decision is taken, and the scale tried, again next tick.
    const error = asScaleError(caught);
    events.push(event.scaleFailed(error, decision));
    return finish(
      input,
      { ...report, status: "error", error: { id: error.id, message: error.message } },
      decision.state,
      events,
    );
  }
}

/** Ticks run every minute; half a tick of slack keeps a 120 s interval from slipping to 180 s. */
const TICK_SLACK_MS = 30_000;

function untilNextMeasurement(config: ProcessConfig, state: ProcessState, now: number): number {
  if (config.intervalSeconds <= 60 || state.lastMeasuredAt === undefined) return 0;
  return Math.max(0, state.lastMeasuredAt + config.intervalSeconds * 1000 - TICK_SLACK_MS - now);
}

function summary(decision: Decision): ProcessReport["decision"] {
  const { action, target, reason, bounds } = decision;
  return { action, target, reason, min: bounds.min, max: bounds.max };
}

function failure(name: string, error: ScaleError | null, reading: Reading | null): ProcessReport {
  return {
    process: name,
    status: error ? "error" : "held",
    reading,
    current: null,
    decision: null,
    ...(error ? { error: { id: error.id, message: error.message } } : {}),
    notified: [],
    warnings: [],
  };
}

/** Sends the events the process notifies on to each of its backends at once; a failing backend is only a warning. */
async function finish(
  input: ProcessTickInput,
  report: ProcessReport,
  state: ProcessState,
  events: AutoscaleEvent[],
): Promise<ProcessTickResult> {
  const { notification } = input.config;
  const chosen = events.filter((e) => notification.notifyOn.includes(e.kind));
  if (chosen.length > 0) {
    const signal = AbortSignal.any([input.signal, AbortSignal.timeout(notification.timeoutMs)]);
    const results = await Promise.allSettled(
      notification.backends.map((backend) => input.notifiers[backend].send(chosen, signal)),
    );
    results.forEach((result, i) => {
      if (result.status === "rejected") {
        report.warnings.push(`notification via ${notification.backends[i]} failed: ${String(result.reason)}`);
      }
    });
  }
  return { report: { ...report, notified: chosen.map((e) => e.kind) }, state };
}

const conditionMessages: Record<DecisionCondition, (decision: Decision) => string> = {
  "above-max": (d) =>
    `needs more than the maximum of ${d.bounds.max} processes: ${d.reason}; consider raising maxProcesses`,
  "below-min": (d) =>
    `could run fewer than the minimum of ${d.bounds.min} processes: ${d.reason}; consider lowering minProcesses`,
  "fail-safe": (d) => `${d.reason}; scaling to ${d.target} at once`,
};

function eventFactory(input: ProcessTickInput) {
  const base = {
    process: input.name,
    tickId: input.tickId,
    at: input.now.toISO() ?? new Date(input.now.toMillis()).toISOString(),
  };
  const value = (reading: Reading) => ({ value: reading.value, unit: reading.unit });
  const make = (kind: EventKind, message: string, extra: Partial<AutoscaleEvent> = {}): AutoscaleEvent => ({
    ...base,
    kind,
    message,
    ...extra,
  });
  return {
    measurement: (reading: Reading) =>
      make(
        "measurement",
        reading.ok
          ? `${reading.backend} measured ${reading.value} ${reading.unit}`
          : `${reading.backend} failed: ${reading.error}`,
        value(reading),
      ),
    condition: (condition: DecisionCondition, decision: Decision, reading: Reading) =>
      make(condition, conditionMessages[condition](decision), {
        ...value(reading),
        reason: decision.reason,
        from: decision.target,
        to: decision.target,
      }),
    scale: (from: number, to: number, decision: Decision, reading: Reading) =>
      make("scale", `scaled ${from} -> ${to}: ${decision.reason}`, {
        ...value(reading),
        from,
        to,
        reason: decision.reason,
      }),
    scaleFailed: (error: ScaleError, decision?: Decision) =>
      make("scale-failed", `platform API error ${error.id}: ${error.message}`, {
        error: { id: error.id, message: error.message },
        ...(decision ? { to: decision.target, reason: decision.reason } : {}),
      }),
  };
}
