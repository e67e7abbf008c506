import { startDashboard } from "../api/server.js";
import { statusTokens } from "../api/status.js";
import { systemClock } from "../kit/clock.js";
import { didYouMean } from "../kit/closest.js";
import { ConfigError, loadConfigFile } from "../config/load.js";
import { redact, scrubberFor, type Scrubber } from "../kit/redact.js";
import { examplePlaceholders } from "../config/placeholders.js";
import { configFromSeedEnv, usesSeedEnv } from "../config/seed-env.js";
import type { Config } from "../config/schema.js";
import { formatReport, tickFailed } from "../engine/report.js";
import { scalingSecretEnv } from "../scale/index.js";
import { createStateStore, StateStoreError, StoreConfigError } from "../state/index.js";
import { LockBusyError, SteerRequestError, steerProcess } from "../engine/steer.js";
import { runTick, UnknownProcessError } from "../engine/tick.js";
import { formatStatus, readStatus, statusRanges, type StatusRange } from "../engine/status.js";
import { processIo, type CliIo } from "../kit/cli-io.js";
import { parseFlags, UsageError, type Flags, type Options } from "../kit/flags.js";
import { ConsoleNotifier } from "../notify/index.js";
import { LogNotifier } from "../notify/index.js";
import type { Notifiers } from "../notify/index.js";

const CONFIG_OPTION = { config: { type: "string", short: "c" } } as const;
const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const;
const TICK_OPTIONS = {
  ...CONFIG_OPTION,
  process: { type: "string", short: "p", multiple: true },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
  ...HELP_OPTION,
} as const;

const CONFIG_HELP = `  --config    a JSON configuration file; without it, the seeds' AUTOSCALE_* variables
              configure one process (see the README)`;
const TICK_HELP = `  --process   only this process (repeatable; default: every configured process)
  --dry-run   decide and notify, but neither scale nor write state
  --json      the report as JSON on stdout; notifier lines go to stderr`;

/** Each command's flags and help: `autoscalebot <command> --help` prints its usage. */
const COMMANDS = {
  tick: {
    options: TICK_OPTIONS,
    synopsis: "tick [--config <file.json>] [--process NAME]... [--dry-run] [--json]",
    about: `One tick: measure, decide, scale and notify, then print the report. Exits 1 when a process failed,
3 when it was skipped because another tick holds the lock.

${CONFIG_HELP}
${TICK_HELP}`,
  },
  validate: {
    options: { ...CONFIG_OPTION, ...HELP_OPTION },
    synopsis: "validate [--config <file.json>]",
    about: `Prints the effective configuration (defaults filled in, secrets redacted), or every problem
with its path and exits 2; warns about API key variables not set in this environment.

${CONFIG_HELP}`,
  },
  run: {
    options: { ...TICK_OPTIONS, interval: { type: "string" } },
    synopsis: "run [--config <file.json>] [--interval 60] [--process NAME]... [--dry-run] [--json]",
    about: `A tick every interval until SIGINT or SIGTERM, which let the tick in progress finish: the
process ends within tickDeadlineMs (plus the monitor's timeout and 1 s) of the signal, by the
signal itself (exit status 143 or 130) when something still holds it then.

${CONFIG_HELP}
  --interval  seconds between ticks (default 60)
${TICK_HELP}`,
  },
  status: {
    options: {
      ...CONFIG_OPTION,
      process: { type: "string", short: "p" },
      range: { type: "string" },
      json: { type: "boolean" },
      ...HELP_OPTION,
    },
    synopsis: "status [--config <file.json>] [--process NAME] [--range 1h|24h|7d] [--json]",
    about: `What the autoscaler did, from the state store's history: per process the count and bounds at
the last tick, the last readings, open conditions and the recent scales with their reasons.

${CONFIG_HELP}
  --process   only this process
  --range     how far back: 1h, 24h (default) or 7d
  --json      the same as JSON, with every tick's point for charts`,
  },
  dashboard: {
    options: { ...CONFIG_OPTION, port: { type: "string" }, ...HELP_OPTION },
    synopsis: "dashboard [--config <file.json>] [--port 8787]",
    about: `Serves the dashboard and its API (/api/status, /api/health, /api/pause, /api/resume) on
this machine, from the configured state store, until Ctrl-C. The page asks for
AUTOSCALE_STATUS_TOKEN when that is set.

${CONFIG_HELP}
  --port      the port on 127.0.0.1 (default 8787; 0 picks a free one)`,
  },
  pause: {
    options: {
      ...CONFIG_OPTION,
      process: { type: "string", short: "p" },
      minutes: { type: "string" },
      processes: { type: "string" },
      ...HELP_OPTION,
    },
    synopsis: "pause --process NAME [--minutes N] [--processes COUNT] [--config <file.json>]",
    about: `Pauses a process: the ticks still measure and report it, but do not scale it (the fail-safe
neither). The next tick notifies the pause. Exits 1 when a tick held the state lock for 5 s.

${CONFIG_HELP}
  --process   the process to pause (required)
  --minutes   end the pause by itself after this many minutes (default: until resumed)
  --processes scale it to this count once, then hold it there (any count >= 0: the
              min/max bounds do not apply while paused)`,
  },
  resume: {
    options: { ...CONFIG_OPTION, process: { type: "string", short: "p" }, ...HELP_OPTION },
    synopsis: "resume --process NAME [--config <file.json>]",
    about: `Ends a pause: the next tick decides again, and notifies the resume. A process that is not
paused is left as it is (exit 0).

${CONFIG_HELP}
  --process   the process to resume (required)`,
  },
  demo: {
    options: { platform: { type: "string" }, ...HELP_OPTION },
    synopsis: "demo [--platform heroku|render|railway|webhook]",
    about: `Runs the real engine against local stand-ins (a Heroku-compatible API, a target app whose
latency follows the bundled NASA trace) and compares it with the simulator. Ctrl-C stops.

  --platform  whose API the tick scales, through its real scaler and a local stand-in
              of it (default heroku)`,
  },
} as const;
type Command = keyof typeof COMMANDS;
const isCommand = (word: string): word is Command => Object.hasOwn(COMMANDS, word);
const commandUsage = (command: Command) =>
  `usage: autoscalebot ${COMMANDS[command].synopsis}\n\n${COMMANDS[command].about}`;

const USAGE = `usage:
${Object.values(COMMANDS)
  .map(({ synopsis }) => `  autoscalebot ${synopsis}`)
  .join("\n")}
  autoscalebot simulate --trace <csv|bundled> --config <file.json> [--policy NAME=JSON]... [--speedup N] [--report out.html] [--json]
  autoscalebot trace <router-log>... [--out trace.csv] [--year YYYY] [--zone ZONE]
  autoscalebot help [command]   (or: autoscalebot <command> --help)

Without --config, the seeds' AUTOSCALE_* variables configure one process (see docs/environment.md).
Secrets come from the environment, by the names the config gives them (a platform's API key:
scaling.apiKeyEnv; \`validate\` lists the ones not set), and the state store from
UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN (else state is kept in ./.autoscalebot/).`;

type TickFlags = Flags<typeof TICK_OPTIONS>;

/** `--config` names a JSON file; without it, the seeds' AUTOSCALE_* variables configure one process. */
async function configFrom(path: string | undefined, env: CliIo["env"]): Promise<Config> {
  if (path) return loadConfigFile(path);
  if (usesSeedEnv(env)) return configFromSeedEnv(env);
  throw new UsageError(
    "--config <file.json> is required (or set the AUTOSCALE_* variables, see docs/environment.md)",
  );
}

/**
 * The notifiers that write lines (console, log) write through the CLI's io: to stdout, or to
 * stderr under --json, so that stdout holds only the report.
 */
function cliNotifiers(opts: { json?: boolean | undefined }, io: CliIo): Partial<Notifiers> {
  const write = opts.json ? io.err : io.out;
  return { console: new ConsoleNotifier(write), log: new LogNotifier(write) };
}

async function tickOnce(config: Config, opts: TickFlags, io: CliIo): Promise<number> {
  const store = createStateStore(io.env, config.keyPrefix);
  const report = await runTick(
    config,
    { clock: systemClock, store, env: io.env, notifiers: cliNotifiers(opts, io) },
    {
      processes: opts.process ?? [],
      dryRun: opts["dry-run"] ?? false,
    },
  );
  io.out(opts.json ? JSON.stringify(report, null, 2) : formatReport(report));
  warnPlaceholders(config, io);
  return report.skipped ? EXIT_SKIPPED : tickFailed(report) ? 1 : 0;
}

/** The exit code of a tick that did not run because another holds the lock (the trigger's 409). */
const EXIT_SKIPPED = 3;

/** The bundled example's addresses, still in the config: say what to change (on stderr). */
function warnPlaceholders(config: Config, io: CliIo): void {
  for (const placeholder of examplePlaceholders(config)) io.err(`warning: ${placeholder}`);
}

async function validate(config: Config, path: string | undefined, io: CliIo): Promise<number> {
  if (config.simulation) {
    // The simulator's settings are its own schema's to check; it loads only when they are there.
    const { settingsOf } = await import("../simulate/compare.js");
    settingsOf(config, path);
  }
  io.out(JSON.stringify(redact(config), null, 2));
  for (const [name, { scaling }] of Object.entries(config.processes)) {
    for (const variable of scalingSecretEnv(scaling).filter((v) => !io.env[v])) {
      io.err(`warning: processes.${name}.scaling: ${variable} is not set in this environment`);
    }
  }
  warnPlaceholders(config, io);
  return 0;
}

/**
 * How long after its signal `run` may take to end: the tick in progress returns within its
 * deadline, then pings the monitor; a second more covers the report and the exit itself.
 */
const stopWithinMs = (config: Config) => config.tickDeadlineMs + (config.monitor?.timeoutMs ?? 0) + 1000;

/** The seeds' long-running worker: a tick every interval until SIGINT/SIGTERM, finishing the tick in progress. */
async function runForever(
  config: Config,
  opts: TickFlags & { interval?: string | undefined },
  io: CliIo,
): Promise<number> {
  const seconds = Number(opts.interval ?? 60);
  if (!Number.isFinite(seconds) || seconds < 1) throw new UsageError("--interval expects seconds >= 1");
  let stopping = false;
  let wake: () => void = () => {};
  const stop = () => {
    stopping = true;
    wake();
  };
  io.onStop(stop, stopWithinMs(config));
  while (!stopping) {
    await tickOnce(config, opts, io);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, seconds * 1000);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
      if (stopping) wake();
    });
  }
  // Under --json, stdout holds only the reports.
  (opts.json ? io.err : io.out)("stopped");
  return 0;
}

async function runCommand(command: Command, args: string[], io: CliIo): Promise<number> {
  switch (command) {
    case "tick":
      return withConfig(command, args, io, (config, opts, io) => tickOnce(config, opts, io));
    case "validate":
      return withConfig(command, args, io, (config, opts, io) => validate(config, opts.config, io));
    case "run":
      return withConfig(command, args, io, (config, opts, io) => runForever(config, opts, io));
    case "status":
      return withConfig(command, args, io, (config, opts, io) => showStatus(config, opts, io));
    case "dashboard":
      return withConfig(command, args, io, (config, opts, io) => serveDashboard(config, opts.port, io));
    case "pause":
      return withConfig(command, args, io, (config, opts, io) =>
        steer(
          "pause",
          config,
          {
            process: required(opts.process, "--process"),
            ...count(opts.minutes, "minutes"),
            ...count(opts.processes, "processes"),
          },
          io,
        ),
      );
    case "resume":
      return withConfig(command, args, io, (config, opts, io) =>
        steer("resume", config, { process: required(opts.process, "--process") }, io),
      );
    case "demo":
      return withFlags(command, COMMANDS.demo.options, args, io, async (opts) => {
        const platform = opts.platform ?? "heroku";
        const { DEMO_PLATFORMS, isDemoPlatform } = await import("../demo/platform-names.js");
        if (!isDemoPlatform(platform))
          throw new UsageError(
            `--platform expects one of ${DEMO_PLATFORMS.join(", ")}, got ${JSON.stringify(platform)}`,
          );
        const { runDemo } = await import("../demo/demo.js");
        return runDemo({ out: io.out, keepDashboard: process.stdout.isTTY, platform });
      });
  }
}

/** The commands that run on a configuration (`--config`, or the seeds' AUTOSCALE_* variables). */
type ConfiguredCommand = Exclude<Command, "demo">;

/**
 * A command's flags parsed and its configuration loaded, then `run` on both, writing through an
 * io scrubbed of every secret the configuration and the environment hold.
 */
function withConfig<C extends ConfiguredCommand>(
  command: C,
  args: string[],
  io: CliIo,
  run: (config: Config, opts: Flags<(typeof COMMANDS)[C]["options"]>, io: CliIo) => Promise<number>,
): Promise<number> {
  type Opts = Flags<(typeof COMMANDS)[C]["options"]>;
  // TypeScript loses the flags' type through COMMANDS[C]; each call site still checks its own.
  return withFlags(command, COMMANDS[command].options as Options, args, io, async (opts) => {
    const config = await configFrom((opts as { config?: string }).config, io.env);
    return run(config, opts as Opts, scrubbedIo(io, scrubberFor(io.env, config)));
  });
}

/** The io with everything written scrubbed of the secrets. */
const scrubbedIo = (io: CliIo, secrets: Scrubber): CliIo => ({
  ...io,
  out: (text) => io.out(secrets.text(text)),
  err: (text) => io.err(secrets.text(text)),
});

/** Parses a command's own flags; `--help` prints its usage instead of running it. */
async function withFlags<const O extends Options>(
  command: Command,
  options: O,
  args: string[],
  io: CliIo,
  run: (opts: Flags<O>) => Promise<number>,
): Promise<number> {
  const opts = parseFlags(args, options);
  // Every command's options include HELP_OPTION; TypeScript cannot see that through the generic.
  if ((opts as { help?: boolean }).help) return help(command, io);
  return run(opts);
}

async function showStatus(
  config: Config,
  opts: { process?: string | undefined; range?: string | undefined; json?: boolean | undefined },
  io: CliIo,
): Promise<number> {
  const range = opts.range ?? "24h";
  if (!Object.hasOwn(statusRanges, range))
    throw new UsageError(`--range expects one of ${Object.keys(statusRanges).join(", ")}`);
  if (opts.process !== undefined && !config.processes[opts.process])
    throw new UnknownProcessError([opts.process], Object.keys(config.processes));
  const store = createStateStore(io.env, config.keyPrefix);
  const status = await readStatus(config, store, {
    range: range as StatusRange,
    process: opts.process,
    now: systemClock.now(),
  });
  io.out(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
  return 0;
}

async function serveDashboard(config: Config, port: string | undefined, io: CliIo): Promise<number> {
  const number = Number(port ?? 8787);
  if (!Number.isInteger(number) || number < 0 || number > 65535)
    throw new UsageError("--port expects a port number from 0 to 65535");
  const store = createStateStore(io.env, config.keyPrefix);
  const dashboard = await startDashboard({
    context: { config, store, now: () => systemClock.now() },
    env: io.env,
    port: number,
  });
  const token = statusTokens(io.env).some(Boolean)
    ? " (the page asks for AUTOSCALE_STATUS_TOKEN)"
    : " (no AUTOSCALE_STATUS_TOKEN set: open to this machine only)";
  io.out(`dashboard: ${dashboard.url}${token}; Ctrl-C stops`);
  await new Promise<void>((resolve) => io.onStop(resolve));
  await dashboard.close();
  io.out("stopped");
  return 0;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined) throw new UsageError(`${flag} is required`);
  return value;
}

/** A flag's number, checked with the request's schema (so `--minutes 1.5` is refused as the API refuses it). */
function count<Key extends string>(value: string | undefined, key: Key): Partial<Record<Key, number>> {
  if (value === undefined) return {};
  return { [key]: value.trim() === "" ? Number.NaN : Number(value) } as Partial<Record<Key, number>>;
}

/** Pause or resume through the state store, under the tick lock; the message on stdout. */
async function steer(
  action: "pause" | "resume",
  config: Config,
  fields: Record<string, unknown>,
  io: CliIo,
): Promise<number> {
  const deps = { store: createStateStore(io.env, config.keyPrefix), clock: systemClock };
  try {
    io.out((await steerProcess(action, config, deps, fields, "cli")).message);
    return 0;
  } catch (error) {
    if (error instanceof SteerRequestError)
      throw new UsageError(error.problems.map((p) => `--${p}`).join("\n"));
    if (error instanceof LockBusyError || error instanceof StateStoreError) {
      io.err(`${action} failed: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

/** Asked-for help goes to stdout and exits 0. */
function help(command: Command | undefined, io: CliIo): number {
  io.out(command ? commandUsage(command) : USAGE);
  return 0;
}

const HELP_WORDS = new Set(["help", "--help", "-h"]);

/** The simulator has options and usage of its own (autoscalebot simulate --help); it loads only when asked for. */
async function simulate(args: string[], io: CliIo): Promise<number> {
  const { runSimulate } = await import("../simulate/cli.js");
  return runSimulate(args, io);
}

/** Router logs into a trace for the simulator (autoscalebot trace --help); it loads only when asked for. */
async function trace(args: string[], io: CliIo): Promise<number> {
  const { runTraceCommand } = await import("../simulate/trace-cli.js");
  return runTraceCommand(args, io);
}

const unknownCommand = (word: string) =>
  `unknown command ${JSON.stringify(word)}${didYouMean(word, [...Object.keys(COMMANDS), "simulate", "trace", "help"])}`;

/**
 * Exit codes: 0 done, 1 a tick (or a pause, resume) failed, 2 bad usage or invalid configuration,
 * 3 the tick was skipped because another tick holds the lock.
 */
export async function main(argv: string[], rawIo: CliIo = processIo): Promise<number> {
  // Before a configuration is loaded, the environment's secrets (a usage error may quote a flag).
  const io = scrubbedIo(rawIo, scrubberFor(rawIo.env));
  const [command, ...rest] = argv;
  try {
    if (command === undefined) {
      io.err(USAGE);
      return 2;
    }
    if (HELP_WORDS.has(command)) {
      const [topic, ...more] = rest;
      if (topic === undefined) return help(undefined, io);
      if (more.length > 0) throw new UsageError(`help expects one command, got ${rest.length} words`);
      if (topic === "simulate") return await simulate(["--help"], io);
      if (topic === "trace") return await trace(["--help"], io);
      if (!isCommand(topic)) throw new UsageError(unknownCommand(topic));
      return help(topic, io);
    }
    if (command === "simulate") return await simulate(rest, io);
    if (command === "trace") return await trace(rest, io);
    if (!isCommand(command)) throw new UsageError(unknownCommand(command));
    return await runCommand(command, rest, io);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(error.message);
      return 2;
    }
    if (error instanceof UsageError || error instanceof UnknownProcessError) {
      const usage = command !== undefined && isCommand(command) ? commandUsage(command) : USAGE;
      io.err(`${error.message}\n\n${usage}`);
      return 2;
    }
    if (error instanceof StoreConfigError) {
      io.err(`state store: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
