import { z } from "zod";
import { decisionSchema } from "../decide/registry.js";
import { measurementSchema } from "../measure/registry.js";
import { notificationSchema } from "../notify/registry.js";
import { scalingSchema } from "../scale/registry.js";
import { integer, timezone } from "./fields.js";

/** The seeds' default decision backend, taken when `decision` is left out or names no backend. */
const DEFAULT_DECISION = "consecutive-threshold";
const withDefaultBackend = (value: unknown) =>
  value === undefined
    ? { backend: DEFAULT_DECISION }
    : value !== null && typeof value === "object" && !Array.isArray(value) && !("backend" in value)
      ? { backend: DEFAULT_DECISION, ...value }
      : value;

/** One process type to scale: how to measure it, decide, scale and tell admins. */
export const processSchema = z.strictObject({
  measurement: measurementSchema,
  decision: z.preprocess(withDefaultBackend, decisionSchema),
  scaling: scalingSchema,
  notification: notificationSchema.prefault({}),
  /**
   * Measure only every this many seconds (ticks between wait); the seeds' heartbeat interval.
   * A tick runs every minute, so 60 is every tick.
   */
  intervalSeconds: integer(60, 86_400).default(60),
});
export type ProcessConfig = z.infer<typeof processSchema>;

const processName = z
  .string()
  .regex(/^[-\w]{1,64}$/, { error: "expected a process name of letters, digits, - and _" });

/** The one configuration schema: the CLI, the scheduled function and the trigger all parse it. */
export const configSchema = z.strictObject({
  /** IANA zone in which time-of-day bounds are read. */
  timezone: timezone.default("UTC"),
  /** Prefix of the state store's keys, so several autoscalers can share one Redis. */
  keyPrefix: z
    .string()
    .regex(/^[\w:.-]{1,64}$/, { error: "expected 1-64 letters, digits, _ : . -" })
    .default("autoscalebot"),
  /** The tick's overall budget: Netlify stops a scheduled function at 30 s, and state must be written before. */
  tickDeadlineMs: integer(1000, 28_000).default(25_000),
  processes: z
    .record(processName, processSchema)
    .refine((processes) => Object.keys(processes).length > 0, { error: "expected at least one process" }),
});
export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
