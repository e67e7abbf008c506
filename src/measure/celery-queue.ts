import { z } from "zod";
import type { Env } from "../kit/env.js";
import { integer } from "../kit/fields.js";
import { countReply, measureQueue, queueSettingsFields } from "./queue-broker.js";
import type { Measurement, MeasurementBackend, Reading } from "./types.js";

/**
 * The seed's CeleryRedisQueueSizeBackend: the depth of a Celery queue on a Redis broker. kombu's
 * Redis transport keeps one list per priority step: the bare queue name for step 0 and
 * `<queue>\x06\x16<step>` for the others (kombu's `_q_for_pri`), all under `global_keyprefix`.
 *
 * Jobs in progress, in the same pipeline: HLEN of kombu's `unacked` hash (delivery tag → message),
 * where a worker's messages stay from delivery until the ack. It is one hash for every queue on
 * the broker, and it also holds what workers prefetched and ETA/countdown tasks they hold until
 * due: all of them are lost or redelivered late if the worker holding them is stopped.
 */
export const celeryQueueSchema = z.strictObject({
  backend: z
    .literal("celery-queue")
    .describe(
      "The depth of a Celery queue on a Redis broker, in jobs: the sum over the queue's priority lists.",
    ),
  queue: z.string().min(1).default("celery").describe("The Celery queue's name."),
  keyPrefix: z
    .string()
    .default("")
    .describe('kombu\'s global_keyprefix transport option, written as is (e.g. "myapp_").'),
  prioritySteps: z
    .array(integer(0, 255))
    .min(1)
    .default([0, 3, 6, 9])
    .describe("kombu's priority_steps transport option: one list per step is counted."),
  ...queueSettingsFields,
});
export type CeleryQueueConfig = z.infer<typeof celeryQueueSchema>;

/** kombu.transport.redis.Channel.sep */
const PRIORITY_SEPARATOR = "\x06\x16";

export class CeleryQueueMeasurement implements Measurement {
  readonly #keys: string[];
  readonly #unacked: string;

  constructor(
    private readonly config: CeleryQueueConfig,
    private readonly env: Env,
  ) {
    const base = `${config.keyPrefix}${config.queue}`;
    const steps = [...new Set(config.prioritySteps)];
    this.#keys = steps.map((step) => (step === 0 ? base : `${base}${PRIORITY_SEPARATOR}${step}`));
    this.#unacked = `${config.keyPrefix}unacked`;
  }

  measure(signal: AbortSignal): Promise<Reading> {
    const { config, env } = this;
    return measureQueue(
      { backend: "celery-queue", unit: "jobs", settings: config, env, signal },
      async (broker) => {
        const replies = await broker.read([
          ...this.#keys.map((key) => ["LLEN", key] as const),
          ["HLEN", this.#unacked],
        ]);
        const busy = countReply(replies.pop(), `HLEN ${this.#unacked}`);
        const value = replies.reduce<number>(
          (sum, reply) => sum + countReply(reply, `LLEN of ${config.queue}`),
          0,
        );
        return { value, busy };
      },
    );
  }
}

/** The `celery-queue` backend's descriptor, listed in ./registry.ts. */
export const celeryQueue: MeasurementBackend<typeof celeryQueueSchema> = {
  schema: celeryQueueSchema,
  create: (config, { env }) => new CeleryQueueMeasurement(config, env),
  budgetMs: (config) => config.timeoutMs,
  readsAtZero: true,
};
