import { z } from "zod";
import type { Env } from "../kit/env.js";
import { systemClock, type Clock } from "../kit/clock.js";
import {
  brokerSettingsFields,
  countReply,
  measureQueue,
  QueueError,
  textReply,
  textsReply,
  type BrokerCommand,
  type QueueBroker,
} from "./queue-broker.js";
import type { Measurement, MeasurementBackend, Reading } from "./types.js";

/**
 * A BullMQ queue: its depth (jobs waiting) or its latency (how long the oldest waiting job has
 * waited). BullMQ's layout (v5), under `<prefix>:<queue>:`:
 * - `wait`: a list of job ids; jobs are LPUSHed and workers take from the right, so the oldest
 *   waiting job is at the right end;
 * - `prioritized`: a sorted set of job ids (score from the priority), taken only when `wait` is empty;
 * - `<id>`: the job's hash; its `timestamp` field is the epoch ms when the job was added.
 * A paused queue keeps its jobs in `paused`, which is not counted: paused jobs want no workers.
 */
export const bullmqQueueSchema = z.strictObject({
  backend: z
    .literal("bullmq-queue")
    .describe(
      "A BullMQ queue's depth (jobs waiting) or latency (how long the oldest waiting job has waited, in ms).",
    ),
  queue: z.string().min(1).describe("The BullMQ queue's name."),
  metric: z
    .enum(["depth", "latency"])
    .default("depth")
    .describe(
      "depth: jobs in <prefix>:<queue>:wait; latency: now − the oldest waiting job's timestamp, in milliseconds.",
    ),
  prefix: z.string().min(1).default("bull").describe("BullMQ's prefix option; keys are <prefix>:<queue>:..."),
  includePrioritized: z
    .boolean()
    .default(false)
    .describe("Count prioritized jobs too (and, for latency, the next prioritized job's wait)."),
  ...brokerSettingsFields,
});
export type BullmqQueueConfig = z.infer<typeof bullmqQueueSchema>;

/**
 * Ids read from the old end of `wait`: a worker may take the oldest job (and a finished job may be
 * removed) between our two round trips, so the next ones stand in for it.
 */
const CANDIDATES = 3;

export class BullmqQueueMeasurement implements Measurement {
  readonly #base: string;

  constructor(
    private readonly config: BullmqQueueConfig,
    private readonly env: Env,
    private readonly clock: Clock = systemClock,
  ) {
    this.#base = `${config.prefix}:${config.queue}:`;
  }

  measure(signal: AbortSignal): Promise<Reading> {
    const { config, env } = this;
    const unit = config.metric === "latency" ? "ms" : "jobs";
    return measureQueue({ backend: "bullmq-queue", unit, settings: config, env, signal }, (broker) =>
      config.metric === "depth" ? this.#depth(broker) : this.#latency(broker),
    );
  }

  async #depth(broker: QueueBroker): Promise<number> {
    const commands: BrokerCommand[] = [["LLEN", `${this.#base}wait`]];
    if (this.config.includePrioritized) commands.push(["ZCARD", `${this.#base}prioritized`]);
    const replies = await broker.read(commands);
    return replies.reduce<number>((sum, reply) => sum + countReply(reply, `depth of ${this.#base}`), 0);
  }

  /** Two round trips: the candidate ids, then their timestamps. */
  async #latency(broker: QueueBroker): Promise<number> {
    const commands: BrokerCommand[] = [["LRANGE", `${this.#base}wait`, -CANDIDATES, -1]];
    if (this.config.includePrioritized) commands.push(["ZRANGE", `${this.#base}prioritized`, 0, 0]);
    const [waiting, prioritized] = await broker.read(commands);
    // Oldest first: LRANGE lists from left (newer) to right (older).
    const waitIds = textsReply(waiting, `LRANGE ${this.#base}wait`).reverse();
    const nextPrioritized =
      prioritized === undefined ? [] : textsReply(prioritized, `ZRANGE ${this.#base}prioritized`);
    const ids = [...waitIds, ...nextPrioritized];
    if (ids.length === 0) return 0;

    const replies = await broker.read(ids.map((id) => ["HGET", `${this.#base}${id}`, "timestamp"] as const));
    const timestamps = ids.map((id, i) => jobTimestamp(textReply(replies[i], `HGET ${this.#base}${id}`), id));
    const oldestWaiting = timestamps.slice(0, waitIds.length).find((t) => t !== null);
    const headPrioritized = timestamps[waitIds.length];
    const added = [oldestWaiting, headPrioritized].filter((t): t is number => typeof t === "number");
    // No hash left: the jobs were taken and removed meanwhile, so nothing has been waiting long.
    if (added.length === 0) return 0;
    return Math.max(0, Math.round(this.clock.now() - Math.min(...added)));
  }
}

/** null when the job hash is gone; a hash without a sane timestamp is malformed. */
function jobTimestamp(value: string | null, id: string): number | null {
  if (value === null) return null;
  const timestamp = Number(value);
  if (value.trim() === "" || !Number.isFinite(timestamp) || timestamp <= 0) {
    throw new QueueError(`malformed BullMQ job ${id}: timestamp is not epoch milliseconds`);
  }
  return timestamp;
}

/** The `bullmq-queue` backend's descriptor, listed in ./registry.ts. */
export const bullmqQueue: MeasurementBackend<typeof bullmqQueueSchema> = {
  schema: bullmqQueueSchema,
  create: (config, { env, clock }) => new BullmqQueueMeasurement(config, env, clock),
  budgetMs: (config) => config.timeoutMs,
};
