import { ConfigError, describeIssues, parseConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { commonDecisionFields } from "../decide/index.js";
import { baselineRuns } from "./baselines.js";
import { replayPolicy, type Run } from "./replay.js";
import { buildReport, type SimulationReport } from "./report.js";
import { simulationSchema, type SimulationSettings } from "./schema.js";
import { relateToOracle, summarize, type Summary } from "./summary.js";
import type { Trace } from "./trace.js";

/** A policy to replay: a whole configuration (its zone, and the process's measurement and decision). */
export interface Policy {
  label: string;
  config: Config;
}

export interface Comparison {
  runs: Run[];
  summaries: Summary[];
  report: SimulationReport;
}

const parsed = new WeakMap<Config, SimulationSettings>();

/**
 * The model settings of a config: its `simulation` key checked against the simulator's schema,
 * with the defaults filled in. Throws ConfigError naming each problem's path.
 */
export function settingsOf(config: Config, source = "config"): SimulationSettings {
  const known = parsed.get(config);
  if (known) return known;
  const result = simulationSchema.safeParse(config.simulation ?? {});
  if (!result.success) throw new ConfigError(source, describeIssues(result.error, ["simulation"]));
  parsed.set(config, result.data);
  return result.data;
}

/**
 * Every policy, then the baselines, through the same model and trace. Without `baselines`
 * only the oracle is added: every row is measured against it.
 */
export function compare(
  policies: Policy[],
  processName: string,
  trace: Trace,
  settings: SimulationSettings,
  options: { baselines?: boolean } = {},
): Comparison {
  const first = policies[0];
  if (!first) throw new Error("no policy to simulate");
  const runs = policies.map((p) => replayPolicy(p.label, p.config, processName, trace, settings));
  const notes: string[] = [];
  const baselines = baselineRuns(trace, settings, first.config, processName, notes, {
    oracleOnly: !(options.baselines ?? true),
  });
  runs.push(...baselines);
  const warmup = warmupOf(policies, processName, trace, settings, notes);
  const zones = { zone: first.config.timezone, traceZone: trace.zone, from: warmup.minutes };
  const summaries = runs.map((run) => summarize(run, settings, zones));
  relateToOracle(summaries);
  const report = buildReport(processName, trace, settings, summaries, warmup);
  report.trace.notes.push(...notes);
  return { runs, summaries, report };
}

const DAY_MS = 86_400_000;

/** The warm-up a comparison leaves uncounted: its days and the minutes of the trace they cover. */
export interface Warmup {
  days: number;
  minutes: number;
}

/**
 * The days not counted: `simulation.warmupDays`, else a week when some policy pre-warms (its
 * profile is of the week's hours: the first week teaches it). A warm-up the trace is not longer
 * than would leave nothing: an automatic one is then dropped, with a note that says why.
 */
export function warmupOf(
  policies: Policy[],
  processName: string,
  trace: Trace,
  settings: SimulationSettings,
  notes: string[],
): Warmup {
  const prewarms = policies.some((p) => p.config.processes[processName]?.decision.prewarm?.enabled);
  const days = settings.warmupDays ?? (prewarms ? 7 : 0);
  if (days === 0) return { days: 0, minutes: 0 };
  const until = trace.startMs[0]! + days * DAY_MS;
  const minutes = trace.startMs.findIndex((ms) => ms >= until);
  if (minutes > 0) return { days, minutes };
  notes.push(
    `the trace is not longer than the warm-up of ${days} days: no warm-up, every minute counted` +
      (prewarms
        ? "; pre-warming learns each hour from the same hour a week (or a day) before, so on this trace it has nothing to pre-warm from"
        : ""),
  );
  return { days: 0, minutes: 0 };
}

const COMMON_KEYS = Object.keys(commonDecisionFields);

/**
 * A variant of a config: `override` merged into the process's decision and the result checked
 * by the one schema. An override naming another backend keeps only the settings every backend
 * shares (bounds, increment, cool-downs, schedule, fail-safe) from the original. A `null`
 * removes a setting (back to its default: `"failSafe": null` turns the fail-safe off). An
 * override of `postScaleWaitSeconds` that sets neither `scaleUpCooldownSeconds` nor
 * `scaleDownCooldownSeconds` removes the original's (they would win over it).
 */
export function variant(
  config: Config,
  processName: string,
  override: Record<string, unknown>,
  label: string,
): Config {
  const process = config.processes[processName];
  if (!process) throw new Error(`no process ${JSON.stringify(processName)} in the config`);
  const base: Record<string, unknown> = { ...process.decision };
  const otherBackend = typeof override.backend === "string" && override.backend !== process.decision.backend;
  const kept = otherBackend
    ? Object.fromEntries(Object.entries(base).filter(([key]) => COMMON_KEYS.includes(key)))
    : base;
  // The per-direction cool-downs win over postScaleWaitSeconds: an override of the one wait
  // replaces the base's cool-downs too, unless it sets one of them itself.
  if (
    override.postScaleWaitSeconds !== undefined &&
    !("scaleUpCooldownSeconds" in override) &&
    !("scaleDownCooldownSeconds" in override)
  ) {
    delete kept.scaleUpCooldownSeconds;
    delete kept.scaleDownCooldownSeconds;
  }
  const decision = Object.fromEntries(
    Object.entries({ ...kept, ...override }).filter(([, value]) => value !== undefined && value !== null),
  );
  return parseConfig(
    { ...config, processes: { ...config.processes, [processName]: { ...process, decision } } },
    `--policy ${label}`,
  );
}
