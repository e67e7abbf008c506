/** The brokers the queue measurements' tests read: a real redis-server, and the Upstash REST front on it. */
import { createClient } from "redis";
import { afterAll, beforeAll } from "vitest";
import { startRedisServer, type RedisServer } from "../../src/local/redis-server.js";
import { startUpstashRest, type UpstashRestServer } from "../../src/local/upstash-rest.js";
import type { Reading, Unit } from "../../src/measure/types.js";

/** 2026-01-01T00:00:00Z */
export const T0 = Date.UTC(2026, 0, 1);

/** Settings that read the broker through Upstash REST (the variables `env` sets). */
export const upstash = { brokerUrlEnv: "UPSTASH_URL", brokerTokenEnv: "UPSTASH_TOKEN" };

export const never = () => new AbortController().signal;

export interface Brokers {
  server: RedisServer;
  /** The Upstash REST front on `server`, whose token is the one given. */
  rest: UpstashRestServer;
  /** A plain client that writes the jobs as the queue library would. */
  writer: ReturnType<typeof createClient>;
  /** REDIS_URL, UPSTASH_URL and UPSTASH_TOKEN for both. */
  env: Record<string, string | undefined>;
}

/**
 * Starts redis-server, the Upstash REST front (with `token`) and a writer before the file's
 * tests and stops them after; the fields are set once the tests run.
 */
export function useBrokers(token: string): Brokers {
  const brokers = {} as Brokers;
  beforeAll(async () => {
    brokers.server = await startRedisServer();
    brokers.rest = await startUpstashRest({ redisUrl: brokers.server.url, token });
    brokers.writer = createClient({ url: brokers.server.url });
    await brokers.writer.connect();
    brokers.env = { REDIS_URL: brokers.server.url, UPSTASH_URL: brokers.rest.url, UPSTASH_TOKEN: token };
  });
  afterAll(async () => {
    // Each may be missing when a start failed.
    (brokers.writer as Brokers["writer"] | undefined)?.destroy();
    await (brokers.rest as UpstashRestServer | undefined)?.close();
    await (brokers.server as RedisServer | undefined)?.stop();
  });
  return brokers;
}

/** A failed reading that means "unknown" (the broker could not say), as a measurement returns it. */
export const unknownFailure = (backend: string, unit: Unit, error: string): Reading => ({
  backend,
  value: null,
  unit,
  ok: false,
  failureMeans: "unknown",
  error,
});
