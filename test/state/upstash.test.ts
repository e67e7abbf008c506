import { createServer as createHttpServer } from "node:http";
import { createClient } from "redis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { close, listen } from "../../src/local/listen.js";
import { startRedisServer, type RedisServer } from "../../src/local/redis-server.js";
import { startUpstashRest, type UpstashRestServer } from "../../src/local/upstash-rest.js";
import { StateStoreError } from "../../src/state/types.js";
import { UpstashStateStore } from "../../src/state/upstash.js";
import { closedPort } from "../helpers/net.js";
import { describeStoreContract } from "../helpers/store-contract.js";

const TOKEN = "secret-upstash-token-xyz";

let redisServer: RedisServer;
let rest: UpstashRestServer;
let prefixCounter = 0;

/** A store on its own key prefix, so tests do not see each other's locks and state. */
function newStore(keyPrefix = `test-${++prefixCounter}`, token = TOKEN): UpstashStateStore {
  return new UpstashStateStore({ url: rest.url, token, keyPrefix, retry: false });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  redisServer = await startRedisServer();
  rest = await startUpstashRest({ redisUrl: redisServer.url, token: TOKEN });
});

afterAll(async () => {
  await rest?.close();
  await redisServer?.stop();
});

beforeEach(() => rest.resetCount());

describeStoreContract("UpstashStateStore", () => {
  const keyPrefix = `test-${++prefixCounter}`;
  return {
    store: newStore(keyPrefix),
    elapse: async (ms) => void (await sleep(ms)),
    twin: () => newStore(keyPrefix),
    neighbour: () => newStore(),
  };
});

// After the contract: the last test here stops Redis.
describe("UpstashStateStore", () => {
  it("is of kind upstash", () => {
    expect(newStore().kind).toBe("upstash");
  });

  it("uses exactly one Redis command per call", async () => {
    const store = newStore("count");
    const steps: [string, () => Promise<unknown>][] = [];
    let lock: Awaited<ReturnType<UpstashStateStore["acquireLock"]>> = null;
    steps.push(["SET", async () => (lock = await store.acquireLock(5_000))]);
    steps.push(["GET", () => store.load()]);
    steps.push(["EVAL", () => lock!.save("{}")]);
    steps.push(["EVAL", () => lock!.release()]);
    for (const [name, step] of steps) {
      rest.resetCount();
      await step();
      expect(rest.commandCount()).toBe(1);
      expect(rest.commands[0]?.[0]).toBe(name);
    }
  });

  it("reads a long history in pages of 1,000, newest last, each page one XREVRANGE", async () => {
    const store = newStore("history-pages");
    const redis = createClient({ url: redisServer.url });
    await redis.connect();
    try {
      const batch = redis.multi();
      for (let i = 0; i < 2500; i++) batch.xAdd("history-pages:history", "*", { tick: String(i) });
      await batch.exec();
    } finally {
      await redis.quit();
    }
    rest.resetCount();
    const ticks = await store.readHistory(2300);
    expect(ticks).toHaveLength(2300);
    expect(ticks[0]).toBe("200");
    expect(ticks.at(-1)).toBe("2499");
    expect(new Set(ticks).size).toBe(2300);
    expect(rest.commands.map((c) => [c[0], c.at(-1)])).toEqual([
      ["XREVRANGE", "1000"],
      ["XREVRANGE", "1000"],
      ["XREVRANGE", "300"],
    ]);
    expect(await store.readHistory(5000)).toHaveLength(2500);
  });

  it("sends the lock as SET NX PX on its own key", async () => {
    await newStore("shape").acquireLock(5_000);
    const [command] = rest.commands;
    expect(command?.map((arg) => arg.toUpperCase())).toEqual([
      "SET",
      "SHAPE:LOCK",
      expect.any(String),
      "NX",
      "PX",
      "5000",
    ]);
  });

  it("reports a wrong token as StateStoreError without leaking it", async () => {
    const wrongToken = "wrong-token-do-not-leak";
    const error = await newStore(undefined, wrongToken)
      .load()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toMatch(/during load/);
    expect((error as Error).message).not.toContain(wrongToken);
  });

  it("reports an unreachable endpoint quickly as StateStoreError", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const store = new UpstashStateStore({ url, token: TOKEN, keyPrefix: "x", retry: false });
    const error = await store.load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect(error).toMatchObject({ unclear: true });
    expect((error as Error).message).toMatch(
      /^Upstash Redis unreachable during load: fetch failed \(ECONNREFUSED\)/,
    );
    expect((error as Error).message).not.toContain(TOKEN);
  });

  it("gives up on an endpoint that never answers after timeoutMs", async () => {
    const silent = createHttpServer(() => {});
    const url = await listen(silent);
    try {
      const store = new UpstashStateStore({
        url,
        token: TOKEN,
        keyPrefix: "x",
        retry: false,
        timeoutMs: 200,
      });
      const started = Date.now();
      await expect(store.load()).rejects.toThrow(
        /^Upstash Redis unreachable during load: no answer within 200 ms$/,
      );
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await close(silent);
    }
  });

  it("reports an invalid URL as StateStoreError", () => {
    expect(() => new UpstashStateStore({ url: "not a url", token: TOKEN, keyPrefix: "x" })).toThrow(
      StateStoreError,
    );
  });

  // Last: it stops Redis.
  it("fails quickly with StateStoreError when Redis is down", async () => {
    const store = newStore();
    const lock = await store.acquireLock(10_000);
    await redisServer.stop();
    const calls = [
      () => store.acquireLock(1_000),
      () => store.load(),
      () => lock!.save("{}"),
      () => lock!.release(),
    ];
    for (const call of calls) {
      const started = Date.now();
      const error = await call().catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(error).toBeInstanceOf(StateStoreError);
      expect((error as Error).message).toMatch(/^Upstash Redis .* during (acquireLock|load|save|release): /);
      expect((error as Error).message).not.toContain(TOKEN);
    }
  });
});
