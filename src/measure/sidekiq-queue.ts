import { z } from "zod";
import type { Env } from "../kit/env.js";
import { systemClock, type Clock } from "../kit/clock.js";
import { brokerSettingsFields, countReply, measureQueue, QueueError, textReply } from "./queue-broker.js";
import type { Measurement, MeasurementBackend, Reading } from "./types.js";

/**
 * A Sidekiq queue: its depth (jobs waiting) or its latency (how long the oldest job has waited,
 * as Sidekiq::Queue#latency computes it). Sidekiq LPUSHes jobs onto `queue:<name>` and fetches
 * with BRPOP, so the oldest job is at the right end.
 */
export const sidekiqQueueSchema = z.strictObject({
  backend: z
    .literal("sidekiq-queue")
    .describe(
      "A Sidekiq queue's depth (jobs waiting) or latency (how long the oldest job has waited, in ms).",
    ),
  queue: z.string().min(1).default("default").describe("The Sidekiq queue's name."),
  metric: z
    .enum(["depth", "latency"])
    .default("depth")
    .describe(
      "depth: LLEN queue:<name>, in jobs; latency: now − the oldest job's enqueued_at, in milliseconds.",
    ),
  keyPrefix: z
    .string()
    .default("")
    .describe('Written before queue:<name> as is; redis-namespace\'s "myapp" namespace is "myapp:".'),
  ...brokerSettingsFields,
});
export type SidekiqQueueConfig = z.infer<typeof sidekiqQueueSchema>;

/** Only the field latency needs; a job carries many more. */
const sidekiqJob = z.object({ enqueued_at: z.number() });

/**
 * Sidekiq 8 writes enqueued_at as integer epoch milliseconds, earlier versions as float epoch
 * seconds. Seconds stay below 1e11 until the year 5138; milliseconds passed 1e11 in 1973.
 */
const SECONDS_BELOW = 1e11;

export class SidekiqQueueMeasurement implements Measurement {
  readonly #key: string;

  constructor(
    private readonly config: SidekiqQueueConfig,
    private readonly env: Env,
    private readonly clock: Clock = systemClock,
  ) {
    this.#key = `${config.keyPrefix}queue:${config.queue}`;
  }

  measure(signal: AbortSignal): Promise<Reading> {
    const { config, env } = this;
    const unit = config.metric === "latency" ? "ms" : "jobs";
    return measureQueue({ backend: "sidekiq-queue", unit, settings: config, env, signal }, async (broker) => {
      if (config.metric === "depth") {
        const [reply] = await broker.read([["LLEN", this.#key]]);
        return countReply(reply, `LLEN ${this.#key}`);
      }
      const [reply] = await broker.read([["LINDEX", this.#key, -1]]);
      const oldest = textReply(reply, `LINDEX ${this.#key}`);
      if (oldest === null) return 0; // empty queue: nothing waits
      return Math.max(0, Math.round(this.clock.now() - enqueuedAtMs(oldest, this.#key)));
    });
  }
}

function enqueuedAtMs(payload: string, key: string): number {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    throw new QueueError(`malformed Sidekiq job in ${key}: not JSON`);
  }
  const job = sidekiqJob.safeParse(json);
  if (!job.success) throw new QueueError(`malformed Sidekiq job in ${key}: no numeric enqueued_at`);
  const enqueuedAt = job.data.enqueued_at;
  return enqueuedAt < SECONDS_BELOW ? enqueuedAt * 1000 : enqueuedAt;
}

/** The `sidekiq-queue` backend's descriptor, listed in ./registry.ts. */
export const sidekiqQueue: MeasurementBackend<typeof sidekiqQueueSchema> = {
  schema: sidekiqQueueSchema,
  create: (config, { env, clock }) => new SidekiqQueueMeasurement(config, env, clock),
  budgetMs: (config) => config.timeoutMs,
};
