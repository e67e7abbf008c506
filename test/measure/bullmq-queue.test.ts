import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/kit/clock.js";
import { BullmqQueueMeasurement, bullmqQueueSchema } from "../../src/measure/bullmq-queue.js";
import { closedPort } from "../helpers/net.js";
import { never, T0, unknownFailure, upstash, useBrokers } from "../helpers/queues.js";

const TOKEN = "upstash-token-bullmq-do-not-leak";

const clock = new ManualClock(T0);

const brokers = useBrokers(TOKEN);

function measurement(settings: Record<string, unknown>, environment = brokers.env) {
  const config = bullmqQueueSchema.parse({ backend: "bullmq-queue", ...settings });
  return new BullmqQueueMeasurement(config, environment, clock);
}

/**
 * What BullMQ's addStandardJob / addPrioritizedJob scripts write: the id from INCR `<queue>:id`,
 * the job hash `<queue>:<id>`, then the id LPUSHed onto `wait`, or for a priority > 0 added to
 * the `prioritized` sorted set with score priority * 2^32 + INCR `<queue>:pc`.
 */
async function add(
  queue: string,
  timestamp: number,
  options: { priority?: number; prefix?: string } = {},
): Promise<string> {
  const { priority = 0, prefix = "bull" } = options;
  const base = `${prefix}:${queue}:`;
  const id = String(await brokers.writer.incr(`${base}id`));
  await brokers.writer.hSet(`${base}${id}`, {
    name: "transcode",
    data: JSON.stringify({ video: `v${id}.mp4` }),
    opts: JSON.stringify({ attempts: 3, priority, delay: 0 }),
    timestamp: String(timestamp),
    delay: "0",
    priority: String(priority),
  });
  if (priority > 0) {
    const counter = await brokers.writer.incr(`${base}pc`);
    await brokers.writer.zAdd(`${base}prioritized`, { score: priority * 0x100000000 + counter, value: id });
  } else {
    await brokers.writer.lPush(`${base}wait`, id);
  }
  return id;
}

describe("bullmq-queue schema", () => {
  it("needs a queue name and defaults to depth under the bull prefix", () => {
    expect(bullmqQueueSchema.safeParse({ backend: "bullmq-queue" }).success).toBe(false);
    expect(bullmqQueueSchema.parse({ backend: "bullmq-queue", queue: "video" })).toMatchObject({
      metric: "depth",
      prefix: "bull",
      includePrioritized: false,
      brokerUrlEnv: "REDIS_URL",
      timeoutMs: 5000,
    });
  });
});

describe("BullmqQueueMeasurement", () => {
  it("reads the depth of the wait list, and of the prioritized set when asked", async () => {
    for (let i = 0; i < 4; i++) await add("depth", T0);
    await add("depth", T0, { priority: 1 });
    await add("depth", T0, { priority: 5 });
    expect(await measurement({ queue: "depth" }).measure(never())).toEqual({
      backend: "bullmq-queue",
      value: 4,
      unit: "jobs",
      ok: true,
    });
    const withPrioritized = measurement({ queue: "depth", includePrioritized: true });
    expect(await withPrioritized.measure(never())).toMatchObject({ value: 6, ok: true });
  });

  it("reads the latency of the oldest waiting job", async () => {
    await add("latency", T0 - 20_000); // oldest: pushed first, so at the right end
    await add("latency", T0 - 4_000);
    await add("latency", T0 - 1_000);
    clock.set(T0);
    const latency = measurement({ queue: "latency", metric: "latency" });
    expect(await latency.measure(never())).toEqual({
      backend: "bullmq-queue",
      value: 20_000,
      unit: "ms",
      ok: true,
    });
    clock.advance(2_000);
    expect(await latency.measure(never())).toMatchObject({ value: 22_000, ok: true });
  });

  it("counts the next prioritized job's wait only when asked", async () => {
    await add("prio", T0 - 3_000);
    await add("prio", T0 - 60_000, { priority: 2 }); // next in line among prioritized
    await add("prio", T0 - 90_000, { priority: 9 }); // older, but runs after the one above
    clock.set(T0);
    expect(await measurement({ queue: "prio", metric: "latency" }).measure(never())).toMatchObject({
      value: 3_000,
    });
    const all = measurement({ queue: "prio", metric: "latency", includePrioritized: true });
    expect(await all.measure(never())).toMatchObject({ value: 60_000, ok: true });
  });

  it("skips an oldest id whose job is already gone", async () => {
    await brokers.writer.lPush("bull:gone:wait", "removed-job"); // taken and removed between our reads
    await add("gone", T0 - 8_000);
    clock.set(T0);
    expect(await measurement({ queue: "gone", metric: "latency" }).measure(never())).toMatchObject({
      value: 8_000,
      ok: true,
    });
  });

  it("reads 0 jobs and 0 ms for an empty queue", async () => {
    expect(await measurement({ queue: "idle" }).measure(never())).toMatchObject({ value: 0, ok: true });
    const latency = measurement({ queue: "idle", metric: "latency", includePrioritized: true });
    expect(await latency.measure(never())).toEqual({
      backend: "bullmq-queue",
      value: 0,
      unit: "ms",
      ok: true,
    });
  });

  it("honours a custom prefix", async () => {
    await add("video", T0 - 5_000, { prefix: "myapp" });
    await add("video", T0 - 2_000, { prefix: "myapp" });
    await add("video", T0 - 99_000); // under the default prefix: another app
    clock.set(T0);
    expect(await measurement({ queue: "video", prefix: "myapp" }).measure(never())).toMatchObject({
      value: 2,
    });
    const latency = measurement({ queue: "video", prefix: "myapp", metric: "latency" });
    expect(await latency.measure(never())).toMatchObject({ value: 5_000, ok: true });
  });

  it("reads a job with a malformed timestamp as a failed reading that says so", async () => {
    const id = await add("broken", T0);
    await brokers.writer.hSet(`bull:broken:${id}`, "timestamp", "yesterday");
    const reading = await measurement({ queue: "broken", metric: "latency" }).measure(never());
    expect(reading).toEqual(
      unknownFailure("bullmq-queue", "ms", `malformed BullMQ job ${id}: timestamp is not epoch milliseconds`),
    );
  });

  it("reads depth and latency over Upstash REST", async () => {
    await add("rest", T0 - 6_000);
    await add("rest", T0 - 1_000);
    const prioritizedId = await add("rest", T0 - 9_000, { priority: 3 });
    clock.set(T0);
    brokers.rest.resetCount();
    const depth = measurement({ ...upstash, queue: "rest", includePrioritized: true });
    expect(await depth.measure(never())).toMatchObject({ value: 3, ok: true });
    const latency = measurement({ ...upstash, queue: "rest", metric: "latency", includePrioritized: true });
    expect(await latency.measure(never())).toMatchObject({ value: 9_000, unit: "ms", ok: true });
    expect(brokers.rest.commands).toEqual([
      ["LLEN", "bull:rest:wait"],
      ["ZCARD", "bull:rest:prioritized"],
      ["LRANGE", "bull:rest:wait", "-3", "-1"],
      ["ZRANGE", "bull:rest:prioritized", "0", "0"],
      ["HGET", "bull:rest:1", "timestamp"],
      ["HGET", "bull:rest:2", "timestamp"],
      ["HGET", `bull:rest:${prioritizedId}`, "timestamp"],
    ]);
  });

  it("reads a broker that is down as unknown without the URL or password", async () => {
    const url = `redis://default:bull-pa55word@127.0.0.1:${await closedPort()}`;
    const reading = await measurement({ queue: "x" }, { REDIS_URL: url }).measure(never());
    expect(reading).toEqual(unknownFailure("bullmq-queue", "jobs", "broker unreachable: ECONNREFUSED"));
  });

  it("reads an Upstash endpoint that is down as unknown without the token", async () => {
    const reading = await measurement(
      { ...upstash, queue: "x", metric: "latency" },
      { UPSTASH_URL: `http://127.0.0.1:${await closedPort()}`, UPSTASH_TOKEN: TOKEN },
    ).measure(never());
    expect(reading).toMatchObject({ ok: false, value: null, failureMeans: "unknown" });
    expect(reading.error).toMatch(/^broker unreachable: .*ECONNREFUSED/);
    expect(reading.error).not.toContain(TOKEN);
  });

  it("names the missing environment variable", async () => {
    const reading = await measurement({ queue: "x", brokerUrlEnv: "BULL_REDIS_URL" }).measure(never());
    expect(reading).toMatchObject({ ok: false, value: null, failureMeans: "unknown" });
    expect(reading.error).toBe("broker URL missing: environment variable BULL_REDIS_URL is not set");
  });
});
