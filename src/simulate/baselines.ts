import type { Config } from "../config/schema.js";
import { emptyMinute, FormationModel, MINUTE_MS, PROCESSES_LIMIT, processesFor } from "./model.js";
import { modelParams, replayFixed, RunRecorder, scheduleCounter, type Run } from "./replay.js";
import type { SimulationSettings } from "./schema.js";
import { ORACLE_LABEL } from "./summary.js";
import type { Trace } from "./trace.js";
import { plural } from "../kit/plural.js";

/** The median of the values (the upper middle one for an even count). */
export function median(values: Float64Array): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * The physical floor: knowing the whole trace, the fewest processes up each minute that keep
 * that minute within the SLO, each started `bootSeconds` ahead so that it serves from the
 * minute it is needed. Minute by minute through the same model and the same draws as every
 * policy (FormationModel.tryCount): from the steady count for the minute's load, down while
 * one fewer still meets the SLO, or up until one does; at least one process. The count is then
 * billed with its boots: at any moment the oracle runs the most it needs within the next boot
 * time (a process needed again sooner than a boot is kept, not stopped and started again), so
 * over minute t, with b = bootSeconds / 60 = k + f (k whole), it pays
 * (1 − f) max(n_t..n_t+k) + f max(n_t..n_t+k+1). Its scales are the changes of that running count.
 * Null when no count up to PROCESSES_LIMIT meets the SLO at the busiest minute.
 */
export function oracleRun(trace: Trace, settings: SimulationSettings): Run | null {
  const params = modelParams(settings);
  const n = trace.requests.length;
  const slo = settings.sloMs;
  const metric = settings.sloMetric;
  const arrivals = trace.requests.map((r) => r * settings.rateMultiplier);
  if (
    processesFor(
      params,
      arrivals.reduce((a, b) => Math.max(a, b), 0),
      slo,
      metric,
    ) === null
  )
    return null;
  const model = new FormationModel({ ...params, bootSeconds: 0 }, 1, settings.noise.seed);
  const recorder = new RunRecorder(
    ORACLE_LABEL,
    "baseline",
    `the fewest processes up each minute that keep it within ${metric} <= ${slo} ms, each started ${settings.bootSeconds} s ahead`,
    n,
  );
  const trial = emptyMinute();
  const minute = emptyMinute();
  const counts = new Float64Array(n);
  let previous = 1;
  for (let i = 0; i < n; i++) {
    const startMs = trace.startMs[i]!;
    const load = arrivals[i]!;
    if (i > 0 && startMs - trace.startMs[i - 1]! > MINUTE_MS) model.reset();
    const within = (count: number) => {
      model.tryCount(count, load, startMs, slo, trial);
      return metric === "p95" ? trial.lateShare + trial.droppedShare <= 0.05 : trial.meanMs <= slo;
    };
    let count = Math.max(1, processesFor(params, load, slo, metric) ?? previous);
    if (within(count)) while (count > 1 && within(count - 1)) count--;
    else {
      const limit = Math.min(PROCESSES_LIMIT, 2 * count + 10);
      while (count < limit && !within(count)) count++;
    }
    counts[i] = previous = count;
    model.scaleTo(count, startMs);
    model.step(load, startMs, slo, minute);
    recorder.record(startMs, trace.traceMs[i]!, minute, null);
  }
  // Billing: each process from a boot time before the minute it is needed.
  const boot = settings.bootSeconds / 60;
  const whole = Math.floor(boot);
  const part = boot - whole;
  const run = recorder.run;
  let running = 0;
  for (let i = 0; i < n; i++) {
    let most = counts[i]!;
    let j = i;
    const next = () => j + 1 < n && trace.startMs[j + 1]! - trace.startMs[j]! === MINUTE_MS;
    for (let step = 0; step < whole && next(); step++) most = Math.max(most, counts[++j]!);
    const beyond = part > 0 && next() ? Math.max(most, counts[j + 1]!) : most;
    run.processes[i] = (1 - part) * most + part * beyond;
    const now = part > 0 ? beyond : most;
    if (i > 0 && now !== running)
      run.scales.push({ at: trace.startMs[i]!, from: running, to: now, reason: "oracle" });
    running = now;
  }
  return run;
}

/**
 * The oracle (the floor), then what a team would run without an autoscaler, through the same model:
 *
 * - `static peak`: the fewest processes whose steady latency at the trace's busiest minute
 *   meets the SLO, all the time (provisioning for the peak);
 * - `static median`: the same for the median minute (provisioning for a typical minute);
 * - `schedule`: the tutorial's time-of-day scaling, when `simulation.schedule` or the
 *   process's `decision.schedule` is configured: each cron entry's count, from when it fires
 *   (read in the config's zone) until the next one does, load ignored. It follows the trace's
 *   own time of day, also when the trace is compressed (the policies' clock then runs at the
 *   simulated speed, so their time-of-day rules see simulated time).
 *
 * A baseline no count of processes (up to PROCESSES_LIMIT) sizes is left out, and said so in
 * `notes` when given. `oracleOnly`: the oracle alone.
 */
export function baselineRuns(
  trace: Trace,
  settings: SimulationSettings,
  config: Config,
  processName: string,
  notes?: string[],
  options: { oracleOnly?: boolean } = {},
): Run[] {
  const params = modelParams(settings);
  const arrivals = trace.requests.map((r) => r * settings.rateMultiplier);
  const peak = arrivals.reduce((a, b) => Math.max(a, b), 0);
  const slo = `${settings.sloMetric} <= ${settings.sloMs} ms`;
  const runs: Run[] = [];
  const oracle = oracleRun(trace, settings);
  if (oracle) runs.push(oracle);
  else
    notes?.push(
      `${ORACLE_LABEL}: not attainable: no count up to ${PROCESSES_LIMIT.toLocaleString("en-US")} processes meets ${slo} at the busiest minute`,
    );
  if (options.oracleOnly) return runs;
  for (const [label, rate, minute] of [
    ["static peak", peak, "the busiest minute"],
    ["static median", median(arrivals), "the median minute"],
  ] as const) {
    const count = processesFor(params, rate, settings.sloMs, settings.sloMetric);
    if (count === null) {
      notes?.push(
        `${label}: not attainable: no count up to ${PROCESSES_LIMIT.toLocaleString("en-US")} processes meets ${slo} at ${minute} (${Math.round(rate).toLocaleString("en-US")}/min)`,
      );
      continue;
    }
    runs.push(
      replayFixed(
        label,
        `${plural(count, "process", "processes")}: ${slo} at ${minute}`,
        trace,
        settings,
        () => count,
      ),
    );
  }
  const schedule = settings.schedule ?? config.processes[processName]?.decision.schedule;
  if (schedule) {
    const counter = scheduleCounter(schedule, config.timezone);
    const entries = schedule.map((e) => `${e.cron} -> ${e.processes}`).join(", ");
    runs.push(
      replayFixed("schedule", `cron (${config.timezone}): ${entries}`, trace, settings, (_, traceMs) =>
        counter(traceMs),
      ),
    );
  }
  return runs;
}
