import type { Config } from "../config/schema.js";
import type { StateStore } from "../state/index.js";
import type { ProcessReport, TickReport } from "./report.js";

/** Ticks a day: the scheduled function runs every minute. */
const TICKS_PER_DAY = 24 * 60;

/** One process in a tick's history entry: what the dashboard and `status` chart, nothing secret. */
export interface HistoryPoint {
  process: string;
  status: ProcessReport["status"];
  /** The reading's value, or null when it failed or none was taken. */
  value: number | null;
  unit?: string;
  /** Why the reading failed. */
  failed?: string;
  current: number | null;
  min?: number;
  max?: number;
  action?: string;
  target?: number;
  reason?: string;
  scaled?: { from: number; to: number };
  error?: string;
  notified: string[];
  /** Paused at this tick: until when (ISO 8601, absent: until resumed), and the count held. */
  paused?: { until?: string; processes?: number };
  /** Held at a count set by hand at this tick, until when. */
  override?: { until: string; count: number };
  /** This tick found the count changed by hand. */
  manual?: { from: number; to: number };
}

export interface HistoryEntry {
  at: string;
  tickId: string;
  processes: HistoryPoint[];
}

/** The tick's report, compacted to what history keeps. */
export function historyEntry(report: TickReport): HistoryEntry {
  return {
    at: report.startedAt,
    tickId: report.tickId,
    processes: report.processes.map((p) => ({
      process: p.process,
      status: p.status,
      value: p.reading?.ok ? p.reading.value : null,
      ...(p.reading ? { unit: p.reading.unit } : {}),
      ...(p.reading && !p.reading.ok && p.reading.error ? { failed: p.reading.error } : {}),
      current: p.current,
      ...(p.decision
        ? {
            min: p.decision.min,
            max: p.decision.max,
            action: p.decision.action,
            target: p.decision.target,
            reason: p.decision.reason,
          }
        : {}),
      ...(p.scaled ? { scaled: p.scaled } : {}),
      ...(p.error ? { error: p.error.id } : {}),
      notified: p.notified,
      ...(p.paused
        ? {
            paused: {
              ...(p.paused.until ? { until: p.paused.until } : {}),
              ...(p.paused.processes === undefined ? {} : { processes: p.paused.processes }),
            },
          }
        : {}),
      ...(p.override ? { override: { until: p.override.until, count: p.override.count } } : {}),
      ...(p.manual ? { manual: p.manual } : {}),
    })),
  };
}

/**
 * Appends the tick to the store's history (one command whatever the number of processes),
 * keeping `history.retentionDays` of ticks. A failure is the tick's warning, never its error.
 */
export async function recordHistory(config: Config, store: StateStore, report: TickReport): Promise<void> {
  const days = config.history.retentionDays;
  if (days === 0 || report.processes.length === 0) return;
  try {
    await store.appendHistory(JSON.stringify(historyEntry(report)), days * TICKS_PER_DAY);
  } catch (error) {
    report.warnings.push(`history write failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
