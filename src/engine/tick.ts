import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { DateTime } from "luxon";
import type { Clock } from "../kit/clock.js";
import type { Config } from "../config/schema.js";
import { emptyProcessRecord, type PendingScale, type ProcessRecord } from "./process-record.js";
import { createNotifiers, type Notifiers } from "../notify/index.js";
import {
  finishProcess,
  pendingRecord,
  planProcess,
  scalerFor,
  withBackoff,
  type PlannedProcess,
  type ProcessProgress,
  type ProcessTickInput,
  type ProcessTickResult,
  type ScaleMade,
} from "./process-tick.js";
import { ScaleError, ScalingSession, type Scaler } from "../scale/index.js";
import type { ProcessReport, TickReport } from "./report.js";
import { recordHistory } from "./history.js";
import { pingMonitor } from "./monitor.js";
import { tickFailed } from "./report.js";
import { decodeState, encodeIntents, encodeState } from "./state-document.js";
import { LockLostError, StateStoreError, type StateStore } from "../state/index.js";
import { scrubberFor, type Scrubber } from "../kit/redact.js";
import { within } from "../kit/within.js";
import { LOCK_MARGIN_MS, withTickLock, type HeldLock } from "./tick-lock.js";
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
 * One tick: lock → load → every process measured and decided at once → the scales' intent (one
 * fenced append of their few bytes, only when something scales) → every scale at once → save → history → unlock.
 * The store sees five commands whatever the number of processes, six on a tick that scales;
 * every save is fenced by the lock. A process that misses the deadline is reported as timed out
 * while the others complete and state is still written; the store's own timeout is kept back
 * from the deadline for the save, so the tick returns within `tickDeadlineMs` whatever hangs.
 */
export async function runTick(
  config: Config,
  deps: TickDeps,
  options: TickOptions = {},
): Promise<TickReport> {
  const started = deps.clock.now();
  const wallStart = performance.now();
  const deadlineAt = wallStart + config.tickDeadlineMs;
  const left = () => deadlineAt - performance.now();
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
  // Every secret of the config and the environment, out of the report and every notification.
  const secrets = scrubberFor(deps.env, config);
  const done = () => {
    report.finishedAt = new Date(deps.clock.now()).toISOString();
    report.durationMs = Math.round(performance.now() - wallStart);
    return secrets.deep(report);
  };
  const lockTtlMs = config.tickDeadlineMs + LOCK_MARGIN_MS;

  const names = selectProcesses(config, options.processes);
  const work = async (lock: HeldLock | null) => {
    const { state, warning, newer } = decodeState(await deps.store.load(), started);
    if (warning) report.warnings.push(warning);
    if (newer) {
      // Nothing decided without its state, and nothing written over it.
      report.error = newer.message;
      return;
    }

    // The deadline counts from the tick's start and keeps the store's own timeout for the save.
    const budgetMs = Math.max(0, left() - deps.store.timeoutMs);
    // Every scale's intent in one fenced append before any PATCH: a line of their few bytes.
    const recordIntents = (pending: Record<string, PendingScale>) => lock!.append(encodeIntents(pending));
    const results = await runProcesses(config, deps, names, state.processes, {
      started,
      secrets,
      tickId: report.tickId,
      dryRun,
      budgetMs,
      recordIntents,
    });
    report.processes = results.map((r) => r.report);
    if (!lock) return;

    const next: Record<string, ProcessRecord> = {};
    for (const name of Object.keys(config.processes)) {
      const result = results[names.indexOf(name)];
      next[name] = result?.record ?? state.processes[name] ?? emptyProcessRecord();
    }
    try {
      await lock.save(encodeState(next, deps.clock.now()));
    } catch (error) {
      report.error = saveFailure(error, deps.store, performance.now() - wallStart, lockTtlMs);
      // Without an answer the store is not answering: the history would only spend the deadline.
      if (error instanceof StateStoreError && error.unclear) return;
    }
    if ((await within(recordHistory(config, deps.store, report), left())) === "late")
      report.warnings.push("history write cut off by the tick deadline");
  };
  try {
    if (dryRun) await work(null);
    else {
      const ran = await withTickLock(
        deps.store,
        {
          ttlMs: lockTtlMs,
          onReleaseFailure: (error) =>
            report.warnings.push(`lock release failed (it expires by itself): ${String(error)}`),
          releaseWithinMs: left,
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

/** The tick's error for a save that did not go through: refused by the fence, unanswered, or failed. */
function saveFailure(error: unknown, store: StateStore, elapsedMs: number, lockTtlMs: number): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof LockLostError)
    return (
      `state not saved: this tick's lock expired (the tick took ${Math.round(elapsedMs)} ms, the lock lasts ${lockTtlMs} ms) ` +
      "and another tick may have saved since: its state is kept, not overwritten; scales this tick made were recorded before they were made"
    );
  if (error instanceof StateStoreError && error.unclear)
    return `state save got no clear answer (${message}): it may have been written; the lock is kept until it expires`;
  return `state store (${store.kind}) failed: ${message}`;
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

interface RunOptions {
  started: number;
  secrets: Scrubber;
  tickId: string;
  dryRun: boolean;
  budgetMs: number;
  /** Records the scales about to be asked for as their processes' pending scales (one command). */
  recordIntents: (pending: Record<string, PendingScale>) => Promise<void>;
}

/**
 * Every process at once, each in two halves: measure and decide, then scale, settle and notify.
 * The processes of one Heroku app share one formation read (the tick's ScalingSession). A
 * process that scales waits between its halves for every other process's decision: one save
 * then records all the tick's scales as pending (a failure there scales nothing), and the scales
 * go at once, one batch write per app; the others go straight on. A process cut off by the
 * deadline is reported as timed out.
 */
async function runProcesses(
  config: Config,
  deps: TickDeps,
  names: string[],
  records: Record<string, ProcessRecord>,
  options: RunOptions,
): Promise<ProcessTickResult[]> {
  const deadline = new AbortController();
  // Every call of every process follows this one signal (src/kit/http.ts adds a listener each).
  setMaxListeners(0, deadline.signal);
  const timer = setTimeout(
    () => deadline.abort(new DOMException(`tick deadline of ${config.tickDeadlineMs} ms`, "TimeoutError")),
    options.budgetMs,
  );
  const timedOut = new Promise<null>((resolve) =>
    deadline.signal.addEventListener("abort", () => resolve(null)),
  );
  const notifiers = createNotifiers(deps.notifiers);
  const now = DateTime.fromMillis(options.started, { zone: config.timezone });
  const session = new ScalingSession(options.started);
  const runs = names.map((name) => {
    const record = records[name] ?? emptyProcessRecord();
    const scaler = scalerFor(config.processes[name]!, name, deps.env);
    // Before any process reads: a back-off any of an account's records holds holds for all of them.
    if (!(scaler instanceof ScaleError)) session.backOff(scaler, record.rateLimitedUntil);
    const progress: ProcessProgress = {};
    const input: ProcessTickInput = {
      name,
      config: config.processes[name]!,
      record,
      now,
      tickId: options.tickId,
      dryRun: options.dryRun,
      env: deps.env,
      clock: deps.clock,
      notifiers,
      signal: deadline.signal,
      scaler,
      session,
      secrets: options.secrets,
      progress,
    };
    const failed = (error: unknown): ProcessTickResult => ({
      report: internalErrorReport(name, error),
      record: progress.record ?? record,
    });
    // A process cut off after its scale went through keeps what it did, or the next tick would scale again.
    const cutOff = (): ProcessTickResult => ({
      report: timeoutReport(name, config.tickDeadlineMs, progress),
      record: progress.record ?? record,
    });
    return { input, failed, cutOff };
  });
  try {
    const plans = runs.map((run) =>
      Promise.race([planProcess(run.input).catch(run.failed), timedOut]).then((plan) => plan ?? run.cutOff()),
    );
    // The scales wait for every decision, so that one save records all their intents and each
    // batch's scales go in one write.
    const scalesMade = Promise.all(plans).then(async (planned) => {
      const scaling = planned.filter(
        (plan): plan is PlannedProcess => "planned" in plan && plan.intent !== null,
      );
      const made = new Map<PlannedProcess, ScaleMade>();
      if (scaling.length === 0) return made;
      const pending = Object.fromEntries(
        scaling.map((plan) => [plan.report.process, pendingRecord(plan)!.pendingScale!]),
      );
      try {
        await options.recordIntents(pending);
      } catch (error) {
        const notRecorded = error instanceof Error ? error.message : String(error);
        for (const plan of scaling) made.set(plan, { notRecorded });
        return made;
      }
      for (const plan of scaling) {
        // In flight until the platform answers: a process cut off by the deadline meanwhile leaves
        // it pending, so the next tick checks the formation instead of taking the count for a manual
        // one, and (as nothing announced it) announces it: the intent's flag is not kept.
        if (plan.input.progress) plan.input.progress.record = pendingRecord(plan) ?? undefined;
      }
      const answers = session.scaleAll(
        scaling.map((plan) => ({ scaler: plan.scaler as Scaler, ...plan.intent! })),
        deadline.signal,
      );
      scaling.forEach((plan, i) => made.set(plan, { answer: answers[i]! }));
      return made;
    });
    const results = await Promise.all(
      runs.map(async (run, i) => {
        const plan = await plans[i]!;
        if (!("planned" in plan)) return plan;
        const result = await Promise.race([
          (async () => {
            const made = plan.intent ? (await scalesMade).get(plan) : undefined;
            return finishProcess(plan, made);
          })().catch(run.failed),
          timedOut,
        ]);
        return result ?? run.cutOff();
      }),
    );
    // After every call: a 429 late in the tick backs off the account's every process.
    return results.map((result, i) => {
      const { scaler } = runs[i]!.input;
      const until = scaler instanceof ScaleError ? undefined : session.backoffUntil(scaler);
      return { ...result, record: withBackoff(result.record, until) };
    });
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
