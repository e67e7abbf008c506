import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config/load.js";
import { APP, startWorld, type World } from "../helpers/world.js";

/** The backends of issue 3 wired through the registry and a real tick: config → measure → decide → PATCH. */
let world: World;
let redis: ReturnType<typeof createClient>;

beforeAll(async () => {
  world = await startWorld(["web", "worker"]);
  redis = createClient({ url: world.redis.url, RESP: 2 });
  await redis.connect();
});
afterAll(async () => {
  await redis.quit();
  await world.close();
});

function config(processes: Record<string, Record<string, unknown>>) {
  return parseConfig({
    keyPrefix: `backends-${Math.random().toString(36).slice(2, 8)}`,
    processes: Object.fromEntries(
      Object.entries(processes).map(([name, settings]) => [
        name,
        {
          scaling: { backend: "heroku", app: APP },
          notification: { backends: ["memory"], notifyOn: ["scale", "fail-safe"] },
          ...settings,
        },
      ]),
    ),
  });
}

async function enqueueSidekiq(count: number) {
  await redis.del("queue:default");
  const now = world.clock.now();
  for (let i = 0; i < count; i++) {
    await redis.lPush(
      "queue:default",
      JSON.stringify({
        class: "HardWorker",
        args: [i],
        jid: `j${i}`,
        queue: "default",
        created_at: now,
        enqueued_at: now,
      }),
    );
  }
}

describe("issue 3 backends through a real tick", () => {
  it("sidekiq depth with target tracking scales the worker formation to depth / target", async () => {
    world.heroku.setQuantity(APP, "worker", 1);
    await enqueueSidekiq(45);
    const worker = config({
      worker: {
        measurement: { backend: "sidekiq-queue", queue: "default" },
        decision: { backend: "target-tracking", targetValue: 10, valueIs: "total", maxProcesses: 10 },
      },
    });
    const unset = await world.tick(worker);
    expect(unset.processes[0]).toMatchObject({
      status: "held",
      reading: { ok: false, error: "broker URL missing: environment variable REDIS_URL is not set" },
    });
    world.env.REDIS_URL = world.redis.url;
    try {
      const scaled = await world.tick(worker);
      expect(scaled.processes[0]).toMatchObject({
        reading: { backend: "sidekiq-queue", value: 45, unit: "jobs", ok: true },
        status: "scaled",
        scaled: { from: 1, to: 5 },
      });
      expect(world.heroku.quantity(APP, "worker")).toBe(5);
    } finally {
      delete world.env.REDIS_URL;
    }
  });

  it("an unreachable broker holds instead of scaling", async () => {
    world.heroku.setQuantity(APP, "worker", 2);
    world.env.REDIS_URL = "redis://127.0.0.1:1";
    try {
      const report = await world.tick(
        config({
          worker: {
            measurement: { backend: "celery-queue" },
            decision: { backend: "average-threshold", numberOfMeasurementsToAverage: 1, minMeasurement: 1 },
          },
        }),
      );
      expect(report.processes[0]).toMatchObject({
        status: "held",
        reading: { ok: false, failureMeans: "unknown" },
        decision: { action: "hold" },
      });
      expect(report.processes[0]!.decision!.reason).toMatch(
        /^holding: the measurement failed \(broker unreachable/,
      );
    } finally {
      delete world.env.REDIS_URL;
    }
  });

  it("app-json's desired count is honoured within the bounds", async () => {
    world.heroku.setQuantity(APP, "web", 1);
    world.targets.web!.set({ body: { desired: 3 } });
    try {
      const report = await world.tick(
        config({
          web: {
            measurement: { backend: "app-json", url: world.targets.web!.url },
            decision: { maxProcesses: 4 },
          },
        }),
      );
      expect(report.processes[0]).toMatchObject({ status: "scaled", scaled: { from: 1, to: 3 } });
    } finally {
      world.targets.web!.set({ body: "ok\n" });
    }
  });

  it("the fail-safe scales a down app straight to the maximum and notifies", async () => {
    world.heroku.setQuantity(APP, "web", 1);
    world.targets.web!.set({ status: 503 });
    world.memory.events.length = 0;
    try {
      const report = await world.tick(
        config({
          web: {
            measurement: { backend: "response-time", url: world.targets.web!.url },
            decision: { failSafe: {}, maxProcesses: 4, failsToScaleUp: 5 },
          },
        }),
      );
      expect(report.processes[0]).toMatchObject({ status: "scaled", scaled: { from: 1, to: 4 } });
      expect(world.memory.events.map((e) => [e.kind, e.phase])).toEqual([
        ["scale", undefined],
        ["fail-safe", "started"],
      ]);
    } finally {
      world.targets.web!.set({ status: 200 });
    }
  });

  it("the service-time backend reads Server-Timing from the app", async () => {
    world.heroku.setQuantity(APP, "web", 1);
    world.targets.web!.set({ headers: { "Server-Timing": 'db;dur=3, app;dur=1500.5;desc="render"' } });
    try {
      const report = await world.tick(
        config({
          web: {
            measurement: { backend: "service-time", url: world.targets.web!.url },
            decision: { failsToScaleUp: 1 },
          },
        }),
      );
      expect(report.processes[0]).toMatchObject({
        reading: { value: 1500.5, unit: "ms", ok: true },
        status: "scaled",
      });
    } finally {
      world.targets.web!.set({ headers: {} });
    }
  });
});

describe("validation of the new settings names their paths", () => {
  const problems = (web: Record<string, unknown>) => {
    try {
      config({ web });
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };
  const url = "https://example.com/";
  it.each([
    [
      { measurement: { backend: "response-time", url }, decision: { backend: "target-tracking" } },
      /^processes\.web\.decision\.targetValue: /,
    ],
    [{ measurement: { backend: "sidekiq-queue", metric: "size" } }, /^processes\.web\.measurement\.metric: /],
    [{ measurement: { backend: "bullmq-queue" } }, /^processes\.web\.measurement\.queue: /],
    [
      { measurement: { backend: "response-time", url, samples: 20 } },
      /^processes\.web\.measurement\.samples: /,
    ],
    [
      {
        measurement: { backend: "response-time", url },
        decision: { schedule: [{ cron: "every day", processes: 2 }] },
      },
      /^processes\.web\.decision\.schedule\.0\.cron: invalid cron expression/,
    ],
    [
      { measurement: { backend: "response-time", url }, decision: { failSafe: { maxMs: 0 } } },
      /^processes\.web\.decision\.failSafe\.maxMs: /,
    ],
    [
      {
        measurement: { backend: "response-time", url },
        decision: { backend: "average-threshold", numberOfMeasurementsToAverage: 20 },
      },
      /^processes\.web\.decision\.historyLength: /,
    ],
    [
      { measurement: { backend: "celery-queue", brokerUrlEnv: "not a name" } },
      /^processes\.web\.measurement\.brokerUrlEnv: /,
    ],
    [
      { measurement: { backend: "response-time", url }, intervalSeconds: 30 },
      /^processes\.web\.intervalSeconds: expected integer from 60/,
    ],
  ])("%j", (web, expected) => {
    expect(problems(web)).toEqual([expect.stringMatching(expected) as unknown]);
  });
});
