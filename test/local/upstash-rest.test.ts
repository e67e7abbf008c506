import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startRedisServer, type RedisServer } from "../../src/local/redis-server.js";
import { startUpstashRest, type UpstashRestServer } from "../../src/local/upstash-rest.js";

const TOKEN = "test-token-123";

let redisServer: RedisServer;
let rest: UpstashRestServer;
let redis: Redis;

beforeAll(async () => {
  redisServer = await startRedisServer();
  rest = await startUpstashRest({ redisUrl: redisServer.url, token: TOKEN });
  redis = new Redis({ url: rest.url, token: TOKEN, retry: false, enableTelemetry: false });
});

afterAll(async () => {
  await rest?.close();
  await redisServer?.stop();
});

beforeEach(async () => {
  await redis.flushdb();
  rest.resetCount();
});

describe("startRedisServer", () => {
  it("serves on a loopback redis:// URL", () => {
    expect(redisServer.url).toBe(`redis://127.0.0.1:${redisServer.port}`);
  });

  it("reports a taken port clearly", async () => {
    await expect(startRedisServer({ port: redisServer.port })).rejects.toThrow(/address already in use/i);
  });
});

describe("Upstash REST server with the real @upstash/redis client", () => {
  it("sets, gets and deletes", async () => {
    expect(await redis.set("greeting", "hello")).toBe("OK");
    expect(await redis.get("greeting")).toBe("hello");
    expect(await redis.del("greeting")).toBe(1);
    expect(await redis.get("greeting")).toBeNull();
  });

  it("returns numbers as numbers", async () => {
    expect(await redis.incr("counter")).toBe(1);
    expect(await redis.incrby("counter", 41)).toBe(42);
  });

  it("honours SET options (NX, PX)", async () => {
    expect(await redis.set("lock", "a", { nx: true, px: 10_000 })).toBe("OK");
    expect(await redis.set("lock", "b", { nx: true, px: 10_000 })).toBeNull();
    const ttl = await redis.pttl("lock");
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10_000);
  });

  it("returns lists as arrays", async () => {
    await redis.rpush("list", "a", "b", "OK", "d");
    expect(await redis.lrange("list", 0, -1)).toEqual(["a", "b", "OK", "d"]);
    expect(await redis.lrange("missing", 0, -1)).toEqual([]);
  });

  it("returns hashes as objects", async () => {
    await redis.hset("hash", { name: "web", size: "standard-2x" });
    expect(await redis.hgetall("hash")).toEqual({ name: "web", size: "standard-2x" });
    expect(await redis.hgetall("missing")).toBeNull();
  });

  it("runs pipelines and counts every command in them", async () => {
    const results = await redis.pipeline().set("p", "1").incr("p").get("p").exec();
    expect(results).toEqual(["OK", 2, 2]);
    expect(rest.commandCount()).toBe(3);
    expect(rest.commands).toEqual([
      ["SET", "p", "1"],
      ["INCR", "p"],
      ["GET", "p"],
    ]);
  });

  it("runs transactions with MULTI/EXEC", async () => {
    const results = await redis.multi().set("m", "x").append("m", "y").get("m").exec();
    expect(results).toEqual(["OK", 2, "xy"]);
    expect(rest.commandCount()).toBe(3);
  });

  it("reports a failing command inside a pipeline per entry", async () => {
    await redis.set("text", "not a number");
    const results = await redis.pipeline().incr("text").get("text").exec({ keepErrors: true });
    expect(results[0]?.error).toMatch(/ERR value is not an integer/);
    expect(results[1]).toEqual({ result: "not a number", error: undefined });
  });

  it("evaluates Lua scripts", async () => {
    await redis.set("k", "v");
    expect(await redis.eval("return redis.call('GET', KEYS[1])", ["k"], [])).toBe("v");
    expect(await redis.eval("return {1, 'two', {3, 'four'}}", [], [])).toEqual([1, "two", [3, "four"]]);
  });

  it("round-trips JSON values with automatic deserialization", async () => {
    const value = { replicas: 3, tags: ["web", "worker"], nested: { ok: true } };
    await redis.set("json", value);
    expect(await redis.get("json")).toEqual(value);
  });

  it("round-trips unicode", async () => {
    const value = "héllo wörld — 日本語 🚀";
    await redis.set("unicode", value);
    expect(await redis.get("unicode")).toBe(value);
  });

  it("works without base64 encoding too", async () => {
    const plain = new Redis({ url: rest.url, token: TOKEN, retry: false, responseEncoding: false });
    await plain.set("plain", "ünïcode");
    expect(await plain.get("plain")).toBe("ünïcode");
    expect(await plain.lrange("missing", 0, -1)).toEqual([]);
  });

  it("accepts the path form", async () => {
    const response = await fetch(`${rest.url}/set/path-key/path%20value`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(await response.json()).toEqual({ result: "OK" });
    expect(await redis.get("path-key")).toBe("path value");
  });

  it("rejects a wrong token", async () => {
    const intruder = new Redis({ url: rest.url, token: "wrong", retry: false });
    await expect(intruder.get("greeting")).rejects.toThrow(/Unauthorized/);
    const response = await fetch(rest.url, { method: "POST", body: '["GET","x"]' });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "Unauthorized" });
  });

  it("rejects a malformed body with 400", async () => {
    for (const body of ["not json", "[]", '{"a":1}', "[null]"]) {
      const response = await fetch(rest.url, {
        method: "POST",
        headers: { Authorization: `Bearer ${TOKEN}` },
        body,
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toHaveProperty("error");
    }
  });

  it("surfaces Redis errors", async () => {
    await redis.set("text", "not a number");
    await expect(redis.incr("text")).rejects.toThrow(/ERR value is not an integer/);
  });
});
