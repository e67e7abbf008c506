import { z } from "zod";
import { integer, nonNegative } from "../kit/fields.js";
import { scheduleSchema } from "../decide/index.js";

/** A number > 0 with an error message that says so. */
const positive = (what = "number") =>
  z
    .number({ error: `expected ${what} > 0` })
    .gt(0, { error: `expected ${what} > 0` })
    .refine(Number.isFinite, { error: `expected ${what} > 0` });

/**
 * The what-if simulator's capacity model (src/simulate/model.ts) and report settings: an
 * optional top-level `simulation` key of the one configuration. The tick ignores it.
 *
 * Defaults model a Heroku Standard-1X dyno running a two-worker app server: 1200 requests a
 * minute at full use (20 a second), 100 ms of work per request, 30 s from `ps:scale` to serving,
 * $25 a month prorated to the second ($25 / 720 h ≈ $0.035 an hour).
 */
export const simulationSchema = z
  .strictObject({
    capacityPerProcess: positive("requests per minute")
      .default(1200)
      .describe("Requests per minute one process completes when fully busy (its concurrency is folded in)."),
    serviceTimeMs: nonNegative("ms")
      .default(100)
      .describe(
        "A request's own time on an idle process, in milliseconds (taken as constant): the latency floor.",
      ),
    queueing: z
      .enum(["mmc", "fluid"])
      .default("mmc")
      .describe(
        "mmc: M/M/c waiting (Erlang C) below saturation plus the fluid backlog above it; fluid: the backlog only.",
      ),
    bootSeconds: nonNegative("seconds")
      .default(30)
      .describe("Seconds from a scale-up until the new process serves (Heroku dynos take tens of seconds)."),
    rateMultiplier: positive()
      .default(1)
      .describe(
        "Every trace value is multiplied by this (the NASA trace of 1995 is small: x100 models a modern site).",
      ),
    pricePerProcessHour: nonNegative()
      .default(0.035)
      .describe(
        "What one process costs per hour, booting included (Heroku bills per second); a Standard-1X is $25 a month.",
      ),
    sloMs: positive("ms")
      .default(500)
      .describe("The latency objective, in milliseconds: above serviceTimeMs."),
    sloMetric: z
      .enum(["p95", "mean"])
      .default("p95")
      .describe("Which latency a minute is judged on: its 95th percentile or its mean."),
    measurement: z
      .enum(["response-time", "queue-time"])
      .optional()
      .describe(
        "What the policy reads: the heartbeat's response time or its queue time (default: queue-time when the process measures queue time).",
      ),
    noise: z
      .strictObject({
        seed: integer(0, 2 ** 32 - 1)
          .default(1)
          .describe("Seed of the noise generator: the same seed gives the same numbers."),
        stddevMs: nonNegative("ms")
          .default(0)
          .describe("Standard deviation of the noise, in milliseconds (0: none)."),
      })
      .prefault({})
      .describe("Gaussian noise on every reading, from a seeded generator."),
    initialProcesses: integer(0, 10_000)
      .optional()
      .describe(
        "Processes at the start, held within the policy's bounds then (default: the fewest that meet the SLO at the first minute).",
      ),
    schedule: scheduleSchema
      .optional()
      .describe(
        "The schedule baseline's cron entries, as decision.schedule (default: the decision's own schedule).",
      ),
  })
  // No count of processes answers faster than the service time: the baselines could not be sized.
  .refine((s) => s.sloMs > s.serviceTimeMs, {
    path: ["sloMs"],
    error: "expected ms > serviceTimeMs (no request is answered faster than its service time)",
  });
export type SimulationSettings = z.infer<typeof simulationSchema>;
export type SimulationInput = z.input<typeof simulationSchema>;

/** The settings with every default filled in. */
export const defaultSimulation = (input: SimulationInput = {}): SimulationSettings =>
  simulationSchema.parse(input);
