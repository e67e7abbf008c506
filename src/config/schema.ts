import { z } from "zod";
import { decisionSchema } from "../decide/index.js";
import { readsAtZero, measurementBudgetMs, measurementSchema } from "../measure/index.js";
import { notificationSchema } from "../notify/index.js";
import { formationOf, scalingBudgetMs, scalingSchema } from "../scale/index.js";
import { STORE_TIMEOUT_MS } from "../state/index.js";
import { envName, httpUrl, integer, timezone } from "../kit/fields.js";

/** The seeds' default decision backend, taken when `decision` is left out or names no backend. */
export const DEFAULT_DECISION = "consecutive-threshold";
const withDefaultBackend = (value: unknown) =>
  value === undefined
    ? { backend: DEFAULT_DECISION }
    : value !== null && typeof value === "object" && !Array.isArray(value) && !("backend" in value)
      ? { backend: DEFAULT_DECISION, ...value }
      : value;

/** One process type to scale: how to measure it, decide, scale and tell admins. */
export const processSchema = z
  .strictObject({
    measurement: measurementSchema.describe("How the process's load is read: the backend and its settings."),
    decision: z
      .preprocess(withDefaultBackend, decisionSchema)
      .describe(
        `How a reading becomes a process count: the backend and its settings (${DEFAULT_DECISION} when left out or when no backend is named).`,
      ),
    scaling: scalingSchema.describe("Where the process count is set: the platform backend and its settings."),
    notification: notificationSchema
      .prefault({})
      .describe("Whom to tell about scales and lasting conditions, and when."),
    // A tick runs every minute, so 60 is every tick.
    intervalSeconds: integer(60, 86_400)
      .default(60)
      .describe(
        "Measure this process only every this many seconds (the seeds' heartbeat interval); the ticks in between report it as waiting.",
      ),
    manualOverrideMinutes: integer(0, 1440)
      .default(30)
      .describe(
        "When someone scales this process by hand (heroku ps:scale, the platform's dashboard), hold the new count this many minutes before deciding again (the fail-safe still scales out); 0 only takes the new count as current.",
      ),
  })
  .superRefine(checkZeroAllowed);
export type ProcessConfig = z.infer<typeof processSchema>;

/**
 * A minimum of 0 is for workers: a queue measurement (or the app's own answer, app-json) still
 * reads with no process running and wakes one on the first job. A web process at 0 answers
 * nothing, and its heartbeat then reads as an outage, so it needs `allowZero`.
 */
function checkZeroAllowed(
  process: { measurement: z.infer<typeof measurementSchema>; decision: z.infer<typeof decisionSchema> },
  ctx: z.RefinementCtx,
): void {
  const { decision, measurement } = process;
  if (decision.allowZero || !canBeZero(decision.minProcesses) || readsAtZero(measurement)) return;
  ctx.addIssue({
    code: "custom",
    path: ["decision", "minProcesses"],
    message: `minProcesses of 0 is for workers measured by their job queue; the ${measurement.backend} measurement reads a web process, which at 0 answers nothing (set decision.allowZero: true to allow it anyway)`,
  });
}

/** Whether a bound (which may have failed its own checks) is 0 at some moment. */
function canBeZero(bound: unknown): boolean {
  if (typeof bound === "number") return bound === 0;
  if (Array.isArray(bound)) return bound.some((rule) => (rule as { value?: unknown } | null)?.value === 0);
  return bound !== null && typeof bound === "object" && Object.values(bound).includes(0);
}

const processName = z
  .string()
  .regex(/^[-\w]{1,64}$/, { error: "expected a process name of letters, digits, - and _" });

/** The one configuration schema: the CLI, the scheduled function and the trigger all parse it. */
const configBody = z.strictObject({
  /** Lets an editor find the JSON Schema (autoscale.schema.json); the tick never reads it. */
  $schema: z
    .string()
    .optional()
    .describe("The JSON Schema this file follows, for editors (e.g. ./autoscale.schema.json); ignored."),
  timezone: timezone
    .default("UTC")
    .describe(
      "IANA time zone in which time-of-day bounds and schedules are read, by wall-clock time (DST-correct).",
    ),
  keyPrefix: z
    .string()
    .regex(/^[\w:.-]{1,64}$/, { error: "expected 1-64 letters, digits, _ : . -" })
    .default("autoscalebot")
    .describe(
      "Prefix of the state store's Redis keys (<prefix>:state, <prefix>:lock), so several autoscalers can share one database.",
    ),
  /** Netlify stops a scheduled function at 30 s, and state must be written before. */
  tickDeadlineMs: integer(1000, 28_000)
    .default(25_000)
    .describe(
      "The tick's overall budget in milliseconds: every process's calls must fit in it, with time left to write state.",
    ),
  monitor: z
    .strictObject({
      pingUrl: httpUrl
        .optional()
        .describe(
          "URL requested after every tick (with /fail appended when the tick failed), e.g. a healthchecks.io check.",
        ),
      pingUrlEnv: envName
        .optional()
        .describe("The environment variable holding the ping URL, when the URL is a secret."),
      // At most 2 s: with the longest tickDeadlineMs (28 s) the function still ends inside Netlify's 30 s.
      timeoutMs: integer(100, 2000)
        .default(1000)
        .describe("How long the ping may take, in milliseconds; it runs after the state is written."),
    })
    .refine((m) => (m.pingUrl === undefined) !== (m.pingUrlEnv === undefined), {
      error: "set exactly one of pingUrl and pingUrlEnv",
      path: ["pingUrl"],
    })
    .optional()
    .describe("A dead-man's switch: a monitor that is told after every tick, and notices when that stops."),
  history: z
    .strictObject({
      retentionDays: integer(0, 90)
        .default(7)
        .describe(
          "Days of tick history kept in the state store (one entry per tick for all processes, one command); 0 turns history off.",
        ),
    })
    .prefault({})
    .describe("The record of every tick, for the status command and the dashboard."),
  /**
   * Checked by `autoscalebot simulate` against its own schema (src/simulate/schema.ts), so the
   * product never loads the simulator.
   */
  simulation: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("The what-if simulator's capacity model and report settings; the tick ignores it."),
  processes: z
    .record(processName, processSchema)
    .refine((processes) => Object.keys(processes).length > 0, { error: "expected at least one process" })
    .describe(
      "The process types to scale, by name (letters, digits, - and _): each with its measurement, decision, scaling and notification. At least one.",
    ),
});

export const configSchema = configBody.superRefine((config, ctx) => {
  checkTimeBudgets(config, ctx);
  checkFormationsUnique(config, ctx);
});
export type Config = z.infer<typeof configSchema>;

/**
 * A process's calls must fit the tick: the measurement (with its sampling window) runs beside
 * the formation read, then the scale, then the notifications, and the state store's timeout is
 * kept back for the save (src/engine/tick.ts keeps the store's own; the check takes the default
 * one, the Upstash client's). Otherwise a slow heartbeat would be cut off by the deadline as a
 * timed-out process instead of counting as slow. The save of a scale's intent before the PATCH
 * is one quick command and not counted: a store that does not answer it scales nothing.
 */
function checkTimeBudgets(config: z.infer<typeof configBody>, ctx: z.RefinementCtx): void {
  const available = config.tickDeadlineMs - STORE_TIMEOUT_MS;
  for (const [name, process] of Object.entries(config.processes)) {
    const { measurement, scaling, notification } = process;
    const measuring = measurementBudgetMs(measurement);
    const scalingMs = scalingBudgetMs(scaling);
    const total = Math.max(measuring, scalingMs) + scalingMs + notification.timeoutMs;
    if (total > available) {
      ctx.addIssue({
        code: "custom",
        path: ["processes", name],
        message:
          `timeouts add up to ${total} ms (measurement ${measuring}, scaling ${scalingMs} twice, ` +
          `notification ${notification.timeoutMs}), more than the ` +
          `${Math.max(0, available)} ms a tick of tickDeadlineMs ${config.tickDeadlineMs} leaves after keeping ${STORE_TIMEOUT_MS} ms for its save`,
      });
    }
  }
}

/** Two processes scaling one formation would fight over it every tick. */
function checkFormationsUnique(config: z.infer<typeof configBody>, ctx: z.RefinementCtx): void {
  const owners = new Map<string, string>();
  for (const [name, { scaling }] of Object.entries(config.processes)) {
    const formation = formationOf(scaling, name);
    const owner = owners.get(formation);
    if (owner) {
      ctx.addIssue({
        code: "custom",
        path: ["processes", name, "scaling"],
        message: `scales the same formation as processes.${owner}`,
      });
    }
    owners.set(formation, name);
  }
}
