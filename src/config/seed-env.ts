import { ConfigError, parseConfig } from "./load.js";
import type { Config } from "./schema.js";

/**
 * The seeds' flat AUTOSCALE_* settings (django-heroku-autoscale and autoscalebot 0.2), for
 * deploying one process by environment variables alone. They map onto the one schema, so
 * every check applies; problems are reported under the variable's name.
 */
type Env = Record<string, string | undefined>;
type Parse = (raw: string) => unknown;

const text: Parse = (raw) => raw;
const number: Parse = (raw) => (raw.trim() !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw);
/** An integer, or the seeds' time-of-day dictionary as JSON: `{"0:00": 1, "8:00": 3}`. */
const countOrMap: Parse = (raw) => {
  if (/^\s*[{[]/.test(raw)) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }
  return number(raw);
};

/** Variable → where it lands in `processes.<name>`, or at the top level. */
export const SEED_VARIABLES: ReadonlyArray<{
  name: string;
  path: string[];
  parse: Parse;
  seedDefault?: unknown;
  meaning: string;
}> = [
  {
    name: "AUTOSCALE_HEROKU_APP_NAME",
    path: ["scaling", "app"],
    parse: text,
    meaning: "Heroku app name (required; turns this mode on)",
  },
  {
    name: "AUTOSCALE_HEROKU_PROCESS_TYPE",
    path: ["scaling", "processType"],
    parse: text,
    seedDefault: "web",
    meaning: "process type to scale (not in the seeds, which scaled web)",
  },
  {
    name: "AUTOSCALE_HEARTBEAT_URL",
    path: ["measurement", "url"],
    parse: text,
    meaning: "heartbeat URL, absolute (required)",
  },
  {
    name: "AUTOSCALE_MAX_RESPONSE_TIME_IN_MS",
    path: ["decision", "maxMeasurement"],
    parse: number,
    seedDefault: 1000,
    meaning: "slower than this is a fail",
  },
  {
    name: "AUTOSCALE_MIN_RESPONSE_TIME_IN_MS",
    path: ["decision", "minMeasurement"],
    parse: number,
    seedDefault: 200,
    meaning: "faster than this is a pass",
  },
  {
    name: "AUTOSCALE_NUMBER_OF_FAILS_TO_SCALE_UP_AFTER",
    path: ["decision", "failsToScaleUp"],
    parse: number,
    seedDefault: 3,
    meaning: "fails in a row before adding processes",
  },
  {
    name: "AUTOSCALE_NUMBER_OF_PASSES_TO_SCALE_DOWN_AFTER",
    path: ["decision", "passesToScaleDown"],
    parse: number,
    seedDefault: 5,
    meaning: "passes in a row before removing processes",
  },
  {
    name: "AUTOSCALE_MAX_DYNOS",
    path: ["decision", "maxProcesses"],
    parse: countOrMap,
    seedDefault: 3,
    meaning: "maximum: an integer or a JSON time-of-day map",
  },
  {
    name: "AUTOSCALE_MIN_DYNOS",
    path: ["decision", "minProcesses"],
    parse: countOrMap,
    seedDefault: 1,
    meaning: "minimum: an integer or a JSON time-of-day map",
  },
  {
    name: "AUTOSCALE_INCREMENT",
    path: ["decision", "increment"],
    parse: number,
    seedDefault: 1,
    meaning: "processes added or removed per scale",
  },
  {
    name: "AUTOSCALE_POST_SCALE_WAIT_TIME_SECONDS",
    path: ["decision", "postScaleWaitSeconds"],
    parse: number,
    seedDefault: 5,
    meaning: "cool-down after a scale (autoscalebot 0.3)",
  },
];

const flag = (raw: string | undefined, fallback: boolean) =>
  raw === undefined ? fallback : /^(1|true|yes|on)$/i.test(raw.trim());

/** The seed's notification switches → `notifyOn` (their defaults: only above-max on). */
const NOTIFY_SWITCHES = [
  { name: "AUTOSCALE_NOTIFY_ON_EVERY_PING", event: "measurement", seedDefault: false },
  { name: "AUTOSCALE_NOTIFY_ON_EVERY_SCALE", event: "scale", seedDefault: false },
  { name: "AUTOSCALE_NOTIFY_IF_NEEDS_EXCEED_MAX", event: "above-max", seedDefault: true },
  { name: "AUTOSCALE_NOTIFY_IF_NEEDS_BELOW_MIN", event: "below-min", seedDefault: false },
  { name: "AUTOSCALE_NOTIFY_ON_SCALE_FAILS", event: "scale-failed", seedDefault: false },
] as const;

/** The seeds named notification backends by class; ours by word. */
const BACKEND_NAMES: Record<string, string> = {
  consolebackend: "console",
  loggerbackend: "log",
  testbackend: "memory",
};

function backends(raw: string): string[] {
  const names = /^\s*\[/.test(raw) ? (JSON.parse(raw) as unknown[]).map(String) : raw.split(",");
  return names
    .map((n) => n.trim())
    .filter(Boolean)
    .map((n) => BACKEND_NAMES[n.split(".").pop()!.toLowerCase()] ?? n);
}

const HEARTBEAT_INTERVAL = "AUTOSCALE_HEARTBEAT_INTERVAL_IN_SECONDS";
const SEED_INTERVAL_SECONDS = 30;

/**
 * The seeds measured every HEARTBEAT_INTERVAL seconds; a tick runs every minute. An interval
 * under a minute becomes several samples per tick (their median is the reading); a longer one
 * measures only every interval (the ticks between wait).
 */
function interval(raw: string | undefined): { samples?: number; intervalSeconds?: number } | string {
  const seconds = raw === undefined ? SEED_INTERVAL_SECONDS : Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) return `${HEARTBEAT_INTERVAL}: expected seconds > 0`;
  if (seconds < 60) return { samples: Math.min(10, Math.round(60 / seconds)) };
  return { intervalSeconds: Math.round(seconds) };
}

/** True when the seed-style variables are in use (the app name is what they cannot do without). */
export const usesSeedEnv = (env: Env) => Boolean(env.AUTOSCALE_HEROKU_APP_NAME);

export function configFromSeedEnv(env: Env): Config {
  const problems: string[] = [];
  const settings: Record<string, Record<string, unknown>> = {
    measurement: { backend: "response-time" },
    decision: { backend: "consecutive-threshold" },
    scaling: {
      backend: "heroku",
      apiKeyEnv: env.AUTOSCALE_HEROKU_API_KEY ? "AUTOSCALE_HEROKU_API_KEY" : "HEROKU_API_KEY",
    },
    notification: {},
  };
  const set = (path: string[], value: unknown) => {
    const [section, key] = path as [string, string];
    settings[section]![key] = value;
  };
  for (const variable of SEED_VARIABLES) {
    const raw = env[variable.name];
    if (raw !== undefined) set(variable.path, variable.parse(raw));
    else if (variable.seedDefault !== undefined) set(variable.path, variable.seedDefault);
  }
  const timing = interval(env[HEARTBEAT_INTERVAL]);
  if (typeof timing === "string") problems.push(timing);
  else if (timing.samples) settings.measurement!.samples = timing.samples;
  const intervalSeconds = typeof timing === "string" ? undefined : timing.intervalSeconds;

  settings.notification!.notifyOn = NOTIFY_SWITCHES.filter((s) => flag(env[s.name], s.seedDefault)).map(
    (s) => s.event,
  );
  if (env.AUTOSCALE_NOTIFICATION_BACKENDS) {
    try {
      settings.notification!.backends = backends(env.AUTOSCALE_NOTIFICATION_BACKENDS);
    } catch {
      problems.push("AUTOSCALE_NOTIFICATION_BACKENDS: expected a comma-separated or JSON list");
    }
  }
  // Seed 000's "more than N processes of change within M minutes": on when both are set.
  const diff = env.AUTOSCALE_NOTIFY_IF_SCALE_DIFF_EXCEEDS_THRESHOLD;
  const period = env.AUTOSCALE_NOTIFY_IF_SCALE_DIFF_EXCEEDS_PERIOD_IN_MINUTES;
  if (diff !== undefined || period !== undefined) {
    Object.assign(settings.notification!, {
      scaleDiffThreshold: number(diff ?? ""),
      scaleDiffPeriodMinutes: number(period ?? ""),
    });
    (settings.notification!.notifyOn as string[]).push("too-rapid");
  }
  if (problems.length > 0) throw new ConfigError("AUTOSCALE_* variables", problems);

  const processType = settings.scaling!.processType;
  const name = typeof processType === "string" ? processType : "web";
  const timezone = env.AUTOSCALE_TIME_ZONE ?? env.TIME_ZONE;
  try {
    return parseConfig(
      {
        ...(timezone ? { timezone } : {}),
        processes: { [name]: { ...settings, ...(intervalSeconds ? { intervalSeconds } : {}) } },
      },
      "AUTOSCALE_* variables",
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(
      error.source,
      error.problems.map((problem) => renameProblem(problem, name)),
    );
  }
}

/** `processes.web.decision.maxProcesses: ...` → `AUTOSCALE_MAX_DYNOS: ...`: name what the user set. */
function renameProblem(problem: string, processName: string): string {
  const prefix = `processes.${processName}.`;
  for (const variable of SEED_VARIABLES) {
    const path = prefix + variable.path.join(".");
    if (problem.startsWith(`${path}:`) || problem.startsWith(`${path}.`)) {
      return `${variable.name}${problem.slice(path.length)}`;
    }
  }
  if (problem.startsWith("timezone:")) return `AUTOSCALE_TIME_ZONE${problem.slice("timezone".length)}`;
  for (const [setting, variable] of [
    ["scaleDiffThreshold", "AUTOSCALE_NOTIFY_IF_SCALE_DIFF_EXCEEDS_THRESHOLD"],
    ["scaleDiffPeriodMinutes", "AUTOSCALE_NOTIFY_IF_SCALE_DIFF_EXCEEDS_PERIOD_IN_MINUTES"],
  ] as const) {
    const path = `${prefix}notification.${setting}`;
    if (problem.startsWith(`${path}:`)) return `${variable}${problem.slice(path.length)}`;
  }
  if (problem.startsWith(`${prefix}notification.backends`))
    return `AUTOSCALE_NOTIFICATION_BACKENDS${problem.slice(`${prefix}notification.backends`.length)}`;
  return problem;
}
