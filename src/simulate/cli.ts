import { constants } from "node:fs";
import { access, stat, writeFile } from "node:fs/promises";
import { basename, dirname, extname } from "node:path";
import { IANAZone } from "luxon";
import type { CliIo } from "../kit/cli-io.js";
import { ConfigError, loadConfigFile } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { compare, settingsOf, variant, type Policy } from "./compare.js";
import { renderHtml } from "./html.js";
import { formatReport } from "./report.js";
import {
  compressTrace,
  parseTimestamp,
  readTraceFile,
  sliceTrace,
  TraceError,
  type Trace,
  type ValueIs,
} from "./trace.js";
import { simulationSchema, type SimulationSettings } from "./schema.js";
import { parseFlags, UsageError } from "../kit/flags.js";
import { plural } from "../kit/plural.js";

export const SIMULATE_USAGE = `usage:
  autoscalebot simulate --trace <csv|bundled> --config <file.json> [--config <other.json>]...
                        [--policy 'NAME={"passesToScaleDown":2}']... [--process web]
                        [--speedup N] [--from TIME] [--to TIME] [--seed N]
                        [--value count|per-minute|per-second] [--zone ZONE]
                        [--service-time MS|trace] [--warmup DAYS]
                        [--report out.html] [--json] [--no-baselines]

Replays a request-rate trace minute by minute through the capacity model in the first
config's "simulation" settings and through each policy's real decision backend, and compares
cost, latency against the SLO and scale events with the oracle (the fewest processes that
would have met the SLO each minute) and static and scheduled baselines.

  --trace     the NASA CSV of ../shared/traces, a "timestamp,value" CSV at any fixed interval,
              or "bundled" (the NASA launch day, 1995-07-13, shipped in the repository)
  --config    a configuration file; several compare side by side
  --policy    a variant of the first config: JSON merged into the process's decision
  --speedup   N trace minutes per simulated minute (rate averaged): traffic changes N times
              faster while the policy's clock, cool-downs and boot delay keep real speed
  --from/--to trace time, ISO 8601 (a bare date: its midnight); without an offset, in the
              trace's zone
  --value     what a generic trace's values are: requests per interval (count, default) or a rate
  --zone      IANA zone of a generic trace's timestamps without an offset (default UTC)
  --service-time
              the model's service time in ms (instead of simulation.serviceTimeMs), or "trace":
              the median of the trace's own service_p50_ms column (autoscalebot trace writes it)
  --seed      the seed of every random draw (the router's, the heartbeat's), an integer from 0
              to 4294967295 (default simulation.noise.seed)
  --warmup    days at the start replayed but not counted (default simulation.warmupDays, else 7
              when a policy pre-warms: its profile learns from the first week)
  --report    also write the comparison as one HTML page (checked writable before the replay)
  --no-baselines
              leave out the static and schedule baselines (the oracle stays: every row's
              cost is shown as a multiple of it)`;

/** The HTML report cannot be written: exit 2, without the usage. */
class ReportError extends Error {}

function options(args: string[]) {
  return parseFlags(args, {
    trace: { type: "string", short: "t" },
    config: { type: "string", short: "c", multiple: true },
    policy: { type: "string", multiple: true },
    process: { type: "string", short: "p" },
    speedup: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    seed: { type: "string" },
    warmup: { type: "string" },
    value: { type: "string" },
    zone: { type: "string" },
    "service-time": { type: "string" },
    report: { type: "string" },
    json: { type: "boolean" },
    "no-baselines": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
}

const label = (path: string) => basename(path, extname(path));

/** `NAME=JSON`: a named override of the first config's decision. */
function parsePolicy(text: string): { name: string; override: Record<string, unknown> } {
  const eq = text.indexOf("=");
  if (eq < 1) throw new UsageError(`--policy expects NAME=JSON, got ${JSON.stringify(text)}`);
  const name = text.slice(0, eq).trim();
  let override: unknown;
  try {
    override = JSON.parse(text.slice(eq + 1));
  } catch {
    throw new UsageError(`--policy ${name}: not valid JSON`);
  }
  if (typeof override !== "object" || override === null || Array.isArray(override))
    throw new UsageError(`--policy ${name}: expected a JSON object of decision settings`);
  return { name, override: override as Record<string, unknown> };
}

function integerOption(
  text: string | undefined,
  name: string,
  min: number,
  max?: number,
): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\s*[+-]?\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || (max !== undefined && n > max))
    throw new UsageError(
      `--${name} expects an integer ${max === undefined ? `>= ${min}` : `from ${min} to ${max}`}`,
    );
  return n;
}

/** Whether `path` can be written (an existing file, or a new one in an existing directory), before the replay. */
async function checkWritable(path: string): Promise<void> {
  let problem: string | undefined;
  try {
    if ((await stat(path)).isDirectory()) problem = "EISDIR";
    else await access(path, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") problem = code ?? String(error);
    else
      try {
        await access(dirname(path), constants.W_OK);
      } catch (inner) {
        problem = (inner as NodeJS.ErrnoException).code ?? String(inner);
      }
  }
  if (problem !== undefined) throw new ReportError(`--report ${path}: cannot write the file: ${problem}`);
}

/**
 * `--service-time`: a number of ms, or the trace's own measure of it. The settings are checked
 * again, since the SLO must stay above the service time.
 */
function withServiceTime(settings: SimulationSettings, text: string | undefined, trace: Trace) {
  if (text === undefined) return settings;
  let serviceTimeMs: number;
  if (text === "trace") {
    if (trace.serviceTimeMs === undefined)
      throw new UsageError(
        `--service-time trace: ${trace.source} has no service_p50_ms column (autoscalebot trace writes one)`,
      );
    serviceTimeMs = trace.serviceTimeMs;
  } else {
    serviceTimeMs = Number(text);
    if (text.trim() === "" || !Number.isFinite(serviceTimeMs) || serviceTimeMs < 0)
      throw new UsageError(
        `--service-time expects a number of ms >= 0 or "trace", got ${JSON.stringify(text)}`,
      );
  }
  const checked = simulationSchema.safeParse({ ...settings, serviceTimeMs });
  if (!checked.success)
    throw new UsageError(
      `--service-time ${serviceTimeMs} ms: ${checked.error.issues.map((i) => i.message).join("; ")}`,
    );
  return checked.data;
}

/** `autoscalebot simulate ...`: exit 0 done, 2 bad usage, configuration or trace. */
export async function runSimulate(args: string[], io: CliIo): Promise<number> {
  try {
    const opts = options(args);
    if (opts.help) {
      io.out(SIMULATE_USAGE);
      return 0;
    }
    if (!opts.trace) throw new UsageError("--trace <csv> is required");
    const paths = opts.config ?? [];
    if (paths.length === 0) throw new UsageError("--config <file.json> is required");
    const valueIs = opts.value ?? "count";
    if (!["count", "per-minute", "per-second"].includes(valueIs))
      throw new UsageError("--value expects count, per-minute or per-second");
    const speedup = integerOption(opts.speedup, "speedup", 1) ?? 1;
    const seed = integerOption(opts.seed, "seed", 0, 2 ** 32 - 1);
    if (opts.zone !== undefined && !IANAZone.isValidZone(opts.zone))
      throw new UsageError(
        `--zone expects an IANA time zone such as Europe/Berlin, got ${JSON.stringify(opts.zone)}`,
      );
    if (opts.report !== undefined) await checkWritable(opts.report);

    const configs: Config[] = [];
    for (const path of paths) {
      const config = await loadConfigFile(path);
      settingsOf(config, path); // its simulation settings are checked (and reported) by path
      configs.push(config);
    }
    const first = configs[0]!;
    const processName = opts.process ?? (first.processes.web ? "web" : Object.keys(first.processes)[0]!);
    configs.forEach((config, i) => {
      if (!config.processes[processName])
        throw new UsageError(
          `${paths[i]}: no process ${JSON.stringify(processName)} (configured: ${Object.keys(config.processes).join(", ")})`,
        );
    });

    let settings = settingsOf(first);
    if (seed !== undefined) settings = { ...settings, noise: { ...settings.noise, seed } };
    const warmupDays = integerOption(opts.warmup, "warmup", 0, 365);
    if (warmupDays !== undefined) settings = { ...settings, warmupDays };
    const labels = new Set<string>();
    const unique = (name: string) => {
      let candidate = name;
      for (let i = 2; labels.has(candidate); i++) candidate = `${name}-${i}`;
      labels.add(candidate);
      return candidate;
    };
    const policies: Policy[] = configs.map((config, i) => ({ label: unique(label(paths[i]!)), config }));
    for (const text of opts.policy ?? []) {
      const { name, override } = parsePolicy(text);
      policies.push({ label: unique(name), config: variant(first, processName, override, name) });
    }

    let trace = await readTraceFile(opts.trace, { zone: opts.zone ?? "UTC", valueIs: valueIs as ValueIs });
    if (opts.from !== undefined || opts.to !== undefined) {
      const at = (text: string | undefined, name: string) => {
        if (text === undefined) return undefined;
        const ms = parseTimestamp(text, trace.zone);
        if (ms === null) throw new UsageError(`--${name}: not a time: ${JSON.stringify(text)}`);
        return ms;
      };
      trace = sliceTrace(trace, at(opts.from, "from"), at(opts.to, "to"));
    }
    trace = compressTrace(trace, speedup);
    settings = withServiceTime(settings, opts["service-time"], trace);
    const days = settings.warmupDays ?? 0;
    if (days > 0 && trace.startMs[trace.startMs.length - 1]! < trace.startMs[0]! + days * 86_400_000)
      throw new UsageError(`a warm-up of ${plural(days, "day")} leaves no minute of the trace to count`);

    const { runs, report } = compare(policies, processName, trace, settings, {
      baselines: !opts["no-baselines"],
    });
    configs.slice(1).forEach((config, i) => {
      if (JSON.stringify(settingsOf(config)) !== JSON.stringify(settingsOf(first)))
        report.trace.notes.push(
          `${paths[i + 1]}: its "simulation" settings differ; the model is the first config's (${paths[0]})`,
        );
    });
    for (const policy of policies) {
      const backend = policy.config.processes[processName]!.measurement.backend;
      if (
        !["response-time", "queue-time", "service-time", "request-metrics"].includes(backend) &&
        !settings.measurement
      )
        report.trace.notes.push(
          `${policy.label}: ${processName} measures ${backend}, but the model reports heartbeat response times (ms): its thresholds must be in ms`,
        );
    }
    io.out(opts.json ? JSON.stringify(report, null, 2) : formatReport(report));
    if (opts.report !== undefined) {
      try {
        await writeFile(opts.report, renderHtml(report, runs));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? String(error);
        throw new ReportError(`--report ${opts.report}: cannot write the file: ${code}`);
      }
      if (!opts.json) io.out(`\nreport written to ${opts.report}`);
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\n${SIMULATE_USAGE}`);
      return 2;
    }
    if (error instanceof ConfigError || error instanceof TraceError || error instanceof ReportError) {
      io.err(error.message);
      return 2;
    }
    throw error;
  }
}
