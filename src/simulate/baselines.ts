import type { Config } from "../config/schema.js";
import { PROCESSES_LIMIT, processesFor } from "./model.js";
import { modelParams, replayFixed, scheduleCounter, type Run } from "./replay.js";
import type { SimulationSettings } from "./schema.js";
import type { Trace } from "./trace.js";
import { plural } from "../kit/plural.js";

/** The median of the values (the upper middle one for an even count). */
export function median(values: Float64Array): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * What a team would run without an autoscaler, through the same model:
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
 * A static baseline no count of processes (up to PROCESSES_LIMIT) sizes is left out, and said
 * so in `notes` when given.
 */
export function baselineRuns(
  trace: Trace,
  settings: SimulationSettings,
  config: Config,
  processName: string,
  notes?: string[],
): Run[] {
  const params = modelParams(settings);
  const arrivals = trace.requests.map((r) => r * settings.rateMultiplier);
  const peak = arrivals.reduce((a, b) => Math.max(a, b), 0);
  const slo = `${settings.sloMetric} <= ${settings.sloMs} ms`;
  const runs: Run[] = [];
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
