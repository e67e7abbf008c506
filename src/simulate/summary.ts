import { DateTime } from "luxon";
import type { Run } from "./replay.js";
import type { SimulationSettings } from "./schema.js";

/** The label of the physical floor every row is measured against (src/simulate/baselines.ts). */
export const ORACLE_LABEL = "oracle";

/** Two scales in opposite directions this close together are a flap. */
export const FLAP_WINDOW_MS = 10 * 60_000;

/** The figures the simulator reports per policy or baseline. */
export interface Summary {
  label: string;
  kind: Run["kind"];
  description: string;
  minutes: number;
  /** Requests that arrived (after rateMultiplier). */
  requests: number;
  /** Process-minutes / 60: booting processes are billed. */
  processHours: number;
  /** processHours × pricePerProcessHour. */
  cost: number;
  meanProcesses: number;
  maxProcesses: number;
  sloMs: number;
  sloMetric: SimulationSettings["sloMetric"];
  /** Minutes whose latency (on the SLO's metric) is above sloMs. */
  minutesOverSlo: number;
  /** The minute with the highest latency on the SLO's metric. */
  worst: { at: string; traceAt: string; latencyMs: number; processes: number; requests: number } | null;
  /** Requests answered, but slower than sloMs (the model's share per minute × its arrivals). */
  lateRequests: number;
  lateShare: number;
  /** Requests dropped: not answered within the router's timeout, or no process up to take them. */
  droppedRequests: number;
  droppedShare: number;
  /** Scale events. */
  scales: number;
  scaleUps: number;
  scaleDowns: number;
  /** Scales in the opposite direction to the one before, within 10 minutes of it. */
  flaps: number;
  /** Failed heartbeats, fail-safe and held-at-maximum decisions: of the whole replay, a warm-up included. */
  failedReadings: number;
  failSafes: number;
  aboveMax: number;
  /** Requests still queued when the trace ends. */
  backlogAtEnd: number;
  /** processHours as a multiple of the oracle's (null: no oracle in the comparison). */
  vsOracle: number | null;
}

export interface SummaryOptions {
  /** Zone of the policy's clock (the config's). */
  zone: string;
  /** Zone of the trace's own wall clock. */
  traceZone: string;
  /** The first minute counted (the ones before are a warm-up: replayed, not counted). */
  from?: number;
}

const round = (n: number, digits = 2) => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

export function countFlaps(scales: Run["scales"]): number {
  let flaps = 0;
  for (let i = 1; i < scales.length; i++) {
    const before = scales[i - 1]!;
    const scale = scales[i]!;
    const up = scale.to > scale.from;
    const wasUp = before.to > before.from;
    if (up !== wasUp && scale.at - before.at <= FLAP_WINDOW_MS) flaps++;
  }
  return flaps;
}

/** Each summary's process-hours as a multiple of the oracle's, when the oracle is among them. */
export function relateToOracle(summaries: Summary[]): void {
  const oracle = summaries.find((s) => s.kind === "baseline" && s.label === ORACLE_LABEL);
  if (!oracle || oracle.processHours <= 0) return;
  for (const s of summaries) s.vsOracle = round(s.processHours / oracle.processHours);
}

export function summarize(run: Run, settings: SimulationSettings, options: SummaryOptions): Summary {
  const latency = settings.sloMetric === "p95" ? run.p95Ms : run.meanMs;
  let requests = 0;
  let processMinutes = 0;
  let maxProcesses = 0;
  let over = 0;
  let late = 0;
  let dropped = 0;
  let worst = -1;
  const from = Math.min(options.from ?? 0, run.minutes);
  for (let i = from; i < run.minutes; i++) {
    requests += run.arrivals[i]!;
    processMinutes += run.processes[i]!;
    maxProcesses = Math.max(maxProcesses, run.processes[i]!);
    if (latency[i]! > settings.sloMs) over++;
    late += run.arrivals[i]! * run.lateShare[i]!;
    dropped += run.arrivals[i]! * run.droppedShare[i]!;
    if (worst < 0 || latency[i]! > latency[worst]!) worst = i;
  }
  const counted = from === 0 ? run.scales : run.scales.filter((s) => s.at >= run.startMs[from]!);
  const minutes = run.minutes - from;
  const ups = counted.filter((s) => s.to > s.from).length;
  const processHours = processMinutes / 60;
  const at = (ms: number, zone: string) =>
    DateTime.fromMillis(ms, { zone }).toISO({ suppressMilliseconds: true }) ?? "";
  return {
    label: run.label,
    kind: run.kind,
    description: run.description,
    minutes,
    requests: Math.round(requests),
    processHours: round(processHours),
    cost: round(processHours * settings.pricePerProcessHour),
    meanProcesses: round(minutes > 0 ? processMinutes / minutes : 0),
    maxProcesses,
    sloMs: settings.sloMs,
    sloMetric: settings.sloMetric,
    minutesOverSlo: over,
    worst:
      worst < 0
        ? null
        : {
            at: at(run.startMs[worst]!, options.zone),
            traceAt: at(run.traceMs[worst]!, options.traceZone),
            latencyMs: Math.round(latency[worst]!),
            processes: run.processes[worst]!,
            requests: round(run.arrivals[worst]!, 1),
          },
    lateRequests: Math.round(late),
    lateShare: requests > 0 ? round(late / requests, 5) : 0,
    droppedRequests: Math.round(dropped),
    droppedShare: requests > 0 ? round(dropped / requests, 5) : 0,
    scales: counted.length,
    scaleUps: ups,
    scaleDowns: counted.length - ups,
    flaps: countFlaps(counted),
    failedReadings: run.failedReadings,
    failSafes: run.failSafes,
    aboveMax: run.aboveMax,
    backlogAtEnd: Math.round(minutes > 0 ? run.backlog[run.minutes - 1]! : 0),
    vsOracle: null,
  };
}
