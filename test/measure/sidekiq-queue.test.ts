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
    expect(latency).toEqual({ backend: "sidekiq-queue", value: 0, unit: "ms", ok: true });
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
    expect(brokers.rest.commands).toEqual([
      ["LLEN", "queue:rest"],
      ["LINDEX", "queue:rest", "-1"],
    ]);
  });

  it("reads a Sidekiq 7 job over Upstash REST too", async () => {
    await push("rest7", T0 - 12_000, { version: 7 });
    clock.set(T0);
    const reading = await measurement({ ...upstash, queue: "rest7", metric: "latency" }).measure(never());
    expect(reading).toMatchObject({ value: 12_000, ok: true });
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
