import { randomUUID } from "node:crypto";
import { ManualClock } from "../../src/kit/clock.js";
import { plant } from "./planted.js";
import { parseConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { startHerokuApi, type HerokuApiServer } from "../../src/local/heroku-api.js";
import { startRedisServer, type RedisServer } from "../../src/local/redis-server.js";
import { startTargetApp, type TargetApp } from "../../src/local/target-app.js";
import { startUpstashRest, type UpstashRestServer } from "../../src/local/upstash-rest.js";
import { MemoryNotifier } from "../../src/notify/memory.js";
import { STORE_TIMEOUT_MS } from "../../src/state/types.js";
import { UpstashStateStore } from "../../src/state/upstash.js";
import { runTick, type TickOptions } from "../../src/engine/tick.js";

export const APP = "dancing-forest-1234";
/** The bearer tokens of `webFunctionEnv`: planted, so no test's output may show them. */
export const TRIGGER_TOKEN = plant("trigger-token");
export const STATUS_TOKEN = plant("status-token");

/**
 * The real local world a tick runs against: redis-server with the Upstash REST front (the real
 * @upstash/redis client), the Heroku-compatible API, and one target app per process.
 */
export interface World {
  redis: RedisServer;
  upstash: UpstashRestServer;
  heroku: HerokuApiServer;
  targets: Record<string, TargetApp>;
  apiKey: string;
  env: Record<string, string>;
  clock: ManualClock;
  memory: MemoryNotifier;
  store: UpstashStateStore;
  /** The store of a given keyPrefix (a test's own config). */
  storeFor(keyPrefix: string): UpstashStateStore;
  /**
   * The stores' timeout (default: the product's), which the tick keeps back from its deadline for
   * the save: a test of a short deadline shortens it too. reset() restores it.
   */
  storeTimeoutMs: number;
  /** A fresh keyPrefix per test keeps tests apart on one Redis. */
  config(overrides?: ConfigOverrides): Config;
  tick(config: Config, options?: TickOptions): ReturnType<typeof runTick>;
  /** Every process back at 1, the API and the apps answering at once, no events kept. */
  reset(): void;
  /**
   * What a Netlify function sees for one `web` process on this world's app (defaults for the
   * rest), with both tokens set: TRIGGER_TOKEN and STATUS_TOKEN.
   */
  webFunctionEnv(keyPrefix: string): Record<string, string>;
  /** The environment a Netlify function sees: this world's secrets and Upstash, `config` as AUTOSCALE_CONFIG. */
  functionEnv(config: object, extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export interface ConfigOverrides {
  decision?: Record<string, unknown>;
  processes?: string[];
  keyPrefix?: string;
  tickDeadlineMs?: number;
  timezone?: string;
  measurementTimeoutMs?: number;
  /** The processes' manualOverrideMinutes (default 30). */
  manualOverrideMinutes?: number;
  /** The processes' notifyOn (default: scale, above-max, below-min, scale-failed). */
  notifyOn?: string[];
}

export async function startWorld(processes: string[] = ["web"]): Promise<World> {
  const apiKey = plant("heroku-api-key");
  const redis = await startRedisServer();
  const upstash = await startUpstashRest({ redisUrl: redis.url, token: plant("upstash-token") });
  const heroku = await startHerokuApi({
    apiKey,
    apps: { [APP]: Object.fromEntries(processes.map((p) => [p, 1])) },
  });
  const targets: Record<string, TargetApp> = {};
  for (const name of processes) targets[name] = await startTargetApp({ latencyMs: 0 });
  const clock = new ManualClock(Date.parse("2026-06-01T12:00:00Z"));
  const memory = new MemoryNotifier();
  let prefix = `test-${randomUUID().slice(0, 8)}`;
  const world: World = {
    redis,
    upstash,
    heroku,
    targets,
    apiKey,
    env: { HEROKU_API_KEY: apiKey, HEROKU_API_URL: heroku.url },
    clock,
    memory,
    get store() {
      return world.storeFor(prefix);
    },
    storeFor(keyPrefix) {
      return new UpstashStateStore({
        url: upstash.url,
        token: upstash.token,
        keyPrefix,
        retry: false,
        timeoutMs: world.storeTimeoutMs,
      });
    },
    storeTimeoutMs: STORE_TIMEOUT_MS,
    config(overrides = {}) {
      prefix = overrides.keyPrefix ?? `test-${randomUUID().slice(0, 8)}`;
      const names = overrides.processes ?? processes;
      return parseConfig({
        keyPrefix: prefix,
        timezone: overrides.timezone ?? "UTC",
        ...(overrides.tickDeadlineMs ? { tickDeadlineMs: overrides.tickDeadlineMs } : {}),
        processes: Object.fromEntries(
          names.map((name) => [
            name,
            {
              measurement: {
                backend: "response-time",
                url: `${targets[name]!.url}/heartbeat`,
                timeoutMs: overrides.measurementTimeoutMs ?? 1000,
              },
              decision: {
                backend: "consecutive-threshold",
                minMeasurement: 100,
                maxMeasurement: 300,
                failsToScaleUp: 3,
                passesToScaleDown: 5,
                minProcesses: 1,
                maxProcesses: 3,
                postScaleWaitSeconds: 60,
                ...overrides.decision,
              },
              scaling: { backend: "heroku", app: APP, processType: name },
              notification: {
                backends: ["memory"],
                notifyOn: overrides.notifyOn ?? ["scale", "above-max", "below-min", "scale-failed"],
              },
              ...(overrides.manualOverrideMinutes === undefined
                ? {}
                : { manualOverrideMinutes: overrides.manualOverrideMinutes }),
            },
          ]),
        ),
      });
    },
    tick(config, options) {
      prefix = config.keyPrefix; // world.store then reads what this tick wrote
      return runTick(config, { clock, store: world.store, env: world.env, notifiers: { memory } }, options);
    },
    reset() {
      world.storeTimeoutMs = STORE_TIMEOUT_MS;
      for (const name of processes) {
        heroku.setQuantity(APP, name, 1);
        targets[name]!.set({ latencyMs: 0, status: 200 });
      }
      heroku.setLatency(0);
      heroku.setRateLimitRemaining(4500);
      memory.events.length = 0;
    },
    webFunctionEnv(keyPrefix) {
      const web = {
        measurement: { backend: "response-time", url: `${targets.web!.url}/heartbeat` },
        scaling: { backend: "heroku", app: APP },
        notification: { backends: ["memory"] },
      };
      return world.functionEnv(
        { keyPrefix, processes: { web } },
        { AUTOSCALE_TRIGGER_TOKEN: TRIGGER_TOKEN, AUTOSCALE_STATUS_TOKEN: STATUS_TOKEN },
      );
    },
    functionEnv(config, extra = {}) {
      return {
        ...world.env,
        AUTOSCALE_CONFIG: JSON.stringify(config),
        UPSTASH_REDIS_REST_URL: upstash.url,
        UPSTASH_REDIS_REST_TOKEN: upstash.token,
        ...extra,
      };
    },
    async close() {
      await Promise.all([...Object.values(targets).map((t) => t.close()), heroku.close(), upstash.close()]);
      await redis.stop();
    },
  };
  return world;
}

/** Runs `count` ticks one minute apart. */
export async function ticks(world: World, config: Config, count: number, options?: TickOptions) {
  const reports = [];
  for (let i = 0; i < count; i++) {
    reports.push(await world.tick(config, options));
    world.clock.advance(60_000);
  }
  return reports;
}
