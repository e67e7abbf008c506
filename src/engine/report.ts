import type { Action } from "../decide/index.js";
import type { Reading } from "../measure/index.js";
import type { EventKind } from "../notify/index.js";
import type { OverrideView, PauseView } from "./process-record.js";
import { plural } from "../kit/plural.js";

/**
 * One JSON object per tick: the same from the CLI (`--json`), the trigger and the scheduled
 * log. Built only from readings, decisions and API error bodies, so no secret can enter it.
 */
export interface TickReport {
  tickId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  dryRun: boolean;
  store: string;
  /** Set when the tick did not run: another tick holds the lock. */
  skipped?: "locked";
  /**
   * The store failed, or the state was not saved: the save was refused because this tick's lock
   * had expired (a newer tick's state is kept), or got no clear answer (the lock is kept).
   */
  error?: string;
  warnings: string[];
  processes: ProcessReport[];
}

/** `waiting`: measured less often than every tick, and not due yet. */
export type ProcessStatus = "held" | "scaled" | "would-scale" | "waiting" | "error" | "timeout";

export interface ProcessReport {
  process: string;
  status: ProcessStatus;
  reading: Reading | null;
  current: number | null;
  decision: { action: Action; target: number; reason: string; min: number; max: number } | null;
  scaled?: { from: number; to: number };
  /** `advice`: what to do about it, from the backend that failed. */
  error?: { id: string; message: string; advice?: string };
  /** Paused after this tick (autoscalebot pause, POST /api/pause): measured, not scaled. */
  paused?: PauseView;
  /** Held at a count set by hand after this tick (manualOverrideMinutes). */
  override?: OverrideView;
  /** This tick found the count changed by hand, from the one the last tick saw or set. */
  manual?: { from: number; to: number };
  notified: EventKind[];
  warnings: string[];
}

/** Whether anything in the tick went wrong (the CLI's exit code, the trigger's status). */
export function tickFailed(report: TickReport): boolean {
  return (
    report.error !== undefined || report.processes.some((p) => p.status === "error" || p.status === "timeout")
  );
}

function describeReading(reading: Reading | null): string {
  if (!reading) return "no reading";
  const value =
    reading.value === null
      ? "-"
      : reading.unit === "jobs"
        ? plural(reading.value, "job")
        : `${reading.value} ${reading.unit}`;
  return reading.ok ? value : `${value} (failed: ${reading.error ?? "unknown"})`;
}

/** The CLI's human summary: one line per process. */
export function formatReport(report: TickReport): string {
  const head = `tick ${report.tickId} ${report.startedAt} (${report.durationMs} ms${report.dryRun ? ", dry run" : ""}, store: ${report.store})`;
  if (report.skipped) return `${head}: skipped, another tick holds the lock`;
  if (report.error) return `${head}: failed: ${report.error}`;
  const lines = report.processes.map((p) => {
    const parts = [`  ${p.process}: ${p.status}`, describeReading(p.reading)];
    if (p.current !== null) parts.push(`processes ${p.current}${p.scaled ? ` -> ${p.scaled.to}` : ""}`);
    if (p.decision)
      parts.push(
        `${p.decision.action} to ${p.decision.target} [${p.decision.min}-${p.decision.max}]: ${p.decision.reason}`,
      );
    if (p.error) parts.push(`error ${p.error.id}: ${p.error.message}`);
    const line = parts.join(" | ");
    return p.error?.advice ? `${line}\n    what to do: ${p.error.advice}` : line;
  });
  return [head, ...lines, ...report.warnings.map((w) => `  warning: ${w}`)].join("\n");
}
