import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/kit/clock.js";
import { SidekiqQueueMeasurement, sidekiqQueueSchema } from "../../src/measure/sidekiq-queue.js";
import { closedPort } from "../helpers/net.js";
import { never, T0, unknownFailure, upstash, useBrokers } from "../helpers/queues.js";

const TOKEN = "upstash-token-sidekiq-do-not-leak";

const clock = new ManualClock(T0);

const brokers = useBrokers(TOKEN);

function measurement(settings: Record<string, unknown> = {}, environment = brokers.env) {
  const config = sidekiqQueueSchema.parse({ backend: "sidekiq-queue", ...settings });
  return new SidekiqQueueMeasurement(config, environment, clock);
}

/**
 * What Sidekiq::Client#push does: LPUSH the job JSON onto `queue:<name>` and SADD the name to
 * `queues`. Sidekiq 8 writes created_at/enqueued_at as integer epoch ms, Sidekiq 7 as float seconds.
 */
async function push(queue: string, enqueuedAtMs: number, options: { version?: 7 | 8; prefix?: string } = {}) {
  const { version = 8, prefix = "" } = options;
  const time = version === 8 ? enqueuedAtMs : enqueuedAtMs / 1000 + 0.000123;
  const job = {
    retry: true,
    queue,
    args: [1],
    class: "HardWorker",
    jid: randomBytes(12).toString("hex"),
    created_at: time,
    enqueued_at: time,
  };
  await brokers.writer.sAdd(`${prefix}queues`, queue);
  await brokers.writer.lPush(`${prefix}queue:${queue}`, JSON.stringify(job));
}

/**
 * What a running Sidekiq (Sidekiq::Launcher#❤) writes every beat: its identity in the `processes`
 * set, and the `<identity>` hash with `info` (JSON), `busy` (jobs running now), `beat` and `quiet`,
 * expiring after 60 s; the jobs themselves in `<identity>:work`.
 */
async function beat(identity: string, busy: number, prefix = "") {
  await brokers.writer.sAdd(`${prefix}processes`, identity);
  await brokers.writer.hSet(`${prefix}${identity}`, {
    info: JSON.stringify({ hostname: identity.split(":")[0], concurrency: 5, queues: ["default"] }),
    busy: String(busy),
    beat: String(T0 / 1000),
    quiet: "false",
    rss: "123456",
  });
  await brokers.writer.expire(`${prefix}${identity}`, 60);
}

/**
 * What Sidekiq::Client#push does with `perform_in`/`perform_at` (the `schedule` set), and the
 * retry handler with a failed job (the `retry` set): ZADD with the due time in epoch seconds.
 */
async function schedule(set: "schedule" | "retry", queue: string, dueMs: number, prefix = "") {
  const job = { retry: true, queue, args: [1], class: "HardWorker", jid: randomBytes(12).toString("hex") };
  const extra =
    set === "retry" ? { retry_count: 0, error_class: "RuntimeError", failed_at: dueMs / 1000 - 30 } : {};
  const payload = { ...job, ...extra, created_at: dueMs / 1000 - 60 };
  await brokers.writer.zAdd(`${prefix}${set}`, { score: dueMs / 1000, value: JSON.stringify(payload) });
}

describe("sidekiq-queue schema", () => {
  it("defaults to the depth of the default queue", () => {
    expect(sidekiqQueueSchema.parse({ backend: "sidekiq-queue" })).toMatchObject({
      queue: "default",
      metric: "depth",
      keyPrefix: "",
      brokerUrlEnv: "REDIS_URL",
      timeoutMs: 5000,
    });
    expect(sidekiqQueueSchema.safeParse({ backend: "sidekiq-queue", metric: "size" }).success).toBe(false);
  });
});

describe("SidekiqQueueMeasurement", () => {
  it("reads the depth of queue:<name>", async () => {
    for (let i = 0; i < 3; i++) await push("default", T0 - 1000 * i);
    await push("mailers", T0);
    expect(await measurement().measure(never())).toEqual({
      backend: "sidekiq-queue",
      value: 3,
      unit: "jobs",
      ok: true,
      busy: 0,
      holdScaleDownWhileBusy: true,
    });
    expect(await measurement({ queue: "mailers" }).measure(never())).toMatchObject({ value: 1, ok: true });
  });

  it("reads the latency of the oldest job (Sidekiq 8: epoch milliseconds)", async () => {
    await push("s8", T0 - 42_000); // oldest: pushed first, so at the right end
    await push("s8", T0 - 5_000);
    await push("s8", T0 - 1_000);
    clock.set(T0);
    const latency = measurement({ queue: "s8", metric: "latency" });
    expect(await latency.measure(never())).toEqual({
      backend: "sidekiq-queue",
      value: 42_000,
      unit: "ms",
      ok: true,
      busy: 0,
      holdScaleDownWhileBusy: true,
    });
    clock.advance(1_500);
    expect(await latency.measure(never())).toMatchObject({ value: 43_500, ok: true });
  });

  it("reads the latency of the oldest job (Sidekiq 7: float epoch seconds)", async () => {
    await push("s7", T0 - 30_000, { version: 7 });
    await push("s7", T0 - 2_000, { version: 7 });
    clock.set(T0);
    const reading = await measurement({ queue: "s7", metric: "latency" }).measure(never());
    expect(reading).toMatchObject({ unit: "ms", ok: true });
    expect(reading.value).toBe(30_000); // 29 999.877 ms, rounded
  });

  it("reads 0 jobs and 0 ms for an empty queue", async () => {
    expect(await measurement({ queue: "idle" }).measure(never())).toMatchObject({ value: 0, ok: true });
    const latency = await measurement({ queue: "idle", metric: "latency" }).measure(never());
    expect(latency).toEqual({
      backend: "sidekiq-queue",
      value: 0,
      unit: "ms",
      ok: true,
      busy: 0,
      holdScaleDownWhileBusy: true,
    });
  });

  it("never reads a negative latency when the clocks disagree", async () => {
    await push("future", T0 + 3_000);
    clock.set(T0);
    expect(await measurement({ queue: "future", metric: "latency" }).measure(never())).toMatchObject({
      value: 0,
      ok: true,
    });
  });

  it("honours a namespace key prefix", async () => {
    await push("default", T0 - 9_000, { prefix: "myapp:" });
    await push("default", T0 - 1_000, { prefix: "myapp:" });
    clock.set(T0);
    expect(await measurement({ keyPrefix: "myapp:", queue: "default" }).measure(never())).toMatchObject({
      value: 2,
      ok: true,
    });
    const latency = measurement({ keyPrefix: "myapp:", metric: "latency" });
    expect(await latency.measure(never())).toMatchObject({ value: 9_000, ok: true });
  });

  it("reads a malformed job as a failed reading that says so", async () => {
    await brokers.writer.lPush("queue:broken", "not json {");
    const reading = await measurement({ queue: "broken", metric: "latency" }).measure(never());
    expect(reading).toEqual(
      unknownFailure("sidekiq-queue", "ms", "malformed Sidekiq job in queue:broken: not JSON"),
    );
    await brokers.writer.rPush("queue:no-time", JSON.stringify({ class: "HardWorker", args: [], jid: "x" }));
    const missing = await measurement({ queue: "no-time", metric: "latency" }).measure(never());
    expect(missing.error).toBe("malformed Sidekiq job in queue:no-time: no numeric enqueued_at");
  });

  it("reads a key of the wrong type as a broker error", async () => {
    await brokers.writer.set("queue:string", "x");
    const reading = await measurement({ queue: "string" }).measure(never());
    expect(reading).toMatchObject({ ok: false, failureMeans: "unknown" });
    expect(reading.error).toMatch(/^broker error: WRONGTYPE/);
  });

  it("reads depth and latency over Upstash REST in one command each", async () => {
    await push("rest", T0 - 7_000);
    await push("rest", T0 - 3_000);
    clock.set(T0);
    brokers.rest.resetCount();
    expect(await measurement({ ...upstash, queue: "rest" }).measure(never())).toMatchObject({
      value: 2,
      ok: true,
    });
    expect(
      await measurement({ ...upstash, queue: "rest", metric: "latency" }).measure(never()),
    ).toMatchObject({
      value: 7_000,
      unit: "ms",
      ok: true,
    });
    // One round trip each: the queue, and one EVAL for the processes and the due jobs.
    expect(brokers.rest.commands.map((command) => command.slice(0, 2).join(" "))).toEqual([
      "LLEN queue:rest",
      expect.stringMatching(/^EVAL /),
      "LINDEX queue:rest",
      expect.stringMatching(/^EVAL /),
    ]);
  });

  it("reads a Sidekiq 7 job over Upstash REST too", async () => {
    await push("rest7", T0 - 12_000, { version: 7 });
    clock.set(T0);
    const reading = await measurement({ ...upstash, queue: "rest7", metric: "latency" }).measure(never());
    expect(reading).toMatchObject({ value: 12_000, ok: true });
  });

  it("reads the jobs in progress from each process's busy field, in the same round trip", async () => {
    await beat("worker.1:7:a1b2c3", 3, "busy:");
    await beat("worker.2:7:d4e5f6", 2, "busy:");
    await brokers.writer.sAdd("busy:processes", "worker.3:9:dead00"); // its hash expired: a dead process
    await push("default", T0 - 1_000, { prefix: "busy:" });
    clock.set(T0);
    expect(await measurement({ keyPrefix: "busy:" }).measure(never())).toEqual({
      backend: "sidekiq-queue",
      value: 1,
      unit: "jobs",
      ok: true,
      busy: 5,
      holdScaleDownWhileBusy: true,
    });
    const optedOut = measurement({ keyPrefix: "busy:", metric: "latency", holdScaleDownWhileBusy: false });
    expect(await optedOut.measure(never())).toMatchObject({
      value: 1_000,
      busy: 5,
      holdScaleDownWhileBusy: false,
    });
    brokers.rest.resetCount();
    const rest = await measurement({ ...upstash, keyPrefix: "busy:" }).measure(never());
    expect(rest).toMatchObject({ value: 1, busy: 5, ok: true });
    expect(brokers.rest.commands).toHaveLength(2); // one pipeline: LLEN and one EVAL
  });

  it("counts scheduled and retrying jobs of the queue once due, never before", async () => {
    clock.set(T0);
    await schedule("schedule", "due", T0 - 30_000, "due:"); // due 30 s ago, no Sidekiq to move it
    await schedule("retry", "due", T0 - 5_000, "due:");
    await schedule("schedule", "due", T0 + 60_000, "due:"); // not yet due
    await schedule("retry", "due", T0 + 1_000, "due:");
    await schedule("schedule", "other", T0 - 90_000, "due:"); // due, for another queue
    await push("due", T0 - 10_000, { prefix: "due:" });
    const depth = measurement({ keyPrefix: "due:", queue: "due" });
    expect(await depth.measure(never())).toMatchObject({ value: 3, busy: 0, ok: true });
    const latency = measurement({ keyPrefix: "due:", queue: "due", metric: "latency" });
    expect(await latency.measure(never())).toMatchObject({ value: 30_000, ok: true });
    clock.advance(1_000); // the retry at T0 + 1 s is due now
    expect(await depth.measure(never())).toMatchObject({ value: 4 });
    // Nothing waiting but a job due: the reading is not 0, so a worker at zero wakes up.
    clock.set(T0);
    await schedule("schedule", "only-due", T0 - 2_000, "due:");
    const onlyDue = measurement({ keyPrefix: "due:", queue: "only-due", metric: "latency" });
    expect(await onlyDue.measure(never())).toMatchObject({ value: 2_000, ok: true });
    const rest = measurement({ ...upstash, keyPrefix: "due:", queue: "due" });
    expect(await rest.measure(never())).toMatchObject({ value: 3, ok: true });
  });

  it("reads a broker that is down as unknown without the URL or password", async () => {
    const url = `redis://:sidekiq-pa55word@127.0.0.1:${await closedPort()}`;
    const reading = await measurement({ metric: "latency" }, { REDIS_URL: url }).measure(never());
    expect(reading).toEqual(unknownFailure("sidekiq-queue", "ms", "broker unreachable: ECONNREFUSED"));
  });

  it("names the missing environment variable", async () => {
    const reading = await measurement({ brokerUrlEnv: "SIDEKIQ_REDIS_URL" }).measure(never());
    expect(reading).toMatchObject({ ok: false, value: null, failureMeans: "unknown" });
    expect(reading.error).toBe("broker URL missing: environment variable SIDEKIQ_REDIS_URL is not set");
  });
});
