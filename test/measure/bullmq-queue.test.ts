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
  options: { priority?: number; prefix?: string; lifo?: boolean; delay?: number } = {},
): Promise<string> {
  const { priority = 0, prefix = "bull", lifo = false, delay = 0 } = options;
  const base = `${prefix}:${queue}:`;
  const id = String(await brokers.writer.incr(`${base}id`));
  await brokers.writer.hSet(`${base}${id}`, {
    name: "transcode",
    data: JSON.stringify({ video: `v${id}.mp4` }),
    opts: JSON.stringify({ attempts: 3, priority, delay, lifo }),
    timestamp: String(timestamp),
    delay: String(delay),
    priority: String(priority),
  });
  if (delay > 0) {
    // getDelayedScore: the due time in ms, shifted 12 bits, with the id's low bits as a counter.
    const score = (timestamp + delay) * 0x1000 + (Number(id) & 0xfff);
    await brokers.writer.zAdd(`${base}delayed`, { score, value: id });
  } else if (priority > 0) {
    const counter = await brokers.writer.incr(`${base}pc`);
    await brokers.writer.zAdd(`${base}prioritized`, { score: priority * 0x100000000 + counter, value: id });
  } else if (lifo) {
    await brokers.writer.rPush(`${base}wait`, id); // taken next
  } else {
    await brokers.writer.lPush(`${base}wait`, id);
  }
  return id;
}

/** What moveToActive does when a worker takes a job: the id from `wait` to `active` (LMOVE). */
async function take(queue: string, prefix = "bull"): Promise<void> {
  await brokers.writer.lMove(`${prefix}:${queue}:wait`, `${prefix}:${queue}:active`, "RIGHT", "LEFT");
}

describe("bullmq-queue schema", () => {
  it("needs a queue name and defaults to depth under the bull prefix", () => {
    expect(bullmqQueueSchema.safeParse({ backend: "bullmq-queue" }).success).toBe(false);
    expect(bullmqQueueSchema.parse({ backend: "bullmq-queue", queue: "video" })).toMatchObject({
      metric: "depth",
      prefix: "bull",
      includePrioritized: true,
      holdScaleDownWhileBusy: true,
      brokerUrlEnv: "REDIS_URL",
      timeoutMs: 5000,
    });
  });
});

describe("BullmqQueueMeasurement", () => {
  it("reads the depth of the wait list and the prioritized set, unless told to leave those out", async () => {
    for (let i = 0; i < 4; i++) await add("depth", T0);
    await add("depth", T0, { priority: 1 });
    await add("depth", T0, { priority: 5 });
    expect(await measurement({ queue: "depth" }).measure(never())).toEqual({
      backend: "bullmq-queue",
      value: 6,
      unit: "jobs",
      ok: true,
      busy: 0,
      holdScaleDownWhileBusy: true,
    });
    const withoutPrioritized = measurement({ queue: "depth", includePrioritized: false });
    expect(await withoutPrioritized.measure(never())).toMatchObject({ value: 4, ok: true });
  });

  it("reads the jobs in progress from the active list, in the same round trip", async () => {
    for (let i = 0; i < 5; i++) await add("busy", T0);
    await take("busy");
    await take("busy");
    clock.set(T0);
    expect(await measurement({ queue: "busy" }).measure(never())).toMatchObject({ value: 3, busy: 2 });
    const optedOut = measurement({ queue: "busy", metric: "latency", holdScaleDownWhileBusy: false });
    expect(await optedOut.measure(never())).toMatchObject({ busy: 2, holdScaleDownWhileBusy: false });
  });

  it("reads the oldest waiting job's age even behind lifo jobs", async () => {
    await add("lifo", T0 - 5_500); // the oldest
    await add("lifo", T0 - 3_000);
    await add("lifo", T0 - 400, { lifo: true }); // at the right end: taken next
    clock.set(T0);
    expect(await measurement({ queue: "lifo", metric: "latency" }).measure(never())).toMatchObject({
      value: 5_500,
      ok: true,
    });
  });

  it("reads a paused queue as nothing waiting: BullMQ 6 (jobs stay in wait) and 5 (the paused list)", async () => {
    await add("paused6", T0 - 9_000);
    await add("paused6", T0 - 1_000);
    await brokers.writer.hSet("bull:paused6:meta", "paused", "1");
    clock.set(T0);
    expect(await measurement({ queue: "paused6" }).measure(never())).toMatchObject({ value: 0, ok: true });
    expect(await measurement({ queue: "paused6", metric: "latency" }).measure(never())).toMatchObject({
      value: 0,
    });
    await brokers.writer.hDel("bull:paused6:meta", "paused"); // resumed
    expect(await measurement({ queue: "paused6" }).measure(never())).toMatchObject({ value: 2 });
    // BullMQ 5's pause: the ids RENAMEd from wait to paused, and meta.paused set.
    await add("paused5", T0 - 9_000);
    await brokers.writer.rename("bull:paused5:wait", "bull:paused5:paused");
    await brokers.writer.hSet("bull:paused5:meta", "paused", "1");
    expect(await measurement({ queue: "paused5" }).measure(never())).toMatchObject({ value: 0, ok: true });
  });

  it("counts delayed jobs once due, never before, and their wait from when they were due", async () => {
    clock.set(T0);
    await add("delayed", T0 - 60_000, { delay: 20_000 }); // due 40 s ago: no worker moved it
    await add("delayed", T0 - 1_000, { delay: 1_000 }); // due just now
    await add("delayed", T0 - 1_000, { delay: 30_000 }); // due in 29 s
    const depth = measurement({ queue: "delayed" });
    expect(await depth.measure(never())).toMatchObject({ value: 2, ok: true });
    expect(await measurement({ queue: "delayed", metric: "latency" }).measure(never())).toMatchObject({
      value: 40_000,
    });
    clock.advance(28_999);
    expect(await depth.measure(never())).toMatchObject({ value: 2 });
    clock.advance(1);
    expect(await depth.measure(never())).toMatchObject({ value: 3 });
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
      busy: 0,
      holdScaleDownWhileBusy: true,
    });
    clock.advance(2_000);
    expect(await latency.measure(never())).toMatchObject({ value: 22_000, ok: true });
  });

  it("reads the oldest waiting job's age among the prioritized ones too, unless told not to", async () => {
    await add("prio", T0 - 3_000);
    await add("prio", T0 - 60_000, { priority: 2 }); // next in line among prioritized
    await add("prio", T0 - 90_000, { priority: 9 }); // older, and runs after the one above
    clock.set(T0);
    expect(await measurement({ queue: "prio", metric: "latency" }).measure(never())).toMatchObject({
      value: 90_000,
      ok: true,
    });
    const waitOnly = measurement({ queue: "prio", metric: "latency", includePrioritized: false });
    expect(await waitOnly.measure(never())).toMatchObject({ value: 3_000 });
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
      busy: 0,
      holdScaleDownWhileBusy: true,
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

  it("reads depth and latency over Upstash REST in one EVAL each", async () => {
    await add("rest", T0 - 6_000);
    await add("rest", T0 - 1_000);
    const prioritizedId = await add("rest", T0 - 9_000, { priority: 3 });
    clock.set(T0);
    brokers.rest.resetCount();
    const depth = measurement({ ...upstash, queue: "rest", includePrioritized: true });
    expect(await depth.measure(never())).toMatchObject({ value: 3, ok: true });
    const latency = measurement({ ...upstash, queue: "rest", metric: "latency", includePrioritized: true });
    expect(await latency.measure(never())).toMatchObject({ value: 9_000, unit: "ms", ok: true });
    expect(brokers.rest.commands.map(([name]) => name)).toEqual(["EVAL", "EVAL"]);
    expect(prioritizedId).toBe("3");
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
