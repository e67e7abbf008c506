import { createServer as createHttpServer } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { close, listen } from "../../src/local/listen.js";
import { startRedisServer, type RedisServer } from "../../src/local/redis-server.js";
import { startUpstashRest, type UpstashRestServer } from "../../src/local/upstash-rest.js";
import { StateStoreError } from "../../src/state/types.js";
import { UpstashStateStore } from "../../src/state/upstash.js";

const TOKEN = "secret-upstash-token-xyz";

let redisServer: RedisServer;
let rest: UpstashRestServer;
let prefixCounter = 0;

/** A store on its own key prefix, so tests do not see each other's locks and state. */
function newStore(keyPrefix = `test-${++prefixCounter}`, token = TOKEN): UpstashStateStore {
  return new UpstashStateStore({ url: rest.url, token, keyPrefix, retry: false });
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
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

describe("UpstashStateStore", () => {
  it("is of kind upstash", () => {
    expect(newStore().kind).toBe("upstash");
  });

  it("gives the lock to one holder at a time", async () => {
    const store = newStore();
    const lock = await store.acquireLock(10_000);
    expect(lock).not.toBeNull();
    expect(await store.acquireLock(10_000)).toBeNull();
    await lock!.release();
    expect(await store.acquireLock(10_000)).not.toBeNull();
  });

  it("lets the lock expire by itself", async () => {
    const store = newStore();
    expect(await store.acquireLock(100)).not.toBeNull();
    await sleep(200);
    expect(await store.acquireLock(10_000)).not.toBeNull();
  });

  it("releases only its own lock", async () => {
    const store = newStore();
    const ours = await store.acquireLock(100);
    await sleep(200);
    const theirs = await store.acquireLock(10_000);
    expect(theirs).not.toBeNull();
    await ours!.release();
    expect(await store.acquireLock(10_000)).toBeNull();
    await theirs!.release();
    expect(await store.acquireLock(10_000)).not.toBeNull();
  });

  it("loads null when there is no state", async () => {
    expect(await newStore().load()).toBeNull();
  });

  it("saves and loads the document unchanged", async () => {
    const store = newStore();
    const document = JSON.stringify({ version: 1, formations: { web: { quantity: 3 } }, note: "ünïcode ✓" });
    await store.save(document);
    expect(await store.load()).toBe(document);
    // Strings that look like other JSON values must stay strings (no automatic deserialization).
    await store.save("42");
    expect(await store.load()).toBe("42");
  });

  it("keeps stores with different prefixes apart", async () => {
    const a = newStore();
    const b = newStore();
    await a.save("a");
    expect(await b.load()).toBeNull();
    expect(await a.acquireLock(10_000)).not.toBeNull();
    expect(await b.acquireLock(10_000)).not.toBeNull();
  });

  it("uses exactly one Redis command per call", async () => {
    const store = newStore("count");
    const steps: [string, () => Promise<unknown>][] = [];
    let lock: Awaited<ReturnType<UpstashStateStore["acquireLock"]>> = null;
    steps.push(["SET", async () => (lock = await store.acquireLock(5_000))]);
    steps.push(["GET", () => store.load()]);
    steps.push(["SET", () => store.save("{}")]);
    steps.push(["EVAL", () => lock!.release()]);
    for (const [name, step] of steps) {
      rest.resetCount();
      await step();
      expect(rest.commandCount()).toBe(1);
      expect(rest.commands[0]?.[0]).toBe(name);
    }
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
    const error = await store.save("{}").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toMatch(
      /^Upstash Redis unreachable during save: fetch failed \(ECONNREFUSED\)/,
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
      await expect(store.load()).rejects.toThrow(/^Upstash Redis unreachable during load: .*timeout/);
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
      () => store.save("{}"),
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
