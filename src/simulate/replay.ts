import { DateTime } from "luxon";
import type { Config, ProcessConfig } from "../config/schema.js";
import {
  boundsAt,
  cronFiring,
  resolveBound,
  scheduleAt,
  withSchedule,
  type Decision,
  type Moment,
  type Schedule,
  type ScheduleEntry,
} from "../decide/index.js";
import { emptyProcessRecord, type ProcessRecord } from "../engine/process-record.js";
import {
  planStep,
  settleStep,
  trackNotices,
  untilNextMeasurement,
  type StepInput,
} from "../engine/process-step.js";
import type { Reading } from "../measure/index.js";
import {
  emptyMinute,
  FormationModel,
  MINUTE_MS,
  modelledReading,
  processesFor,
  type HeartbeatOptions,
  type MinuteResult,
} from "./model.js";
import type { SimulationSettings } from "./schema.js";
import type { Trace } from "./trace.js";
import { SimulatedMoment } from "./moment.js";
import { CachedZone } from "./zone.js";

/** A scale the run made (a policy's decision, or a baseline's schedule). */
export interface ScaleEvent {
  at: number;
  from: number;
  to: number;
  reason: string;
}

/** One policy or baseline over a trace: per-minute series (typed arrays: 40,000 minutes stay small) and its scales. */
export interface Run {
  label: string;
  kind: "policy" | "baseline";
  /** What the run is, in a few words (the decision backend, or how a baseline is sized). */
  description: string;
  minutes: number;
  startMs: Float64Array;
  traceMs: Float64Array;
  arrivals: Float64Array;
  processes: Float64Array;
  meanMs: Float64Array;
  p95Ms: Float64Array;
  lateShare: Float64Array;
  droppedShare: Float64Array;
  backlog: Float64Array;
  /** The reading the policy acted on at the minute's start (NaN: none, or failed). */
  readingMs: Float64Array;
  scales: ScaleEvent[];
  failedReadings: number;
  /** Minutes whose decision reported the condition. */
  failSafes: number;
  aboveMax: number;
}

/** Collects a run minute by minute: the simulator's replay and the live demo both fill one. */
export class RunRecorder {
  readonly run: Run;
  #i = 0;

  constructor(label: string, kind: Run["kind"], description: string, capacity: number) {
    const series = () => new Float64Array(capacity);
    this.run = {
      label,
      kind,
      description,
      minutes: 0,
      startMs: series(),
      traceMs: series(),
      arrivals: series(),
      processes: series(),
      meanMs: series(),
      p95Ms: series(),
      lateShare: series(),
      droppedShare: series(),
      backlog: series(),
      readingMs: series(),
      scales: [],
      failedReadings: 0,
      failSafes: 0,
      aboveMax: 0,
    };
  }

  record(startMs: number, traceMs: number, minute: MinuteResult, reading: Reading | null): void {
    const r = this.run;
    const i = this.#i++;
    r.startMs[i] = startMs;
    r.traceMs[i] = traceMs;
    r.arrivals[i] = minute.arrivals;
    r.processes[i] = minute.processes;
    r.meanMs[i] = minute.meanMs;
    r.p95Ms[i] = minute.p95Ms;
    r.lateShare[i] = minute.lateShare;
    r.droppedShare[i] = minute.droppedShare;
    r.backlog[i] = minute.backlog;
    r.readingMs[i] = reading?.ok && reading.value !== null ? reading.value : NaN;
    if (reading && !reading.ok) r.failedReadings++;
    r.minutes = this.#i;
  }

  noteDecision(decision: Decision): void {
    if (decision.conditions.includes("fail-safe")) this.run.failSafes++;
    if (decision.conditions.includes("above-max")) this.run.aboveMax++;
  }
}

/** The model's part of the settings. */
export const modelParams = (s: SimulationSettings) => ({
  capacityPerProcess: s.capacityPerProcess,
  serviceTimeMs: s.serviceTimeMs,
  queueing: s.queueing,
  routing: s.routing,
  routerTimeoutSeconds: s.routerTimeoutSeconds,
  bootSeconds: s.bootSeconds,
});

/** A formation of `processes` under the settings' model, its draws from the settings' seed. */
export const formationModel = (settings: SimulationSettings, processes: number) =>
  new FormationModel(modelParams(settings), processes, settings.noise.seed);

/**
 * What the policy's heartbeat is: the settings' choice, else what the process measures (its
 * samples and metric when it measures request-metrics).
 */
export function heartbeatOptions(
  processConfig: ProcessConfig,
  settings: SimulationSettings,
): HeartbeatOptions {
  const measurement = processConfig.measurement;
  const backend = measurement.backend;
  const modelled = backend === "queue-time" || backend === "request-metrics" ? backend : "response-time";
  return {
    measurement: settings.measurement ?? modelled,
    timeoutMs: "timeoutMs" in measurement ? measurement.timeoutMs : 5000,
    routerTimeoutMs: settings.routerTimeoutSeconds * 1000,
    ...(measurement.backend === "request-metrics"
      ? { samples: measurement.samples, metric: measurement.metric }
      : {}),
  };
}

/**
 * Processes at the start: `simulation.initialProcesses`, else the fewest that meet the SLO at
 * the first minute's load (the most the policy allows when none does), held within the
 * policy's bounds then (a warm start, not a cold one, and no scale at the first tick just to
 * enter the bounds).
 */
export function initialProcesses(
  config: Config,
  processName: string,
  trace: Trace,
  settings: SimulationSettings,
): number {
  const decision = config.processes[processName]!.decision;
  const bounds = boundsAt(decision, DateTime.fromMillis(trace.startMs[0]!, { zone: config.timezone }));
  const wanted =
    settings.initialProcesses ??
    processesFor(
      modelParams(settings),
      trace.requests[0]! * settings.rateMultiplier,
      settings.sloMs,
      settings.sloMetric,
    ) ??
    bounds.max;
  return Math.min(Math.max(wanted, bounds.min), bounds.max);
}

/** One replayed minute as the step saw it: what a test compares with the tick. */
export interface ReplayedMinute {
  startMs: number;
  reading: Reading | null;
  current: number;
  decision: Decision;
  record: ProcessRecord;
}

export interface ReplayOptions {
  /** Read the schedule every minute instead of folding it into the bounds (the check of that folding). */
  exactSchedule?: boolean;
  /** Called after each minute's step. */
  onMinute?: (minute: ReplayedMinute) => void;
  /** The reading of minute `index` in place of the model's (a check that replays the tick's own readings). */
  readingAt?: (index: number, modelled: Reading) => Reading;
  /** The process's stored record at the start (default: none yet), e.g. a profile pre-warming learnt. */
  initialRecord?: ProcessRecord;
}

/**
 * Replays a trace through one policy: each minute the tick's steps, with the model in place of
 * the world. At the minute's start the heartbeat's one request reports the end of the minute
 * before (at the first minute, and the first after a gap, a warm-up minute at that minute's
 * load on the processes there are: FormationModel.warmUp); the
 * REAL decision backend (src/decide/registry.ts) decides on it with the process's state, the
 * count and the clock in the config's zone; an accepted scale is recorded as the tick records
 * it (recordScale) and new processes boot; then the minute runs. Cool-downs, bounds, schedules
 * and the fail-safe behave as in production because they are the production code.
 */
export function replayPolicy(
  label: string,
  config: Config,
  processName: string,
  trace: Trace,
  settings: SimulationSettings,
  options: ReplayOptions = {},
): Run {
  const processConfig = config.processes[processName];
  if (!processConfig) throw new Error(`no process ${JSON.stringify(processName)} in the config`);
  const heartbeat = heartbeatOptions(processConfig, settings);
  const n = trace.requests.length;
  const recorder = new RunRecorder(
    label,
    "policy",
    `${processConfig.decision.backend} on ${heartbeat.measurement}`,
    n,
  );
  const zone = new CachedZone(config.timezone);
  const initial = initialProcesses(config, processName, trace, settings);
  const model = formationModel(settings, initial);
  const minute = emptyMinute();
  let record: ProcessRecord = options.initialRecord ?? emptyProcessRecord();
  const configAt = options.exactSchedule ? () => processConfig : processConfigAt(processConfig);

  for (let i = 0; i < n; i++) {
    const startMs = trace.startMs[i]!;
    const arrivals = trace.requests[i]! * settings.rateMultiplier;
    // The first minute, or a gap: nothing is known of the minutes before.
    if (i === 0 || startMs - trace.startMs[i - 1]! > MINUTE_MS) model.warmUp(arrivals, startMs);
    const now = new SimulatedMoment(startMs, zone);
    const effective = configAt(now);
    const current = model.processes;
    // The tick's own steps (src/engine/process-step.ts), with the model in place of the world.
    const due = untilNextMeasurement(effective, record, startMs) === 0;
    const modelled = due ? modelledReading(model, startMs, settings.noise.stddevMs, heartbeat) : null;
    const reading = modelled && options.readingAt ? options.readingAt(i, modelled) : modelled;
    const step: StepInput = { config: effective, record, reading, current, now };
    const planned = planStep(step);
    const decision = planned.decision!;
    if (reading) recorder.noteDecision(decision);
    const scaled = decision.action !== "hold";
    if (scaled) {
      model.scaleTo(decision.target, startMs);
      recorder.run.scales.push({ at: startMs, from: current, to: decision.target, reason: decision.reason });
    }
    record = trackNotices(settleStep(planned, step, scaled ? { to: decision.target } : null), step).record;
    options.onMinute?.({ startMs, reading, current, decision, record });
    model.step(arrivals, startMs, settings.sloMs, minute);
    recorder.record(startMs, trace.traceMs[i]!, minute, reading);
  }
  return recorder.run;
}

/**
 * Replays a trace on a count that does not look at load: a fixed formation, or one set by a
 * schedule. `countAt` gives the count for a minute (its start on the simulated clock and the
 * trace time it stands for); a change scales (and boots).
 */
export function replayFixed(
  label: string,
  description: string,
  trace: Trace,
  settings: SimulationSettings,
  countAt: (startMs: number, traceMs: number) => number,
): Run {
  const n = trace.requests.length;
  const recorder = new RunRecorder(label, "baseline", description, n);
  const model = formationModel(settings, countAt(trace.startMs[0]!, trace.traceMs[0]!));
  const minute = emptyMinute();
  for (let i = 0; i < n; i++) {
    const startMs = trace.startMs[i]!;
    if (i > 0 && startMs - trace.startMs[i - 1]! > MINUTE_MS) model.reset();
    const target = countAt(startMs, trace.traceMs[i]!);
    const current = model.processes;
    if (target !== current) {
      model.scaleTo(target, startMs);
      recorder.run.scales.push({ at: startMs, from: current, to: target, reason: "schedule" });
    }
    model.step(trace.requests[i]! * settings.rateMultiplier, startMs, settings.sloMs, minute);
    recorder.record(startMs, trace.traceMs[i]!, minute, null);
  }
  return recorder.run;
}

/**
 * The schedule entry in force minute by minute, from the decision's own `scheduleAt`, called
 * only when some cron fires (or the wall clock goes back, at the end of summer time): the
 * entry in force can change only then. Parsing every cron every minute would make a four-week
 * replay take seconds.
 */
export function scheduleCursor(schedule: Schedule): (now: Moment) => ScheduleEntry {
  let entry: ScheduleEntry | undefined;
  let nextChange = -Infinity; // wall-clock ms at which some entry fires next
  let lastWallClock = -Infinity;
  return (now) => {
    const wallClock = now.toMillis() + now.offset * MINUTE_MS;
    if (!entry || wallClock >= nextChange || wallClock < lastWallClock) {
      entry = scheduleAt(schedule, now);
      nextChange = Math.min(...schedule.map((e) => cronFiring(e.cron, wallClock, "next")));
    }
    lastWallClock = wallClock;
    return entry;
  };
}

/** The schedule's count at a moment (epoch ms), for the schedule baseline. */
export function scheduleCounter(schedule: Schedule, zoneName: string): (startMs: number) => number {
  const zone = new CachedZone(zoneName);
  const cursor = scheduleCursor(schedule);
  return (startMs) => cursor(new SimulatedMoment(startMs, zone)).processes;
}

/**
 * The process config to hand the step at a moment. Without a schedule, the config itself.
 * With one, the same config with the schedule already applied to the decision's bounds:
 * `schedule` removed and `minProcesses`/`maxProcesses` set to the bounds in force, combined
 * by the decision's own `withSchedule`, the entry coming from `scheduleCursor`. The schedule is
 * read nowhere else, so the decisions are the same (test/simulate/replay.test.ts checks a
 * replay both ways), fifty times faster.
 */
export function processConfigAt(config: ProcessConfig): (now: Moment) => ProcessConfig {
  const { schedule } = config.decision;
  if (!schedule) return () => config;
  const cursor = scheduleCursor(schedule);
  let cached = config;
  let min = NaN;
  let max = NaN;
  return (now) => {
    const bounds = withSchedule(
      resolveBound(config.decision.minProcesses, now),
      resolveBound(config.decision.maxProcesses, now),
      cursor(now),
    );
    if (bounds.min !== min || bounds.max !== max) {
      min = bounds.min;
      max = bounds.max;
      const decision = {
        ...config.decision,
        schedule: undefined,
        minProcesses: bounds.min,
        maxProcesses: bounds.max,
      };
      cached = { ...config, decision };
    }
    return cached;
  };
}
