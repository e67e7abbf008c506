import { didYouMean } from "../kit/closest.js";
import { ConfigError, parseConfig } from "./load.js";
import type { Config } from "./schema.js";
import type { Env } from "../kit/env.js";

/**
 * The seeds' flat AUTOSCALE_* settings (django-heroku-autoscale and autoscalebot 0.2), for
 * deploying one process by environment variables alone. They map onto the one schema, so
 * every check applies; problems are reported under the variable's name.
 */
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
  /** Without it there is nothing to scale or measure: "required", by name, rather than a schema message. */
  required?: true;
  meaning: string;
}> = [
  {
    name: "AUTOSCALE_HEROKU_APP_NAME",
    path: ["scaling", "app"],
    parse: text,
    required: true,
    meaning: "the Heroku app's name",
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
    required: true,
    meaning: "the heartbeat's absolute URL",
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

const SWITCH_VALUES: Record<string, boolean> = {
  true: true,
  false: false,
  1: true,
  0: false,
  yes: true,
  no: false,
};

/** A switch: true/false, 1/0 or yes/no in any case; anything else is a problem naming the variable. */
function flag(name: string, raw: string | undefined, fallback: boolean, problems: string[]): boolean {
  if (raw === undefined) return fallback;
  const value = SWITCH_VALUES[raw.trim().toLowerCase()];
  if (value !== undefined) return value;
  problems.push(`${name}: expected true/false, 1/0 or yes/no, got ${JSON.stringify(raw)}`);
  return fallback;
}

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

const BACKENDS_VARIABLE = "AUTOSCALE_NOTIFICATION_BACKENDS";
const API_KEY_VARIABLE = "AUTOSCALE_HEROKU_API_KEY";
const DIFF_THRESHOLD = "AUTOSCALE_NOTIFY_IF_SCALE_DIFF_EXCEEDS_THRESHOLD";
const DIFF_PERIOD = "AUTOSCALE_NOTIFY_IF_SCALE_DIFF_EXCEEDS_PERIOD_IN_MINUTES";
const TIME_ZONE_VARIABLE = "AUTOSCALE_TIME_ZONE";

/** Every AUTOSCALE_* variable this mode reads. */
const KNOWN_SEED_VARIABLES: ReadonlySet<string> = new Set([
  ...SEED_VARIABLES.map((v) => v.name),
  ...NOTIFY_SWITCHES.map((s) => s.name),
  HEARTBEAT_INTERVAL,
  BACKENDS_VARIABLE,
  API_KEY_VARIABLE,
  DIFF_THRESHOLD,
  DIFF_PERIOD,
  TIME_ZONE_VARIABLE,
]);

/** AUTOSCALE_* variables the project reads for other things than this mode: neither seed settings nor typos. */
export const OTHER_AUTOSCALE_VARIABLES: ReadonlySet<string> = new Set([
  "AUTOSCALE_CONFIG",
  "AUTOSCALE_TRIGGER_TOKEN",
  "AUTOSCALE_STATUS_TOKEN",
  "AUTOSCALE_STATE_DIR",
]);

const isSet = (raw: string | undefined) => raw !== undefined && raw.trim() !== "";

/**
 * True when the environment configures the autoscaler by the seeds' variables: any AUTOSCALE_*
 * variable is set, known or not (a typo alone must reach the error that names it), except the
 * project's other variables, the API key (a secret a JSON configuration may name too) and the
 * variables in `referenced` (those a configuration names, e.g. in `apiKeyEnv`).
 */
export function usesSeedEnv(env: Env, referenced: ReadonlySet<string> = new Set()): boolean {
  return Object.entries(env).some(
    ([name, raw]) =>
      name.startsWith("AUTOSCALE_") &&
      isSet(raw) &&
      name !== API_KEY_VARIABLE &&
      !OTHER_AUTOSCALE_VARIABLES.has(name) &&
      !referenced.has(name),
  );
}

/** An AUTOSCALE_* variable nothing reads is a typo until shown otherwise, as an unknown key in the JSON is. */
function unknownVariables(env: Env): string[] {
  const known = [...KNOWN_SEED_VARIABLES, ...OTHER_AUTOSCALE_VARIABLES];
  return Object.keys(env)
    .filter((name) => name.startsWith("AUTOSCALE_") && env[name] !== undefined)
    .filter((name) => !KNOWN_SEED_VARIABLES.has(name) && !OTHER_AUTOSCALE_VARIABLES.has(name))
    .sort()
    .map((name) => `${name}: unknown variable${didYouMean(name, known)}`);
}

export function configFromSeedEnv(env: Env): Config {
  const problems: string[] = unknownVariables(env);
  const settings: Record<string, Record<string, unknown>> = {
    measurement: { backend: "response-time" },
    decision: { backend: "consecutive-threshold" },
    scaling: {
      backend: "heroku",
      apiKeyEnv: env[API_KEY_VARIABLE] ? API_KEY_VARIABLE : "HEROKU_API_KEY",
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
    else if (variable.required) problems.push(`${variable.name}: required (${variable.meaning})`);
  }
  const timing = interval(env[HEARTBEAT_INTERVAL]);
  if (typeof timing === "string") problems.push(timing);
  else if (timing.samples) settings.measurement!.samples = timing.samples;
  const intervalSeconds = typeof timing === "string" ? undefined : timing.intervalSeconds;

  settings.notification!.notifyOn = NOTIFY_SWITCHES.filter((s) =>
    flag(s.name, env[s.name], s.seedDefault, problems),
  ).map((s) => s.event);
  const backendList = env[BACKENDS_VARIABLE];
  if (backendList) {
    try {
      settings.notification!.backends = backends(backendList);
    } catch {
      problems.push(`${BACKENDS_VARIABLE}: expected a comma-separated or JSON list`);
    }
  }
  // Seed 000's "more than N processes of change within M minutes": on when both are set.
  const diff = env[DIFF_THRESHOLD];
  const period = env[DIFF_PERIOD];
  if (diff !== undefined || period !== undefined) {
    Object.assign(settings.notification!, {
      scaleDiffThreshold: number(diff ?? ""),
      scaleDiffPeriodMinutes: number(period ?? ""),
    });
    (settings.notification!.notifyOn as string[]).push("too-rapid");
  }

  const processType = settings.scaling!.processType;
  const name = typeof processType === "string" ? processType : "web";
  // The seeds (Django settings) read TIME_ZONE; problems name the variable that was set.
  const zoneVariable = env[TIME_ZONE_VARIABLE] !== undefined ? TIME_ZONE_VARIABLE : "TIME_ZONE";
  const timezone = env[zoneVariable];
  const parsed = parseOrProblems(
    {
      ...(timezone ? { timezone } : {}),
      processes: { [name]: { ...settings, ...(intervalSeconds ? { intervalSeconds } : {}) } },
    },
    (problem) => renameProblem(problem, name, zoneVariable),
  );
  if (!Array.isArray(parsed) && problems.length === 0) return parsed;
  // A variable already reported (a missing one, say) is not reported again in the schema's words.
  const variableOf = (problem: string) => /^[^.:]+/.exec(problem)![0];
  const reported = new Set(problems.map(variableOf));
  const more = Array.isArray(parsed) ? parsed.filter((problem) => !reported.has(variableOf(problem))) : [];
  throw new ConfigError(SOURCE, [...problems, ...more]);
}

const SOURCE = "AUTOSCALE_* variables";

/** The parsed configuration, or its problems renamed to the variables. */
function parseOrProblems(input: unknown, rename: (problem: string) => string): Config | string[] {
  try {
    return parseConfig(input, SOURCE);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map(rename);
  }
}

/** `processes.web.decision.maxProcesses: ...` → `AUTOSCALE_MAX_DYNOS: ...`: name what the user set. */
function renameProblem(problem: string, processName: string, zoneVariable: string): string {
  const prefix = `processes.${processName}.`;
  for (const variable of SEED_VARIABLES) {
    const path = prefix + variable.path.join(".");
    if (problem.startsWith(`${path}:`) || problem.startsWith(`${path}.`)) {
      return `${variable.name}${problem.slice(path.length)}`;
    }
  }
  if (problem.startsWith("timezone:")) return `${zoneVariable}${problem.slice("timezone".length)}`;
  for (const [setting, variable] of [
    ["scaleDiffThreshold", DIFF_THRESHOLD],
    ["scaleDiffPeriodMinutes", DIFF_PERIOD],
  ] as const) {
    const path = `${prefix}notification.${setting}`;
    if (problem.startsWith(`${path}:`)) return `${variable}${problem.slice(path.length)}`;
  }
  if (problem.startsWith(`${prefix}notification.backends`))
    return `${BACKENDS_VARIABLE}${problem.slice(`${prefix}notification.backends`.length)}`;
  return problem;
}
