import { z } from "zod";
import type { Env } from "../kit/env.js";
import { systemClock, type Clock } from "../kit/clock.js";
import { countReply, measureQueue, QueueError, textReply, queueSettingsFields } from "./queue-broker.js";
import type { Measurement, MeasurementBackend, Reading } from "./types.js";

/**
 * A BullMQ queue: its depth (jobs waiting) or its latency (how long the oldest waiting job has
 * waited). BullMQ's layout (v5 and v6), under `<prefix>:<queue>:`:
 * - `wait`: a list of job ids; jobs are LPUSHed and workers take from the right, so the oldest
 *   waiting job is at the right end, except that a `lifo: true` job is RPUSHed (taken next);
 * - `prioritized`: a sorted set of job ids (score priority * 2^32 + a counter), taken only when
 *   `wait` is empty;
 * - `delayed`: a sorted set of job ids, score the epoch ms when due * 0x1000 + a 12-bit counter
 *   (BullMQ's getDelayedScore); a worker moves the due ones to `wait`;
 * - `active`: a list of the ids of the jobs in progress;
 * - `meta`: a hash whose `paused` field is 1 while the queue is paused (BullMQ 6 then keeps the
 *   jobs in `wait`; BullMQ 5 moves them to a `paused` list, which is not read);
 * - `<id>`: the job's hash; `timestamp` is the epoch ms when the job was added, `delay` its delay.
 * All of it is read with one EVAL (one round trip): the job hashes to look up depend on the ids.
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
      "depth: jobs in wait, prioritized and due in delayed; latency: now − when the oldest of them started waiting, in milliseconds. A paused queue reads 0.",
    ),
  prefix: z.string().min(1).default("bull").describe("BullMQ's prefix option; keys are <prefix>:<queue>:..."),
  includePrioritized: z
    .boolean()
    .default(true)
    .describe("Count prioritized jobs too (and, for latency, the oldest of them)."),
  ...queueSettingsFields,
});
export type BullmqQueueConfig = z.infer<typeof bullmqQueueSchema>;

/** Waiting job ids whose hashes latency looks at, from each of `wait` and `prioritized`. */
export const LATENCY_SCAN_LIMIT = 1000;

/**
 * ARGV: key base, the highest due delayed score, 1 to count prioritized jobs, 1 for latency.
 * Returns {waiting, active, when the oldest waiting job started waiting (epoch ms) or nil, the id
 * of a job with a malformed timestamp or nil}. A paused queue has nothing waiting.
 */
const BULLMQ_SCRIPT = `
local base, dueMax, prio, latency = ARGV[1], ARGV[2], ARGV[3] == '1', ARGV[4] == '1'
local active = redis.call('LLEN', base .. 'active')
if redis.call('HGET', base .. 'meta', 'paused') == '1' then return {0, active, false, false} end
local waiting = redis.call('LLEN', base .. 'wait') + redis.call('ZCOUNT', base .. 'delayed', '-inf', dueMax)
if prio then waiting = waiting + redis.call('ZCARD', base .. 'prioritized') end
if not latency then return {waiting, active, false, false} end
local ids = redis.call('LRANGE', base .. 'wait', -${LATENCY_SCAN_LIMIT}, -1)
if prio then
  for _, id in ipairs(redis.call('ZRANGE', base .. 'prioritized', 0, ${LATENCY_SCAN_LIMIT - 1})) do
    ids[#ids + 1] = id
  end
end
local oldest = nil
for _, id in ipairs(ids) do
  local job = redis.call('HMGET', base .. id, 'timestamp', 'delay')
  if job[1] then
    local timestamp = tonumber(job[1])
    if timestamp == nil or timestamp <= 0 then return {waiting, active, false, id} end
    local since = timestamp + (tonumber(job[2]) or 0)
    if oldest == nil or since < oldest then oldest = since end
  end
end
local due = redis.call('ZRANGEBYSCORE', base .. 'delayed', '-inf', dueMax, 'WITHSCORES', 'LIMIT', 0, 1)
if due[2] then
  local since = math.floor(tonumber(due[2]) / 4096)
  if oldest == nil or since < oldest then oldest = since end
end
return {waiting, active, oldest and string.format('%d', oldest) or false, false}
`;

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
    const latency = config.metric === "latency";
    const unit = latency ? "ms" : "jobs";
    return measureQueue({ backend: "bullmq-queue", unit, settings: config, env, signal }, async (broker) => {
      const now = this.clock.now();
      // Due: the score's milliseconds (score / 0x1000) at or before now.
      const dueMax = String((Math.floor(now) + 1) * 0x1000 - 1);
      const flags = [config.includePrioritized ? "1" : "0", latency ? "1" : "0"];
      const [reply] = await broker.read([["EVAL", BULLMQ_SCRIPT, [], [this.#base, dueMax, ...flags]]]);
      if (!Array.isArray(reply)) throw new QueueError(`unexpected broker reply for ${this.#base}`);
      const waiting = countReply(reply[0], `the waiting jobs of ${this.#base}`);
      const busy = countReply(reply[1], `LLEN ${this.#base}active`);
      const malformed = textReply(reply[3] ?? null, `the jobs of ${this.#base}`);
      if (malformed !== null) {
        throw new QueueError(`malformed BullMQ job ${malformed}: timestamp is not epoch milliseconds`);
      }
      if (!latency) return { value: waiting, busy };
      const oldest = textReply(reply[2] ?? null, `the jobs of ${this.#base}`);
      // No hash left: the jobs were taken and removed meanwhile, so nothing has been waiting long.
      if (oldest === null) return { value: 0, busy };
      return { value: Math.max(0, Math.round(now - Number(oldest))), busy };
    });
  }
}

/** The `bullmq-queue` backend's descriptor, listed in ./registry.ts. */
export const bullmqQueue: MeasurementBackend<typeof bullmqQueueSchema> = {
  schema: bullmqQueueSchema,
  create: (config, { env, clock }) => new BullmqQueueMeasurement(config, env, clock),
  budgetMs: (config) => config.timeoutMs,
  readsAtZero: true,
};
