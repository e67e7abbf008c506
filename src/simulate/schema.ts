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
 * Defaults model a Heroku Standard-1X dyno running a two-worker app server behind Heroku's
 * router: 1200 requests a minute at full use (20 a second), 100 ms of work per request, requests
 * routed to a random dyno, the router's 30 s timeout (H12), up to 60 s from `ps:scale` to
 * serving (Heroku's boot timeout, R10), $25 a month prorated to the second ($25 / 720 h ≈ $0.035
 * an hour).
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
    routing: z
      .enum(["random", "shared"])
      .default("random")
      .describe(
        "random: each request goes to a random process, each process its own queue (Heroku's router); shared: one queue in front of all processes, served by whichever is free (a least-busy balancer).",
      ),
    queueing: z
      .enum(["mmc", "fluid"])
      .default("mmc")
      .describe(
        "mmc: random waiting (an M/M/1 queue per process under random routing, M/M/c for shared) plus the backlog; fluid: the backlog only.",
      ),
    routerTimeoutSeconds: positive("seconds")
      .default(30)
      .describe(
        "Seconds after which the router gives up on a request (Heroku: 30, error H12): a request not answered by then is dropped, and the queue loses it.",
      ),
    bootSeconds: nonNegative("seconds")
      .default(60)
      .describe(
        "Seconds from a scale-up until the new process serves (default: Heroku's boot timeout, R10, the longest a web dyno may take to bind its port).",
      ),
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
      .enum(["response-time", "queue-time", "request-metrics"])
      .optional()
      .describe(
        "What the policy reads: the heartbeat's response time or its queue time, or the request-metrics backend's figures from sampled processes (default: the process's own measurement when it is queue-time or request-metrics, else response-time).",
      ),
    noise: z
      .strictObject({
        seed: integer(0, 2 ** 32 - 1)
          .default(1)
          .describe(
            "Seed of every random draw (the routing of requests, the heartbeat's request, the noise): the same seed gives the same numbers.",
          ),
        stddevMs: nonNegative("ms")
          .default(0)
          .describe(
            "Standard deviation of the heartbeat request's own service time around serviceTimeMs, in milliseconds (0: exactly serviceTimeMs).",
          ),
      })
      .prefault({})
      .describe("The seeded generator, and the spread of the heartbeat's service time."),
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
    warmupDays: integer(0, 365)
      .optional()
      .describe(
        "Days at the trace's start replayed but not counted, for every row alike: what a policy learns there (decision.prewarm's profile) is in force when counting starts (default: 7 when a policy pre-warms and the trace is longer than a week, else 0).",
      ),
  })
  // No count of processes answers faster than the service time: the baselines could not be sized.
  .refine((s) => s.sloMs > s.serviceTimeMs, {
    path: ["sloMs"],
    error: "expected ms > serviceTimeMs (no request is answered faster than its service time)",
  })
  // A request the router drops is late too: an SLO past the timeout would count nothing.
  .refine((s) => s.routerTimeoutSeconds * 1000 > s.sloMs, {
    path: ["routerTimeoutSeconds"],
    error: "expected seconds > sloMs / 1000 (the router drops a request before it could be late)",
  });
export type SimulationSettings = z.infer<typeof simulationSchema>;
export type SimulationInput = z.input<typeof simulationSchema>;

/** The settings with every default filled in. */
export const defaultSimulation = (input: SimulationInput = {}): SimulationSettings =>
  simulationSchema.parse(input);
