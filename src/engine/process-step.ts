import type { ProcessConfig } from "../config/schema.js";
import {
  decide,
  decision as makeDecision,
  decisionScaleRecordsMs,
  enforceBounds,
  failSafeMove,
  keepScaleRecords,
  MAX_SCALE_RECORDS,
  observeDecision,
  recordScale,
  withPrewarm,
  type Decision,
  type Moment,
  type ScaleRecord,
} from "../decide/index.js";
import { plural } from "../kit/plural.js";
import type { Reading } from "../measure/index.js";
import { isLasting, tooRapidReason, trackConditions, type LastingKind } from "../notify/index.js";
import type { ScaleError } from "../scale/index.js";
import type { ProcessRecord } from "./process-record.js";

/**
 * One process's part of a tick with the I/O taken out, as Kubernetes' HPA controller is built:
 * `planStep` (the record, a reading or none, the count or why it could not be read, the time →
 * a decision and the record to keep), then the caller scales or not, then `settleStep` (the
 * outcome → the record and what happened), then `trackNotices` (what to notify, de-duplicated
 * through the record). The tick wraps these in I/O; the simulator calls the same three, so the
 * two cannot drift apart (test/engine/step-equivalence.test.ts replays one through both).
 */

/** Something a notification may be made of; the tick turns the ones sent into events. */
export type Signal = (
  | { kind: "measurement"; reading: Reading }
  | { kind: "measurement-failed"; count: number; reading: Reading }
  /** `decision` null: a scale whose request got no answer last tick, found applied now. */
  | { kind: "scale"; from: number; to: number; decision: Decision | null; reading: Reading | null }
  | {
      kind: "above-max" | "below-min" | "fail-safe" | "scale-down-held-busy";
      decision: Decision;
      reading: Reading;
    }
  /** The decision held within the platform's limit of `limit` processes (its 422 named it). */
  | { kind: "dyno-limit"; limit: number; decision: Decision }
  | { kind: "too-rapid"; why: string; to: number }
  | { kind: "scale-failed"; error: ScaleError; decision?: Decision }
  | { kind: "pause"; until?: number | undefined; processes?: number | undefined; by?: string | undefined }
  /** `by`: who resumed it, or `expired`. */
  | { kind: "resume"; since: number; by: string }
  /** `until`: the end of the manual override it starts, if any. */
  | { kind: "manual-scale"; from: number; to: number; until?: number | undefined }
  /** A lasting condition that ended: it began at `since`. */
  | { kind: LastingKind; resolvedSince: number }
) & { phase?: "started" | "repeated" | "resolved" };

export interface StepInput {
  config: ProcessConfig;
  record: ProcessRecord;
  /** This tick's reading; null when the process is not due (see `untilNextMeasurement`). */
  reading: Reading | null;
  /** The count the platform runs now, or why it could not be read. */
  current: number | ScaleError;
  /** The tick's time, in the configured zone. */
  now: Moment;
}

export interface Step {
  /** Null when the platform's count could not be read: then no decision is safe. */
  decision: Decision | null;
  /** The record to keep if nothing is scaled. */
  record: ProcessRecord;
  signals: Signal[];
  /** The lasting conditions this tick could see, so only those can be resolved. */
  evaluated: LastingKind[];
  /** How long until the next measurement, when this tick took none. */
  waitMs: number;
  /** What the tick's report should say about the process's stored record. */
  warnings: string[];
}

/** The outcome of carrying out a decision: none (a hold, or a dry run), a scale, or its failure. */
export type ScaleOutcome = null | { to: number } | { error: ScaleError };

/** Ticks run every minute; half a tick of slack keeps a 120 s interval from slipping to 180 s. */
const TICK_SLACK_MS = 30_000;

/** Milliseconds until the process is due to be measured (0: this tick). */
export function untilNextMeasurement(config: ProcessConfig, record: ProcessRecord, nowMs: number): number {
  if (config.intervalSeconds <= 60 || record.lastMeasuredAt === undefined) return 0;
  return Math.max(0, record.lastMeasuredAt + config.intervalSeconds * 1000 - TICK_SLACK_MS - nowMs);
}

/** Measuring, reading the formation and deciding, before anything is scaled. */
export function planStep(input: StepInput): Step {
  const { config, reading, current, now } = input;
  const signals: Signal[] = [];
  const evaluated: LastingKind[] = [];
  const warnings: string[] = [];
  const nowMs = now.toMillis();
  const record = withScaleRecordsKept(input.record, config, nowMs);
  const waitMs = reading ? 0 : untilNextMeasurement(config, record, nowMs);
  let next = record;
  if (reading) {
    const failedReadings = reading.ok ? 0 : (record.failedReadings ?? 0) + 1;
    next = measured(record, config, nowMs, failedReadings);
    signals.push({ kind: "measurement", reading });
    if (failedReadings >= config.notification.measurementFailuresToNotify)
      signals.push({ kind: "measurement-failed", count: failedReadings, reading });
    evaluated.push("measurement-failed");
  }
  if (typeof current !== "number") {
    // Without the platform's count no decision is safe; the reading is not recorded, so none is half-counted.
    const kept = reading ? measured(record, config, record.lastMeasuredAt, next.failedReadings ?? 0) : record;
    // A secret that is not set is the setup's error, reported with the process, not a platform's failure.
    if (current.kind === "missing-credentials")
      return { decision: null, record: kept, signals, evaluated, waitMs, warnings };
    signals.push({ kind: "scale-failed", error: current });
    evaluated.push("scale-failed");
    return {
      decision: null,
      record: { ...kept, platformFailure: "read" },
      signals,
      evaluated,
      waitMs,
      warnings,
    };
  }
  if (next.platformFailure === "read") {
    // The failing call was the read, and it works again.
    evaluated.push("scale-failed");
    next = withoutPlatformFailure(next);
  }
  const pending = next.pendingScale;
  if (pending) {
    // A scale that got no clear answer last tick took effect if the formation now has its count:
    // then it is recorded (its cool-down and a fresh history apply); either way it is settled.
    const { pendingScale: _, ...rest } = next;
    next = current === pending.to ? withoutPlatformFailure(withScale(rest, pending, warnings)) : rest;
    // Announced here only when its own tick could not: that tick announced a scale it saw go through.
    if (current === pending.to && !pending.intent)
      signals.push({ kind: "scale", from: pending.from, to: pending.to, decision: null, reading: null });
  }
  const steering = steerRecord(next, config, current, nowMs, pending !== undefined);
  next = steering.record;
  for (const signal of steering.signals) signals.push(signal);
  let policy: Decision;
  if (reading) {
    policy = decide({ config: config.decision, state: next, reading, current, now });
  } else {
    const corrected = enforceBounds(config.decision, next, current, now);
    const why = `measured every ${config.intervalSeconds} s: next in ${Math.round(waitMs / 1000)} s`;
    policy = corrected.decision ?? makeDecision("hold", current, why, corrected.bounds, next);
  }
  // Pre-warming raises the policy's decision ahead of a usual rise; a pause or override still wins.
  const { prewarm } = config.decision;
  policy = withPrewarm(policy, prewarm, policy.state.prewarm, current, now);
  const steered = steerDecision(policy, config, reading, current);
  const { conditions } = steered;
  const limited = withinPlatformLimit(steered.decision, current, nowMs);
  const { limit } = limited;
  // The profile learns the count the step ends at, within the platform's limit.
  const state = observeDecision(limited.decision.state, prewarm, limited.decision.target, now);
  const decision = state === limited.decision.state ? limited.decision : { ...limited.decision, state };
  if (reading) {
    for (const condition of decision.conditions) signals.push({ kind: condition, decision, reading });
    for (const condition of conditions) evaluated.push(condition);
    evaluated.push("too-rapid", "dyno-limit");
  }
  if (limit !== undefined) signals.push({ kind: "dyno-limit", limit, decision });
  return { decision, record: decision.state, signals, evaluated, waitMs, warnings };
}

/**
 * After a platform named its limit (Heroku's 422 over a dyno limit), this long until it is tried
 * again: a raised limit is used within the hour, at the cost of one refused write an hour.
 */
export const PLATFORM_LIMIT_RETRY_MS = 60 * 60_000;

/**
 * The decision within the platform's limit the record keeps: a scale-up past it goes to it, or
 * holds when already there. A limit kept for PLATFORM_LIMIT_RETRY_MS is dropped (the decision
 * goes as made, and a refusal names the limit again). The same decision when nothing changes.
 */
function withinPlatformLimit(
  decision: Decision,
  current: number,
  nowMs: number,
): { decision: Decision; limit?: number } {
  const kept = (decision.state as ProcessRecord).platformLimit;
  if (!kept) return { decision };
  if (nowMs - kept.since >= PLATFORM_LIMIT_RETRY_MS) {
    const { platformLimit: _, ...state } = decision.state as ProcessRecord;
    return { decision: { ...decision, state } };
  }
  if (decision.target <= kept.limit || decision.target <= current) return { decision };
  return { decision: capAtLimit(decision, kept.limit, current), limit: kept.limit };
}

/** A scale-up held at the platform's limit: up to it, or a hold when already there. */
function capAtLimit(decision: Decision, limit: number, current: number): Decision {
  const why = `the platform runs at most ${plural(limit, "process", "processes")} of this type (dyno-limit)`;
  const { bounds, state, conditions } = decision;
  if (current >= limit)
    return makeDecision("hold", current, `${why}; ${policyWould(decision)}`, bounds, state, conditions);
  return makeDecision(
    "up",
    limit,
    `${decision.reason}; capped at ${limit}: ${why}`,
    bounds,
    state,
    conditions,
  );
}

/**
 * The step once the platform refused a scale past its limit of `limit` processes and the scale
 * was capped there (src/scale/session.ts): the limit kept in the record, the decision within it,
 * and the dyno-limit condition found.
 */
export function limitStep(step: Step, input: StepInput, limit: number): Step {
  const { decision } = step;
  if (!decision || typeof input.current !== "number") return step;
  const record: ProcessRecord = { ...step.record, platformLimit: { limit, since: input.now.toMillis() } };
  const capped = capAtLimit({ ...decision, state: record }, limit, input.current);
  return {
    ...step,
    decision: capped,
    record,
    signals: [...step.signals, { kind: "dyno-limit", limit, decision: capped }],
    evaluated: step.evaluated.includes("dyno-limit") ? step.evaluated : [...step.evaluated, "dyno-limit"],
  };
}

/**
 * Pause and manual override, before the decision: a resume to announce, a pause that ended by
 * itself (announced as a resume), a new pause to announce, an override that ran out, and a count
 * set by hand (differing from the one the last tick read or set, with no scale of ours in flight):
 * announced as manual-scale, and held for manualOverrideMinutes unless paused. The count read is
 * kept as the one seen. A record with nothing new is the same object (the simulator's minutes).
 */
function steerRecord(
  record: ProcessRecord,
  config: ProcessConfig,
  current: number,
  nowMs: number,
  scaleInFlight: boolean,
): { record: ProcessRecord; signals: Signal[] } {
  const signals: Signal[] = [];
  let { resumed, paused, override } = record;
  if (resumed) {
    signals.push({ kind: "resume", since: resumed.since, by: resumed.by });
    resumed = undefined;
  }
  if (paused?.until !== undefined && paused.until <= nowMs) {
    // A pause no tick announced is not announced as ended either.
    if (paused.announced) signals.push({ kind: "resume", since: paused.since, by: "expired" });
    paused = undefined;
  }
  if (paused && !paused.announced) {
    signals.push({ kind: "pause", until: paused.until, processes: paused.processes, by: paused.by });
    paused = { ...paused, announced: true };
  }
  if (override && override.until <= nowMs) override = undefined;
  const seen = record.lastSeenCount;
  if (seen !== undefined && seen !== current && !scaleInFlight) {
    const minutes = config.manualOverrideMinutes;
    // While paused nothing is scaled anyway; a resume hands the count back to the decision.
    override =
      paused || minutes === 0 ? undefined : { since: nowMs, until: nowMs + minutes * 60_000, count: current };
    signals.push({ kind: "manual-scale", from: seen, to: current, until: override?.until });
  }
  if (
    resumed === record.resumed &&
    paused === record.paused &&
    override === record.override &&
    seen === current
  )
    return { record, signals };
  // Set one by one, as in `measured`.
  const { resumed: _r, paused: _p, override: _o, lastSeenCount: _l, ...rest } = record;
  const next: ProcessRecord = rest;
  if (paused) next.paused = paused;
  if (override) next.override = override;
  next.lastSeenCount = current;
  return { record: next, signals };
}

/** The load conditions a decision judges when nothing steers it (one array for every tick). */
const LOAD_CONDITIONS: readonly LastingKind[] = [
  "above-max",
  "below-min",
  "fail-safe",
  "scale-down-held-busy",
];

/**
 * The policy's decision under a pause or a manual override. Paused: held (or, with a count, scaled
 * there once), whatever the policy or the fail-safe says, and no load condition starts or ends.
 * Overridden: held at the count set by hand, even outside the bounds, except that the fail-safe
 * still scales out (which ends the override). `conditions`: the load conditions this tick judged.
 */
function steerDecision(
  policy: Decision,
  config: ProcessConfig,
  reading: Reading | null,
  current: number,
): { decision: Decision; conditions: readonly LastingKind[] } {
  // The decision's state is the record handed to it, its reading recorded.
  let state: ProcessRecord = policy.state;
  const { paused, override } = state;
  const { bounds } = policy;
  if (paused) {
    const target = paused.processes;
    if (target !== undefined && !paused.applied) {
      if (current !== target) {
        const why = `paused at ${plural(target, "process", "processes")}: scaling there once, then holding`;
        return {
          decision: makeDecision(target > current ? "up" : "down", target, why, bounds, state),
          conditions: [],
        };
      }
      state = { ...state, paused: { ...paused, applied: true } };
    }
    const why = `paused${until(paused.until)}; ${policyWould(policy)}`;
    return { decision: makeDecision("hold", current, why, bounds, state), conditions: [] };
  }
  if (!override)
    return {
      decision: policy,
      conditions: LOAD_CONDITIONS,
    };
  const failSafe = reading ? failSafeMove(config.decision, reading, bounds) : null;
  if (failSafe && current < failSafe.target) {
    const { override: _, ...rest } = state;
    const why = `${failSafe.why} (this ends the manual override)`;
    return {
      decision: makeDecision("up", failSafe.target, why, bounds, rest, ["fail-safe"]),
      conditions: ["fail-safe"],
    };
  }
  const held = `manual override: holding the ${current} set by hand${until(override.until)}`;
  const why = failSafe
    ? `${failSafe.why}; already at ${current} (${held})`
    : `${held}; ${policyWould(policy)}`;
  return {
    decision: makeDecision("hold", current, why, bounds, state, failSafe ? ["fail-safe"] : []),
    conditions: ["fail-safe"],
  };
}

const utc = (at: number) => `${new Date(at).toISOString().slice(0, 16).replace("T", " ")} UTC`;
const until = (at: number | undefined) => (at === undefined ? "" : ` until ${utc(at)}`);

const policyWould = (policy: Decision) =>
  policy.action === "hold"
    ? `the policy holds: ${policy.reason}`
    : `the policy would scale ${policy.action} to ${policy.target}: ${policy.reason}`;

/**
 * The record after a measurement: when it was taken (only processes measured less often than
 * every tick need that) and the failures in a row (only while there are some). A record with
 * nothing new is the same object: the simulator takes this step every minute of a long replay.
 */
function measured(
  record: ProcessRecord,
  config: ProcessConfig,
  at: number | undefined,
  failedReadings: number,
): ProcessRecord {
  const lastMeasuredAt = config.intervalSeconds > 60 ? at : undefined;
  if (record.lastMeasuredAt === lastMeasuredAt && (record.failedReadings ?? 0) === failedReadings)
    return record;
  // Fields set one by one: spreading `...(cond ? { field } : {})` into the new record gave it a
  // hidden class of its own every time, and a replay's records then reached 100 and more.
  const { lastMeasuredAt: _at, failedReadings: _failed, ...rest } = record;
  const next: ProcessRecord = rest;
  if (lastMeasuredAt !== undefined) next.lastMeasuredAt = lastMeasuredAt;
  if (failedReadings > 0) next.failedReadings = failedReadings;
  return next;
}

/** The record and signals once the decision was carried out (or not). */
export function settleStep(step: Step, input: StepInput, outcome: ScaleOutcome): Step {
  const { decision } = step;
  if (!decision || typeof input.current !== "number") return step;
  const current = input.current;
  const at = input.now.toMillis();
  let record = step.record;
  const { notification } = input.config;
  if (!outcome) {
    const tooRapid = tooRapidReason(notification, record.scales, at);
    if (!tooRapid) return step;
    return { ...step, signals: [...step.signals, { kind: "too-rapid", why: tooRapid, to: current }] };
  }
  const signals = [...step.signals];
  const evaluated = [...step.evaluated];
  const warnings = [...step.warnings];
  if ("to" in outcome) {
    record = withoutPlatformFailure(withScale(record, { at, from: current, to: outcome.to }, warnings));
    record.lastSeenCount = outcome.to;
    // Paused with a count: the one scale there is made.
    if (record.paused?.processes !== undefined) record.paused = { ...record.paused, applied: true };
    signals.push({ kind: "scale", from: current, to: outcome.to, decision, reading: input.reading });
    evaluated.push("scale-failed"); // a scale tried tells whether scaling works
  } else {
    // The history is kept, so the same decision is taken, and the scale tried, again next tick.
    record = { ...record, platformFailure: "scale" };
    if (outcome.error.unclear) record.pendingScale = { at, from: current, to: decision.target };
    signals.push({ kind: "scale-failed", error: outcome.error, decision });
    evaluated.push("scale-failed");
  }
  const tooRapid = tooRapidReason(notification, record.scales, at);
  if (tooRapid)
    signals.push({ kind: "too-rapid", why: tooRapid, to: "to" in outcome ? outcome.to : current });
  return { ...step, record, signals, evaluated, warnings };
}

/**
 * How far back the process's rules read its scale records: the too-rapid windows and the
 * policy's own (target tracking's longest policy period). Cool-downs read `lastScaleAt` alone.
 */
function scaleRecordsWindowMs(config: ProcessConfig): number {
  let windowMs = scaleRecordsWindows.get(config);
  if (windowMs === undefined) {
    const { tooRapidPeriodMinutes, scaleDiffThreshold, scaleDiffPeriodMinutes } = config.notification;
    const diffMinutes = scaleDiffThreshold === undefined ? 0 : (scaleDiffPeriodMinutes ?? 0);
    windowMs = Math.max(
      Math.max(tooRapidPeriodMinutes, diffMinutes) * 60_000,
      decisionScaleRecordsMs(config.decision),
    );
    scaleRecordsWindows.set(config, windowMs);
  }
  return windowMs;
}

/** Once per config object: a replay asks every minute, with the same one. */
const scaleRecordsWindows = new WeakMap<ProcessConfig, number>();

/** The record without the scale records no rule reads any more; the same object when none expired. */
function withScaleRecordsKept(record: ProcessRecord, config: ProcessConfig, nowMs: number): ProcessRecord {
  const scales = keepScaleRecords(record.scales, scaleRecordsWindowMs(config), nowMs);
  // Object.assign, not a spread: see `record` in src/decide/common.ts.
  return scales === record.scales ? record : Object.assign({}, record, { scales });
}

/**
 * The record after a scale (recordScale). The records held are all within the rules' windows
 * (planStep dropped the others), so one dropped by the cap is one a rule still reads: said in
 * the report, as the state stays small rather than complete.
 */
function withScale<Record extends ProcessRecord>(
  record: Record,
  scale: ScaleRecord,
  warnings: string[],
): Record {
  const next = recordScale(record, scale);
  if (record.scales.length >= MAX_SCALE_RECORDS)
    warnings.push(
      `the newest ${MAX_SCALE_RECORDS} scale records are kept, the most a process keeps: the too-rapid and scaling-policy rules see back to ${utc(next.scales[0]!.at)} (every scale is in the history)`,
    );
  return next;
}

/**
 * What the process notifies on: one-off signals as they come, lasting conditions when they
 * start, repeat and end; their bookkeeping goes into the record.
 */
export function trackNotices(step: Step, input: StepInput): { record: ProcessRecord; signals: Signal[] } {
  const { notification } = input.config;
  const wanted = step.signals.filter((s) => notification.notifyOn.includes(s.kind));
  // Nothing lasting is found or open: nothing to track (most minutes of a replay).
  if (!step.record.notices && !wanted.some((s) => isLasting(s.kind)))
    return { record: step.record, signals: wanted };
  const tracked = trackConditions<Signal>({
    active: wanted.filter((s) => isLasting(s.kind)),
    evaluated: step.evaluated,
    notices: step.record.notices ?? {},
    now: input.now.toMillis(),
    repeatAfterMs: notification.repeatAfterMinutes * 60_000,
    // A failure is over at the first success; a load condition must stay away a while.
    resolveAfterMs: (kind) =>
      kind === "scale-failed" || kind === "measurement-failed"
        ? 0
        : notification.resolveAfterMinutes * 60_000,
    resolved: (kind, since) => ({ kind, resolvedSince: since }),
  });
  // A condition no longer notified on (notifyOn changed) is dropped, not announced as resolved.
  const signals = [...wanted.filter((s) => !isLasting(s.kind)), ...tracked.events].filter((s) =>
    notification.notifyOn.includes(s.kind),
  );
  if (tracked.notices === step.record.notices) return { record: step.record, signals };
  // Copied without `delete` and by Object.assign: both would give the record a hidden class of its own.
  const { notices: _, ...rest } = step.record;
  const record: ProcessRecord =
    Object.keys(tracked.notices).length === 0 ? rest : Object.assign(rest, { notices: tracked.notices });
  return { record, signals };
}

function withoutPlatformFailure<Record extends ProcessRecord>(record: Record): Record {
  if (record.platformFailure === undefined) return record;
  const { platformFailure: _, ...rest } = record;
  return rest as Record;
}
