import { DateTime } from "luxon";
import { median } from "./baselines.js";
import type { SimulationSettings } from "./schema.js";
import type { Summary } from "./summary.js";
import { formatTime, traceNotes, type Trace } from "./trace.js";
import { plural } from "../kit/plural.js";

/** What a simulation reports: the trace, the model, and one summary per policy and baseline. */
export interface SimulationReport {
  process: string;
  trace: {
    source: string;
    minutes: number;
    from: string;
    to: string;
    zone: string;
    speedup: number;
    intervalSeconds: number;
    rateMultiplier: number;
    /** Requests per minute after rateMultiplier. */
    peakPerMinute: number;
    medianPerMinute: number;
    /** Days at the start replayed but not counted (simulation.warmupDays): the results are of the minutes after. */
    warmup?: { days: number; minutes: number; countedFrom: string };
    notes: string[];
  };
  model: SimulationSettings;
  results: Summary[];
}

export function buildReport(
  process: string,
  trace: Trace,
  settings: SimulationSettings,
  results: Summary[],
  warmup: { days: number; minutes: number } = { days: 0, minutes: 0 },
): SimulationReport {
  const rates = trace.requests.map((r) => r * settings.rateMultiplier);
  const n = trace.traceMs.length;
  const countedFrom = warmup.minutes > 0 ? formatTime(trace.traceMs[warmup.minutes]!, trace.zone) : null;
  return {
    process,
    trace: {
      source: trace.source,
      minutes: n,
      from: formatTime(trace.traceMs[0]!, trace.zone),
      to: formatTime(trace.traceMs[n - 1]!, trace.zone),
      zone: trace.zone,
      speedup: trace.speedup,
      intervalSeconds: trace.intervalSeconds,
      rateMultiplier: settings.rateMultiplier,
      peakPerMinute: Math.round(rates.reduce((a, b) => Math.max(a, b), 0)),
      medianPerMinute: Math.round(median(rates)),
      ...(countedFrom === null ? {} : { warmup: { ...warmup, countedFrom } }),
      notes: traceNotes(trace),
    },
    model: settings,
    results,
  };
}

const thousands = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const formatMs = (ms: number): string =>
  ms >= 10_000
    ? `${(ms / 1000).toFixed(1)} s`
    : ms >= 1000
      ? `${(ms / 1000).toFixed(2)} s`
      : `${Math.round(ms)} ms`;

const percent = (share: number) =>
  share === 0 ? "0%" : share < 0.001 ? "<0.1%" : `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;

/** A plain-text table: one row per policy and baseline, columns right-aligned. */
export function formatTable(results: Summary[], settings: SimulationSettings, zone: string): string {
  const header = [
    "policy",
    "proc-hours",
    "x oracle",
    "cost",
    "min > SLO",
    `worst ${settings.sloMetric}`,
    "at",
    "late requests",
    "dropped",
    "scales",
    "flaps",
  ];
  const rows = results.map((s) => [
    s.label,
    thousands(s.processHours, 1),
    s.vsOracle === null ? "-" : `${s.vsOracle.toFixed(2)}x`,
    `$${thousands(s.cost, 2)}`,
    thousands(s.minutesOverSlo),
    s.worst ? formatMs(s.worst.latencyMs) : "-",
    s.worst ? DateTime.fromISO(s.worst.traceAt, { zone }).toFormat("MM-dd HH:mm") : "-",
    `${thousands(s.lateRequests)} (${percent(s.lateShare)})`,
    `${thousands(s.droppedRequests)} (${percent(s.droppedShare)})`,
    s.kind === "baseline" && s.scales === 0 ? "-" : thousands(s.scales),
    s.kind === "baseline" && s.scales === 0 ? "-" : thousands(s.flaps),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** The whole text report: what was simulated, the table, and what each row is. */
export function formatReport(report: SimulationReport): string {
  const { trace, model } = report;
  const speed =
    trace.speedup > 1
      ? `, compressed ${trace.speedup}x (a simulated minute = ${trace.speedup} trace minutes)`
      : "";
  const lines = [
    `trace: ${trace.source}, ${plural(trace.minutes, "minute", "minutes", thousands(trace.minutes))} from ${trace.from} to ${trace.to} (${trace.zone})${speed}`,
    `load: x${model.rateMultiplier}, median ${thousands(trace.medianPerMinute)}/min, peak ${thousands(trace.peakPerMinute)}/min`,
    `model: ${model.routing === "random" ? "random routing (a queue per process)" : "shared queue"}, ` +
      `${thousands(model.capacityPerProcess)} requests/min per process, ${model.serviceTimeMs} ms service, ` +
      `${model.queueing === "mmc" ? `${model.routing === "random" ? "M/M/1" : "M/M/c"} waiting + fluid backlog` : "fluid backlog"}, ` +
      `router timeout ${model.routerTimeoutSeconds} s, boot ${model.bootSeconds} s`,
    `SLO ${model.sloMetric} <= ${model.sloMs} ms; $${model.pricePerProcessHour}/process-hour; heartbeat service time ${model.serviceTimeMs} ± ${model.noise.stddevMs} ms (seed ${model.noise.seed})`,
    `process: ${report.process}`,
    "",
    ...(trace.warmup
      ? [
          `counted from ${trace.warmup.countedFrom}: the first ${plural(trace.warmup.days, "day")} (${thousands(trace.warmup.minutes)} minutes) are a warm-up, replayed but not in the table`,
        ]
      : []),
    formatTable(report.results, model, trace.zone),
    "",
    ...report.results.map((s) => `${s.label}: ${s.description}${extras(s)}`),
  ];
  if (trace.notes.length > 0) lines.push("", ...trace.notes.map((n) => `note: ${n}`));
  return lines.join("\n");
}

function extras(s: Summary): string {
  const parts: string[] = [];
  if (s.kind === "policy" || s.scales > 0)
    parts.push(`${s.scaleUps} up, ${s.scaleDowns} down, max ${s.maxProcesses}`);
  if (s.failedReadings > 0) parts.push(plural(s.failedReadings, "failed heartbeat"));
  if (s.failSafes > 0) parts.push(`fail-safe ${plural(s.failSafes, "time")}`);
  if (s.aboveMax > 0) parts.push(`held at the maximum ${plural(s.aboveMax, "time")}`);
  if (s.backlogAtEnd > 0) {
    const queued = plural(Math.round(s.backlogAtEnd), "request", "requests", thousands(s.backlogAtEnd));
    parts.push(`${queued} still queued at the end`);
  }
  return parts.length > 0 ? ` (${parts.join("; ")})` : "";
}
