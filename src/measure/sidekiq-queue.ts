import { z } from "zod";
import type { Env } from "../kit/env.js";
import { systemClock, type Clock } from "../kit/clock.js";
import {
  countReply,
  measureQueue,
  QueueError,
  textReply,
  queueSettingsFields,
  type BrokerReply,
} from "./queue-broker.js";
import type { Measurement, MeasurementBackend, Reading } from "./types.js";

/**
 * A Sidekiq queue: its depth (jobs waiting) or its latency (how long the oldest job has waited,
 * as Sidekiq::Queue#latency computes it). Sidekiq LPUSHes jobs onto `queue:<name>` and fetches
 * with BRPOP, so the oldest job is at the right end.
 *
 * Besides, in the same round trip (one EVAL, since each lookup depends on the one before):
 * - jobs in progress: the sum of the `busy` field of each `<identity>` hash named in the
 *   `processes` set (what Sidekiq::ProcessSet sums; a hash that expired, a dead process, reads 0);
 * - due scheduled and retrying jobs of this queue: members of the `schedule` and `retry` sorted
 *   sets (score: when the job is due, in epoch seconds) scored at or before now whose JSON
 *   `queue` is this queue. Sidekiq's poller moves them into the queue when due, but only a running
 *   Sidekiq polls: at zero workers they would never be counted otherwise.
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
  ...queueSettingsFields,
});
export type SidekiqQueueConfig = z.infer<typeof sidekiqQueueSchema>;

/** Only the field latency needs; a job carries many more. */
const sidekiqJob = z.object({ enqueued_at: z.number() });

/**
 * Sidekiq 8 writes enqueued_at as integer epoch milliseconds, earlier versions as float epoch
 * seconds. Seconds stay below 1e11 until the year 5138; milliseconds passed 1e11 in 1973.
 */
const SECONDS_BELOW = 1e11;

/** Due jobs looked at per sorted set in one reading; Sidekiq's poller moves them in batches too. */
export const DUE_SCAN_LIMIT = 1000;

/**
 * ARGV: key prefix, queue, now (epoch seconds). Returns {busy, due jobs of the queue, the oldest
 * due one's score or nil}. Keys are built from the prefix (the identities are only known once
 * read), so this needs a single Redis, not a cluster: Sidekiq itself needs one.
 */
const SIDEKIQ_SCRIPT = `
local prefix, queue, now = ARGV[1], ARGV[2], ARGV[3]
local busy = 0
for _, identity in ipairs(redis.call('SMEMBERS', prefix .. 'processes')) do
  busy = busy + (tonumber(redis.call('HGET', prefix .. identity, 'busy')) or 0)
end
local due, oldest = 0, nil
for _, set in ipairs({'schedule', 'retry'}) do
  local jobs = redis.call('ZRANGEBYSCORE', prefix .. set, '-inf', now, 'WITHSCORES', 'LIMIT', 0, ${DUE_SCAN_LIMIT})
  for i = 1, #jobs, 2 do
    local ok, job = pcall(cjson.decode, jobs[i])
    if ok and type(job) == 'table' and job.queue == queue then
      due = due + 1
      local at = tonumber(jobs[i + 1])
      if oldest == nil or at < oldest then oldest = at end
    end
  end
end
return {busy, due, oldest and string.format('%.6f', oldest) or false}
`;

export class SidekiqQueueMeasurement implements Measurement {
  readonly #key: string;
  readonly #prefix: string;

  constructor(
    private readonly config: SidekiqQueueConfig,
    private readonly env: Env,
    private readonly clock: Clock = systemClock,
  ) {
    this.#key = `${config.keyPrefix}queue:${config.queue}`;
    this.#prefix = config.keyPrefix;
  }

  measure(signal: AbortSignal): Promise<Reading> {
    const { config, env } = this;
    const unit = config.metric === "latency" ? "ms" : "jobs";
    return measureQueue({ backend: "sidekiq-queue", unit, settings: config, env, signal }, async (broker) => {
      const now = this.clock.now();
      const script = ["EVAL", SIDEKIQ_SCRIPT, [], [this.#prefix, config.queue, String(now / 1000)]] as const;
      if (config.metric === "depth") {
        const [reply, extra] = await broker.read([["LLEN", this.#key], script]);
        const { busy, due } = scriptReply(extra);
        return { value: countReply(reply, `LLEN ${this.#key}`) + due, busy };
      }
      const [reply, extra] = await broker.read([["LINDEX", this.#key, -1], script]);
      const { busy, oldestDueMs } = scriptReply(extra);
      const oldest = textReply(reply, `LINDEX ${this.#key}`);
      // An empty queue with nothing due: nothing waits.
      const since = [oldest === null ? null : enqueuedAtMs(oldest, this.#key), oldestDueMs].filter(
        (at): at is number => at !== null,
      );
      if (since.length === 0) return { value: 0, busy };
      return { value: Math.max(0, Math.round(now - Math.min(...since))), busy };
    });
  }
}

function scriptReply(reply: BrokerReply | undefined): {
  busy: number;
  due: number;
  oldestDueMs: number | null;
} {
  if (!Array.isArray(reply)) throw new QueueError("unexpected broker reply for the Sidekiq processes");
  const busy = countReply(reply[0], "the busy fields of the Sidekiq processes");
  const due = countReply(reply[1], "the due jobs of schedule and retry");
  const oldest = textReply(reply[2] ?? null, "the due jobs of schedule and retry");
  return { busy, due, oldestDueMs: oldest === null ? null : Number(oldest) * 1000 };
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
  readsAtZero: true,
};
