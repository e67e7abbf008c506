import type { DateTime } from "luxon";
import type { HistoryEntry } from "../decide/index.js";
import type { Decision } from "../decide/index.js";
import type { Reading } from "../measure/index.js";
import type { ScaleError } from "../scale/index.js";
import { plural } from "../kit/plural.js";
import type { LastingKind } from "./conditions.js";
import type { AutoscaleEvent, EventKind } from "./events.js";

/** How many recent readings an event carries as its "why". */
const READINGS_SHOWN = 10;

/** What an admin can do about each condition (a failed scale: its backend's own advice). */
const ADVICE: Record<
  Exclude<LastingKind, "scale-failed">,
  (context: { max?: number; min?: number }) => string
> = {
  "above-max": ({ max }) => `raise maxProcesses (now ${max}) if the load is real, or make the app faster`,
  "below-min": ({ min }) => `lower minProcesses (now ${min}) to save cost, if the quiet spells are typical`,
  "too-rapid": () =>
    "look for flapping: widen the gap between minMeasurement and maxMeasurement, or lengthen the cool-downs",
  "fail-safe": () => "check the app: it is down or slower than failSafe.maxMs",
  "measurement-failed": () =>
    "check the measurement: the heartbeat URL, or the queue broker and its URL variable",
  "dyno-limit": ({ max }) =>
    `ask the platform to raise the limit (Heroku: a support request, or a dyno size with a higher limit), or set maxProcesses to ${max} to stop asking for more`,
  "scale-down-held-busy": () =>
    "nothing to do if the jobs are short; for an app that finishes its jobs on SIGTERM, holdScaleDownWhileBusy: false lets it scale down at once",
};

const RESOLVED: Record<LastingKind, string> = {
  "above-max": "no longer needs more than the maximum",
  "below-min": "no longer could run below the minimum",
  "too-rapid": "scaling has calmed down",
  "fail-safe": "the app is answering in time again",
  "measurement-failed": "measurements succeed again",
  "scale-failed": "the platform API accepts requests again",
  "dyno-limit": "no longer needs more than the platform's limit",
  "scale-down-held-busy": "no scale-down is held for jobs in progress any more",
};

export function eventFactory(process: string, tickId: string, now: DateTime) {
  const base = { process, tickId, at: now.toUTC().toISO()! };
  const make = (kind: EventKind, message: string, extra: Partial<AutoscaleEvent> = {}): AutoscaleEvent => ({
    ...base,
    kind,
    message,
    ...extra,
  });
  const value = (reading: Reading) => ({ value: reading.value, unit: reading.unit });
  const iso = (ms: number) => new Date(ms).toISOString();
  const readings = (history: readonly HistoryEntry[]) =>
    history
      .slice(-READINGS_SHOWN)
      .map((entry) => ({ at: new Date(entry.at).toISOString(), value: entry.value }));

  return {
    measurement: (reading: Reading) =>
      make(
        "measurement",
        reading.ok
          ? `${reading.backend} measured ${reading.value} ${reading.unit}`
          : `${reading.backend} failed: ${reading.error}`,
        value(reading),
      ),
    /** Without a decision: a scale whose request timed out last tick, found applied now. */
    scale: (from: number, to: number, decision: Decision | null, reading: Reading | null) => {
      const reason =
        decision?.reason ?? "the request of the previous tick got no answer, but the platform applied it";
      return make("scale", `scaled ${from} -> ${to}: ${reason}`, {
        ...(reading ? value(reading) : {}),
        from,
        to,
        reason,
        ...(decision ? { readings: readings(decision.state.history) } : {}),
      });
    },
    aboveMax: (decision: Decision, reading: Reading) =>
      make(
        "above-max",
        `needs more than the maximum of ${plural(decision.bounds.max, "process", "processes")}: ${decision.reason}`,
        {
          ...value(reading),
          to: decision.bounds.max,
          reason: decision.reason,
          readings: readings(decision.state.history),
          advice: ADVICE["above-max"]({ max: decision.bounds.max }),
        },
      ),
    belowMin: (decision: Decision, reading: Reading) =>
      make(
        "below-min",
        `could run fewer than the minimum of ${plural(decision.bounds.min, "process", "processes")}: ${decision.reason}`,
        {
          ...value(reading),
          to: decision.bounds.min,
          reason: decision.reason,
          readings: readings(decision.state.history),
          advice: ADVICE["below-min"]({ min: decision.bounds.min }),
        },
      ),
    failSafe: (decision: Decision, reading: Reading) =>
      make("fail-safe", `${decision.reason}; scaling to ${decision.target} at once`, {
        ...value(reading),
        to: decision.target,
        reason: decision.reason,
        advice: ADVICE["fail-safe"]({}),
      }),
    /** `limit`: the most processes the platform runs of this type, as its refusal named it. */
    dynoLimit: (limit: number, decision: Decision) =>
      make(
        "dyno-limit",
        `the platform runs at most ${plural(limit, "process", "processes")} of this type (its dyno limit): ${decision.reason}`,
        { to: limit, reason: decision.reason, advice: ADVICE["dyno-limit"]({ max: limit }) },
      ),
    heldBusy: (decision: Decision, reading: Reading) =>
      make("scale-down-held-busy", decision.reason, {
        ...value(reading),
        reason: decision.reason,
        advice: ADVICE["scale-down-held-busy"]({}),
      }),
    tooRapid: (why: string, to: number) =>
      make("too-rapid", `scaling too rapidly: ${why}`, { to, reason: why, advice: ADVICE["too-rapid"]({}) }),
    measurementFailed: (count: number, reading: Reading) =>
      make(
        "measurement-failed",
        `${plural(count, "failed measurement")} in a row; the last: ${reading.error}`,
        {
          ...value(reading),
          reason: reading.error,
          advice: ADVICE["measurement-failed"]({}),
        },
      ),
    /** `advice` comes from the scaling backend: only it knows its platform. */
    scaleFailed: (error: ScaleError, advice: string, decision?: Decision) =>
      make("scale-failed", `platform API error ${error.id}: ${error.message}`, {
        error: { id: error.id, message: error.message },
        ...(decision ? { to: decision.target, reason: decision.reason } : {}),
        advice,
      }),
    /** `processes`: the count it is scaled to once, then held at. */
    pause: (pause: { until?: number | undefined; processes?: number | undefined; by?: string | undefined }) =>
      make(
        "pause",
        `paused${pause.by ? ` by ${pause.by}` : ""}: measured but not scaled` +
          (pause.processes === undefined
            ? ""
            : `, held at ${plural(pause.processes, "process", "processes")}`) +
          (pause.until === undefined ? " until resumed" : ` until ${iso(pause.until)}`),
        {
          ...(pause.processes === undefined ? {} : { to: pause.processes }),
          ...(pause.until === undefined ? {} : { until: iso(pause.until) }),
          ...(pause.by ? { by: pause.by } : {}),
          advice: "resume it with `autoscalebot resume --process NAME` or POST /api/resume",
        },
      ),
    /** `by`: who resumed it, or `expired` when the pause ended by itself. */
    resume: (since: number, by: string) =>
      make(
        "resume",
        by === "expired"
          ? `the pause since ${iso(since)} ended: deciding again`
          : `resumed by ${by} (paused since ${iso(since)}): deciding again`,
        { by },
      ),
    /** `until`: when the manual override ends; absent with manualOverrideMinutes 0. */
    manualScale: (from: number, to: number, until?: number) =>
      make(
        "manual-scale",
        `scaled by hand ${from} -> ${to}` +
          (until === undefined
            ? ": taken as the current count"
            : `: held there until ${iso(until)} (the fail-safe may still scale out), then deciding again`),
        { from, to, ...(until === undefined ? {} : { until: iso(until) }) },
      ),
    resolved: (kind: LastingKind, since: number) =>
      make(kind, `resolved: ${RESOLVED[kind]} (since ${new Date(since).toISOString()})`),
  };
}
export type EventFactory = ReturnType<typeof eventFactory>;
