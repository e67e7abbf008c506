import { systemClock } from "../kit/clock.js";
import { ConfigError, loadConfigFile } from "../config/load.js";
import { redact } from "../kit/redact.js";
import { configFromSeedEnv, usesSeedEnv } from "../config/seed-env.js";
import type { Config } from "../config/schema.js";
import { formatReport, tickFailed } from "../engine/report.js";
import { createStateStore, StoreConfigError } from "../state/select.js";
import { runTick, UnknownProcessError } from "../engine/tick.js";
import { processIo, type CliIo } from "../kit/cli-io.js";
import { parseFlags, UsageError } from "../kit/flags.js";

const USAGE = `usage:
  autoscalebot tick [--config <file.json>] [--process NAME]... [--dry-run] [--json]
  autoscalebot validate [--config <file.json>]
  autoscalebot run [--config <file.json>] [--interval 60]
  autoscalebot demo
  autoscalebot simulate --trace <csv|bundled> --config <file.json> [--policy NAME=JSON]... [--speedup N] [--report out.html] [--json]

Without --config, the seeds' AUTOSCALE_* variables configure one process (see docs/environment.md).
Secrets come from the environment: HEROKU_API_KEY (or the variable a process names in apiKeyEnv),
UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN (else state is kept in ./.autoscalebot/).`;

function options(args: string[]) {
  return parseFlags(args, {
    config: { type: "string", short: "c" },
    process: { type: "string", short: "p", multiple: true },
    "dry-run": { type: "boolean" },
    json: { type: "boolean" },
    interval: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
}

/** `--config` names a JSON file; without it, the seeds' AUTOSCALE_* variables configure one process. */
async function configFrom(path: string | undefined, env: CliIo["env"]): Promise<Config> {
  if (path) return loadConfigFile(path);
  if (usesSeedEnv(env)) return configFromSeedEnv(env);
  throw new UsageError(
    "--config <file.json> is required (or set the AUTOSCALE_* variables, see docs/environment.md)",
  );
}

async function tickOnce(config: Config, opts: ReturnType<typeof options>, io: CliIo): Promise<number> {
  const store = createStateStore(io.env, config.keyPrefix);
  const report = await runTick(
    config,
    { clock: systemClock, store, env: io.env },
    {
      processes: opts.process ?? [],
      dryRun: opts["dry-run"] ?? false,
    },
  );
  io.out(opts.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return tickFailed(report) ? 1 : 0;
}

async function validate(config: Config, path: string | undefined, io: CliIo): Promise<number> {
  if (config.simulation) {
    // The simulator's settings are its own schema's to check; it loads only when they are there.
    const { settingsOf } = await import("../simulate/compare.js");
    settingsOf(config, path);
  }
  io.out(JSON.stringify(redact(config), null, 2));
  for (const [name, { scaling }] of Object.entries(config.processes)) {
    if (!io.env[scaling.apiKeyEnv]) {
      io.err(
        `warning: processes.${name}.scaling.apiKeyEnv: ${scaling.apiKeyEnv} is not set in this environment`,
      );
    }
  }
  return 0;
}

/** The seeds' long-running worker: a tick every interval until SIGINT/SIGTERM, finishing the tick in progress. */
async function runForever(config: Config, opts: ReturnType<typeof options>, io: CliIo): Promise<number> {
  const seconds = Number(opts.interval ?? 60);
  if (!Number.isFinite(seconds) || seconds < 1) throw new UsageError("--interval expects seconds >= 1");
  let stopping = false;
  let wake: () => void = () => {};
  const stop = () => {
    stopping = true;
    wake();
  };
  io.onStop(stop);
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
  io.out("stopped");
  return 0;
}

/** Exit codes: 0 done, 1 a tick failed, 2 bad usage or invalid configuration. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    // The simulator has options of its own (autoscalebot simulate --help).
    if (command === "simulate") {
      const { runSimulate } = await import("../simulate/cli.js");
      return await runSimulate(rest, io);
    }
    const opts = options(rest);
    if (opts.help || !command || command === "help") {
      io.out(USAGE);
      return command ? 0 : 2;
    }
    switch (command) {
      case "tick":
        return await tickOnce(await configFrom(opts.config, io.env), opts, io);
      case "validate":
        return await validate(await configFrom(opts.config, io.env), opts.config, io);
      case "run":
        return await runForever(await configFrom(opts.config, io.env), opts, io);
      case "demo": {
        const { runDemo } = await import("../demo/demo.js");
        return await runDemo();
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(error.message);
      return 2;
    }
    if (error instanceof UsageError || error instanceof UnknownProcessError) {
      io.err(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof StoreConfigError) {
      io.err(`state store: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
