import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { DateTime } from "luxon";
import type { Clock } from "../kit/clock.js";
import { storeReserveMs, type Config } from "../config/schema.js";
import { emptyProcessRecord, type ProcessRecord } from "./process-record.js";
import { createNotifiers, type Notifiers } from "../notify/index.js";
import { tickProcess, type ProcessProgress, type ProcessTickResult } from "./process-tick.js";
import type { ProcessReport, TickReport } from "./report.js";
import { recordHistory } from "./history.js";
import { pingMonitor } from "./monitor.js";
import { tickFailed } from "./report.js";
import { decodeState, encodeState } from "./state-document.js";
import type { StateStore } from "../state/index.js";
import { LOCK_MARGIN_MS, withTickLock } from "./tick-lock.js";
import type { Env } from "../kit/env.js";

export interface TickDeps {
  clock: Clock;
  store: StateStore;
  env: Env;
  notifiers?: Partial<Notifiers>;
}

export interface TickOptions {
  /** Only these processes (default: all configured). */
  processes?: string[];
  /** Decide and notify, but neither scale nor write state. */
  dryRun?: boolean;
}

/**
 * One tick: lock → load → every process at once → save → history → unlock. The store sees five
 * commands whatever the number of processes; a process that misses the deadline is reported as timed
 * out while the others complete and state is still written.
 */
export async function runTick(
  config: Config,
  deps: TickDeps,
  options: TickOptions = {},
): Promise<TickReport> {
  const started = deps.clock.now();
  const wallStart = performance.now();
  const dryRun = options.dryRun ?? false;
  const report: TickReport = {
    tickId: randomUUID().slice(0, 8),
    startedAt: new Date(started).toISOString(),
    finishedAt: "",
    durationMs: 0,
    dryRun,
    store: deps.store.kind,
    warnings: [],
    processes: [],
  };
  const done = () => {
    report.finishedAt = new Date(deps.clock.now()).toISOString();
    report.durationMs = Math.round(performance.now() - wallStart);
    return report;
  };

  const names = selectProcesses(config, options.processes);
  const work = async () => {
    const { state, warning } = decodeState(await deps.store.load());
    if (warning) report.warnings.push(warning);

    // The deadline counts from the tick's start and keeps a reserve for the save and the unlock.
    const budgetMs = Math.max(
      0,
      config.tickDeadlineMs - storeReserveMs(config.tickDeadlineMs) - (performance.now() - wallStart),
    );
    const results = await runProcesses(
      config,
      deps,
      names,
      state.processes,
      started,
      report.tickId,
      dryRun,
      budgetMs,
    );
    report.processes = results.map((r) => r.report);

    if (!dryRun) {
      const next: Record<string, ProcessRecord> = {};
      for (const name of Object.keys(config.processes)) {
        const result = results[names.indexOf(name)];
        next[name] = result?.record ?? state.processes[name] ?? emptyProcessRecord();
      }
      await deps.store.save(encodeState(next, deps.clock.now()));
      await recordHistory(config, deps.store, report);
    }
  };
  try {
    if (dryRun) await work();
    else {
      const ran = await withTickLock(
        deps.store,
        {
          ttlMs: config.tickDeadlineMs + LOCK_MARGIN_MS,
          onReleaseFailure: (error) =>
            report.warnings.push(`lock release failed (it expires by itself): ${String(error)}`),
        },
        work,
      );
      if (!ran) {
        report.skipped = "locked";
        return done();
      }
    }
  } catch (error) {
    report.error = `state store (${deps.store.kind}) failed: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (!dryRun && !report.skipped) await pingMonitor(config, deps.env, report, tickFailed(report));
  return done();
}

function selectProcesses(config: Config, wanted: string[] | undefined): string[] {
  const all = Object.keys(config.processes);
  if (!wanted || wanted.length === 0) return all;
  const unknown = wanted.filter((name) => !all.includes(name));
  if (unknown.length > 0) throw new UnknownProcessError(unknown, all);
  return [...new Set(wanted)];
}

export class UnknownProcessError extends Error {
  constructor(unknown: string[], known: string[]) {
    super(
      `unknown process ${unknown.map((n) => JSON.stringify(n)).join(", ")}; configured: ${known.join(", ")}`,
    );
    this.name = "UnknownProcessError";
  }
}

async function runProcesses(
  config: Config,
  deps: TickDeps,
  names: string[],
  records: Record<string, ProcessRecord>,
  started: number,
  tickId: string,
  dryRun: boolean,
  budgetMs: number,
): Promise<ProcessTickResult[]> {
  const deadline = new AbortController();
  // Every call of every process follows this one signal (src/kit/http.ts adds a listener each).
  setMaxListeners(0, deadline.signal);
  const timer = setTimeout(
    () => deadline.abort(new DOMException(`tick deadline of ${config.tickDeadlineMs} ms`, "TimeoutError")),
    budgetMs,
  );
  const timedOut = new Promise<null>((resolve) =>
    deadline.signal.addEventListener("abort", () => resolve(null)),
  );
  const notifiers = createNotifiers(deps.notifiers);
  const now = DateTime.fromMillis(started, { zone: config.timezone });
  try {
    return await Promise.all(
      names.map(async (name) => {
        const record = records[name] ?? emptyProcessRecord();
        const progress: ProcessProgress = {};
        const run = tickProcess({
          name,
          config: config.processes[name]!,
          record,
          now,
          tickId,
          dryRun,
          env: deps.env,
          clock: deps.clock,
          notifiers,
          signal: deadline.signal,
          progress,
        }).catch((error: unknown) => ({
          report: internalErrorReport(name, error),
          record: progress.record ?? record,
        }));
        // A process cut off after its scale went through keeps what it did, or the next tick would scale again.
        return (
          (await Promise.race([run, timedOut])) ?? {
            report: timeoutReport(name, config.tickDeadlineMs, progress),
            record: progress.record ?? record,
          }
        );
      }),
    );
  } finally {
    clearTimeout(timer);
  }
}

function timeoutReport(name: string, deadlineMs: number, progress: ProcessProgress): ProcessReport {
  return {
    process: name,
    status: "timeout",
    reading: null,
    current: null,
    decision: null,
    ...(progress.scaled ? { scaled: progress.scaled } : {}),
    error: { id: "timeout", message: `did not finish within the tick deadline of ${deadlineMs} ms` },
    notified: [],
    warnings: [],
  };
}

/** A bug in one process is that process's error; it never takes the tick or the other processes down. */
function internalErrorReport(name: string, error: unknown): ProcessReport {
  return {
    process: name,
    status: "error",
    reading: null,
    current: null,
    decision: null,
    error: { id: "internal_error", message: error instanceof Error ? error.message : String(error) },
    notified: [],
    warnings: [],
  };
}
