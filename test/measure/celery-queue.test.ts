import { randomUUID } from "node:crypto";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisServer } from "../../src/local/redis-server.js";
import { CeleryQueueMeasurement, celeryQueueSchema } from "../../src/measure/celery-queue.js";
import { closedPort } from "../helpers/net.js";
import { never, unknownFailure, useBrokers } from "../helpers/queues.js";

const TOKEN = "upstash-token-celery-do-not-leak";
const SEP = "\x06\x16";

const brokers = useBrokers(TOKEN);

function measurement(settings: Record<string, unknown> = {}, environment = brokers.env) {
  return new CeleryQueueMeasurement(
    celeryQueueSchema.parse({ backend: "celery-queue", ...settings }),
    environment,
  );
}

/** A Celery (protocol 2) task message as kombu's Redis transport stores it. */
function celeryMessage(task: string, args: unknown[], priority = 0): string {
  const id = randomUUID();
  const body = Buffer.from(
    JSON.stringify([args, {}, { callbacks: null, errbacks: null, chain: null, chord: null }]),
  );
  return JSON.stringify({
    body: body.toString("base64"),
    "content-encoding": "utf-8",
    "content-type": "application/json",
    headers: {
      lang: "py",
      task,
      id,
      shadow: null,
      eta: null,
      expires: null,
      retries: 0,
      root_id: id,
      parent_id: null,
    },
    properties: {
      correlation_id: id,
      reply_to: randomUUID(),
      delivery_mode: 2,
      delivery_info: { exchange: "", routing_key: "celery" },
      priority,
      body_encoding: "base64",
      delivery_tag: randomUUID(),
    },
  });
}

/**
 * What kombu's Redis QoS does when it delivers a message to a worker (QoS.append): the message
 * goes into the `unacked` hash under its delivery tag, as JSON [message, exchange, routing_key],
 * and the tag into the `unacked_index` sorted set with the delivery time; both leave on the ack.
 */
async function deliver(queue: string, prefix = ""): Promise<string> {
  const message = celeryMessage("tasks.add", [1, 2]);
  const tag = (JSON.parse(message) as { properties: { delivery_tag: string } }).properties.delivery_tag;
  await brokers.writer
    .multi()
    .hSet(`${prefix}unacked`, tag, JSON.stringify([JSON.parse(message), "", queue]))
    .zAdd(`${prefix}unacked_index`, { score: Date.now() / 1000, value: tag })
    .exec();
  return tag;
}

/** kombu LPUSHes each message onto the list of its priority step. */
async function enqueue(key: string, count: number, priority = 0): Promise<void> {
  for (let i = 0; i < count; i++)
    await brokers.writer.lPush(key, celeryMessage("tasks.add", [i, i], priority));
}

describe("celery-queue schema", () => {
  it("defaults to kombu's queue name and priority steps and to REDIS_URL", () => {
    expect(celeryQueueSchema.parse({ backend: "celery-queue" })).toEqual({
      backend: "celery-queue",
      queue: "celery",
      keyPrefix: "",
      prioritySteps: [0, 3, 6, 9],
      holdScaleDownWhileBusy: true,
      brokerUrlEnv: "REDIS_URL",
      brokerTlsVerify: true,
      timeoutMs: 5000,
    });
  });

  it("rejects unknown settings and bad variable names", () => {
    expect(celeryQueueSchema.safeParse({ backend: "celery-queue", brokerUrl: "redis://x" }).success).toBe(
      false,
    );
    expect(celeryQueueSchema.safeParse({ backend: "celery-queue", brokerUrlEnv: "redis url" }).success).toBe(
      false,
    );
  });
});

describe("CeleryQueueMeasurement over TCP", () => {
  it("sums the queue and its priority sub-queues", async () => {
    await enqueue("celery", 4);
    await enqueue(`celery${SEP}3`, 2, 3);
    await enqueue(`celery${SEP}6`, 1, 6);
    await enqueue(`celery${SEP}9`, 3, 9);
    await enqueue("other", 5); // another queue does not count
    expect(await measurement().measure(never())).toEqual({
      backend: "celery-queue",
      value: 10,
      unit: "jobs",
      ok: true,
      busy: 0,
      holdScaleDownWhileBusy: true,
    });
  });

  it("reads the jobs in progress from kombu's unacked hash, in the same pipeline", async () => {
    await enqueue("busy_celery", 2, 0);
    await deliver("busy_celery", "busy_");
    const tag = await deliver("busy_celery", "busy_");
    await deliver("busy_celery", "busy_");
    const config = { keyPrefix: "busy_", queue: "celery" };
    await enqueue("busy_celery", 1);
    expect(await measurement(config).measure(never())).toMatchObject({ value: 3, busy: 3, ok: true });
    await brokers.writer.hDel("busy_unacked", tag); // acked
    await brokers.writer.zRem("busy_unacked_index", tag);
    const optedOut = measurement({ ...config, holdScaleDownWhileBusy: false });
    expect(await optedOut.measure(never())).toMatchObject({ busy: 2, holdScaleDownWhileBusy: false });
  });

  it("reads 0 for an empty or absent queue", async () => {
    expect(await measurement({ queue: "nothing-here" }).measure(never())).toMatchObject({
      value: 0,
      ok: true,
    });
  });

  it("honours a global key prefix, a queue name and custom priority steps", async () => {
    await enqueue("myapp_reports", 2);
    await enqueue(`myapp_reports${SEP}5`, 3, 5);
    await enqueue(`myapp_reports${SEP}3`, 7, 3); // not a configured step
    await enqueue("reports", 11); // unprefixed: another app's queue
    const reading = await measurement({
      queue: "reports",
      keyPrefix: "myapp_",
      prioritySteps: [0, 5],
    }).measure(never());
    expect(reading).toMatchObject({ value: 5, ok: true });
  });

  it("reads a password-protected broker and never prints the password", async () => {
    const secured = await startRedisServer();
    const admin = createClient({ url: secured.url });
    try {
      await admin.connect();
      await admin.lPush("celery", celeryMessage("tasks.add", [1, 2]));
      await admin.configSet("requirepass", "s3cret-pa55");
      const port = secured.port;
      const good = await measurement({}, { REDIS_URL: `redis://:s3cret-pa55@127.0.0.1:${port}` }).measure(
        never(),
      );
      expect(good).toMatchObject({ value: 1, ok: true });

      const url = `redis://:wrong-pa55@127.0.0.1:${port}`;
      const bad = await measurement({}, { REDIS_URL: url }).measure(never());
      expect(bad).toMatchObject({ ok: false, value: null, failureMeans: "unknown" });
      expect(bad.error).toMatch(/^broker error: WRONGPASS/);
      expect(bad.error).not.toContain("wrong-pa55");
      expect(bad.error).not.toContain(url);
    } finally {
      admin.destroy();
      await secured.stop();
    }
  });
});

describe("CeleryQueueMeasurement connections", () => {
  const clients = async () => (await brokers.writer.clientList()).length;
  const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

  it("closes its connection after each measurement", async () => {
    const before = await clients();
    await measurement().measure(never());
    await settle();
    expect(await clients()).toBe(before);
  });

  it("closes a connection that was still being opened when the signal aborted", async () => {
    const before = await clients();
    const controller = new AbortController();
    const pending = measurement().measure(controller.signal);
    controller.abort();
    expect((await pending).error).toBe("broker unreachable: measurement cancelled (tick deadline)");
    await settle();
    expect(await clients()).toBe(before);
  });
});

describe("CeleryQueueMeasurement over Upstash REST", () => {
  it("reads the same depth in one pipeline of LLENs", async () => {
    await brokers.writer.del(["urgent", `urgent${SEP}3`]);
    await enqueue("urgent", 2);
    await enqueue(`urgent${SEP}3`, 1, 3);
    brokers.rest.resetCount();
    const reading = await measurement({
      queue: "urgent",
      brokerUrlEnv: "UPSTASH_URL",
      brokerTokenEnv: "UPSTASH_TOKEN",
    }).measure(never());
    expect(reading).toEqual({
      backend: "celery-queue",
      value: 3,
      unit: "jobs",
      ok: true,
      busy: 0,
      holdScaleDownWhileBusy: true,
    });
    expect(brokers.rest.commands).toEqual([
      ["LLEN", "urgent"],
      ["LLEN", `urgent${SEP}3`],
      ["LLEN", `urgent${SEP}6`],
      ["LLEN", `urgent${SEP}9`],
      ["HLEN", "unacked"],
    ]);
  });

  it("fails on a wrong token without printing either token", async () => {
    const reading = await measurement(
      { brokerUrlEnv: "UPSTASH_URL", brokerTokenEnv: "UPSTASH_TOKEN" },
      { UPSTASH_URL: brokers.rest.url, UPSTASH_TOKEN: "wrong-token-xyz" },
    ).measure(never());
    expect(reading).toMatchObject({ ok: false, value: null, failureMeans: "unknown" });
    expect(reading.error).toMatch(/^broker error: Unauthorized/);
    expect(reading.error).not.toContain("wrong-token-xyz");
  });

  it("asks for a token variable when the URL is an https endpoint", async () => {
    const reading = await measurement({ brokerUrlEnv: "UPSTASH_URL" }).measure(never());
    expect(reading).toMatchObject({ ok: false, failureMeans: "unknown" });
    expect(reading.error).toMatch(/brokerTokenEnv/);
    const missing = await measurement(
      { brokerUrlEnv: "UPSTASH_URL", brokerTokenEnv: "NO_SUCH_TOKEN" },
      { UPSTASH_URL: brokers.rest.url },
    ).measure(never());
    expect(missing.error).toBe("broker token missing: environment variable NO_SUCH_TOKEN is not set");
  });
});

describe("CeleryQueueMeasurement failures", () => {
  it("reads a closed port as unknown, quickly, without the URL or password", async () => {
    const url = `redis://user:hunter2-secret@127.0.0.1:${await closedPort()}/0`;
    const started = Date.now();
    const reading = await measurement({}, { REDIS_URL: url }).measure(never());
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(reading).toEqual(unknownFailure("celery-queue", "jobs", "broker unreachable: ECONNREFUSED"));
  });

  it("reads an unreachable Upstash endpoint as unknown without the token", async () => {
    const reading = await measurement(
      { brokerUrlEnv: "U", brokerTokenEnv: "T" },
      { U: `http://127.0.0.1:${await closedPort()}`, T: TOKEN },
    ).measure(never());
    expect(reading).toMatchObject({ ok: false, failureMeans: "unknown" });
    expect(reading.error).toMatch(/^broker unreachable: .*ECONNREFUSED/);
    expect(reading.error).not.toContain(TOKEN);
  });

  it("names the missing environment variable", async () => {
    const reading = await measurement({ brokerUrlEnv: "CELERY_BROKER_URL" }, {}).measure(never());
    expect(reading).toMatchObject({ ok: false, value: null, failureMeans: "unknown" });
    expect(reading.error).toBe("broker URL missing: environment variable CELERY_BROKER_URL is not set");
  });

  it("refuses a URL of another scheme without printing it", async () => {
    const url = "amqp://guest:guest-secret@localhost:5672//";
    const reading = await measurement({}, { REDIS_URL: url }).measure(never());
    expect(reading.error).toMatch(/REDIS_URL must start with redis:\/\//);
    expect(reading.error).not.toContain("guest-secret");
  });

  describe("with a broker that accepts connections but never answers", () => {
    let silent: Server;
    const sockets = new Set<Socket>();
    let url: string;

    beforeAll(async () => {
      silent = createServer((socket) => {
        sockets.add(socket);
        socket.resume(); // read and drop the commands, so the client's FIN is seen as 'end'
        socket.on("close", () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      url = `redis://:pw-in-url@127.0.0.1:${(silent.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it("gives up after timeoutMs", async () => {
      const started = Date.now();
      const reading = await measurement({ timeoutMs: 200 }, { REDIS_URL: url }).measure(never());
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(reading).toMatchObject({ ok: false, value: null, failureMeans: "unknown" });
      expect(reading.error).toBe("broker unreachable: no answer within 200 ms");
    });

    it("gives up when the tick's signal aborts", async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const started = Date.now();
      const reading = await measurement({}, { REDIS_URL: url }).measure(controller.signal);
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(reading.error).toBe("broker unreachable: measurement cancelled (tick deadline)");
    });

    it("does not even connect when the signal has already aborted", async () => {
      const reading = await measurement({}, { REDIS_URL: url }).measure(AbortSignal.abort());
      expect(reading).toMatchObject({ ok: false, failureMeans: "unknown" });
      expect(reading.error).toBe("broker unreachable: measurement cancelled (tick deadline)");
    });

    // Last in this block: the tests above must not have left a connection open either.
    it("closes every connection it opened", async () => {
      await measurement({ timeoutMs: 100 }, { REDIS_URL: url }).measure(never());
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(sockets.size).toBe(0);
    });
  });
});
