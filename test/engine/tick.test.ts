import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { decodeState } from "../../src/engine/state-document.js";
import { seedState } from "../helpers/stores.js";
import { APP, startWorld, ticks, type World } from "../helpers/world.js";

let world: World;
beforeAll(async () => {
  world = await startWorld(["web"]);
});
afterAll(() => world.close());
beforeEach(() => world.reset());

const quantity = () => world.heroku.quantity(APP, "web");
const patches = () => world.heroku.requests.filter((r) => r.method === "PATCH").length;

describe("a tick against the real local world", () => {
  it("scales up after exactly failsToScaleUp slow readings, PATCHing the formation", async () => {
    const config = world.config();
    world.targets.web!.set({ latencyMs: 350 });
    const [first, second, third] = await ticks(world, config, 3);
    expect(first!.processes[0]).toMatchObject({ status: "held", current: 1, decision: { action: "hold" } });
    expect(second!.processes[0]!.status).toBe("held");
    expect(third!.processes[0]).toMatchObject({ status: "scaled", scaled: { from: 1, to: 2 } });
    expect(quantity()).toBe(2);
    const patch = world.heroku.requests.findLast((r) => r.method === "PATCH");
    expect(patch).toMatchObject({
      path: `/apps/${APP}/formation`,
      body: { updates: [{ type: "web", quantity: 2 }] },
    });
    expect(patch!.headers.accept).toBe("application/vnd.heroku+json; version=3");
    expect(world.memory.events.map((e) => [e.kind, e.from, e.to])).toEqual([["scale", 1, 2]]);
  });

  it("counts a failing heartbeat (HTTP 503) as a fail", async () => {
    const config = world.config();
    world.targets.web!.set({ status: 503 });
    const reports = await ticks(world, config, 3);
    expect(reports[0]!.processes[0]!.reading).toMatchObject({
      ok: false,
      error: "heartbeat answered HTTP 503",
    });
    expect(reports[2]!.processes[0]!.status).toBe("scaled");
  });

  it("counts a heartbeat timeout as a fail", async () => {
    const config = world.config({ measurementTimeoutMs: 100, decision: { failsToScaleUp: 1 } });
    world.targets.web!.set({ latencyMs: 400 });
    const [report] = await ticks(world, config, 1);
    expect(report!.processes[0]!.reading).toMatchObject({
      ok: false,
      error: "heartbeat failed: no answer within 100 ms",
    });
    expect(report!.processes[0]!.status).toBe("scaled");
  });

  it("scales down after exactly passesToScaleDown fast readings", async () => {
    const config = world.config();
    world.heroku.setQuantity(APP, "web", 3);
    const reports = await ticks(world, config, 5);
    expect(reports.slice(0, 4).every((r) => r.processes[0]!.status === "held")).toBe(true);
    expect(reports[4]!.processes[0]).toMatchObject({ status: "scaled", scaled: { from: 3, to: 2 } });
    expect(quantity()).toBe(2);
  });

  it("holds during the cool-down after a scale, then evaluates afresh", async () => {
    const config = world.config({ decision: { failsToScaleUp: 1 } });
    world.targets.web!.set({ latencyMs: 350 });
    await world.tick(config);
    expect(quantity()).toBe(2);
    world.clock.advance(30_000);
    const cooling = await world.tick(config);
    expect(cooling.processes[0]!.decision?.reason).toMatch(/cooling down for 30 s/);
    world.clock.advance(30_000);
    const after = await world.tick(config);
    expect(after.processes[0]).toMatchObject({ status: "scaled", scaled: { from: 2, to: 3 } });
  });

  it("never goes above max: at max it holds and notifies above-max", async () => {
    const config = world.config({ decision: { failsToScaleUp: 1 } });
    world.heroku.setQuantity(APP, "web", 3);
    world.targets.web!.set({ status: 500 });
    const before = patches();
    const [report] = await ticks(world, config, 1);
    expect(report!.processes[0]).toMatchObject({ status: "held", decision: { action: "hold", target: 3 } });
    expect(patches()).toBe(before);
    expect(world.memory.events.map((e) => e.kind)).toEqual(["above-max"]);
  });

  it("with manualOverrideMinutes 0, respects a manual scale within bounds and corrects one outside them", async () => {
    const config = world.config({ manualOverrideMinutes: 0 });
    world.heroku.setQuantity(APP, "web", 2);
    const [inside] = await ticks(world, config, 1);
    expect(inside!.processes[0]).toMatchObject({ current: 2, status: "held" });
    world.heroku.setQuantity(APP, "web", 7);
    const [outside] = await ticks(world, config, 1);
    expect(outside!.processes[0]).toMatchObject({ status: "scaled", scaled: { from: 7, to: 3 } });
  });

  it("applies a time-of-day minimum in the configured zone", async () => {
    // 12:00 UTC is 08:00 in New York (EDT): the minimum of 2 starts then.
    const config = world.config({
      timezone: "America/New_York",
      decision: { minProcesses: { "0:00": 1, "8:00": 2 } },
    });
    world.clock.set(Date.parse("2026-06-01T11:59:00Z"));
    const [early] = await ticks(world, config, 1);
    expect(early!.processes[0]).toMatchObject({ status: "held", decision: { min: 1 } });
    world.clock.set(Date.parse("2026-06-01T12:00:00Z"));
    const [late] = await ticks(world, config, 1);
    expect(late!.processes[0]).toMatchObject({
      status: "scaled",
      scaled: { from: 1, to: 2 },
      decision: { min: 2 },
    });
  });

  it("dry run decides and notifies but neither PATCHes nor writes state", async () => {
    const config = world.config();
    world.targets.web!.set({ latencyMs: 350 });
    await ticks(world, config, 2);
    const stored = await world.store.load();
    const before = patches();
    const dry = await world.tick(config, { dryRun: true });
    expect(dry).toMatchObject({
      dryRun: true,
      processes: [{ status: "would-scale", decision: { action: "up", target: 2 } }],
    });
    expect(patches()).toBe(before);
    expect(await world.store.load()).toBe(stored);
    const real = await world.tick(config);
    expect(real.processes[0]!.status).toBe("scaled");
  });

  it("skips while another tick holds the lock", async () => {
    const config = world.config();
    const lock = await world.store.acquireLock(10_000);
    const skipped = await world.tick(config);
    expect(skipped).toMatchObject({ skipped: "locked", processes: [] });
    await lock!.release();
    const ran = await world.tick(config);
    expect(ran.skipped).toBeUndefined();
    expect(ran.processes).toHaveLength(1);
  });

  it("resets corrupt or older-version state with a warning", async () => {
    const config = world.config();
    await seedState(world.store, "{not json");
    const corrupt = await world.tick(config);
    expect(corrupt.warnings).toEqual(["stored state is not JSON; starting afresh"]);
    expect(corrupt.processes[0]!.status).toBe("held");
    expect(decodeState(await world.store.load()).warning).toBeUndefined();
    await seedState(world.store, JSON.stringify({ version: 0, processes: {} }));
    const older = await world.tick(config);
    expect(older.warnings).toEqual(["stored state has version 0, expected 2; starting afresh"]);
    expect(older.error).toBeUndefined();
    expect(decodeState(await world.store.load()).warning).toBeUndefined();
  });

  it("leaves newer-version state untouched: nothing scaled or written, a clear error", async () => {
    const config = world.config({ decision: { failsToScaleUp: 1 } });
    const newer = JSON.stringify({
      version: 3,
      updatedAt: 1,
      processes: { web: { shards: [1, 2] } },
      more: true,
    });
    await seedState(world.store, newer);
    world.targets.web!.set({ status: 500 });
    const before = patches();
    world.upstash.resetCount();
    const report = await world.tick(config);
    expect(report.error).toMatch(
      /^stored state has version 3, newer than this release's 2: .* left untouched/,
    );
    expect(report.processes).toEqual([]);
    expect(patches()).toBe(before);
    // Lock, load, unlock: the lock is not held on to.
    expect(world.upstash.commands.map((c) => c[0])).toEqual(["SET", "GET", "EVAL"]);
    expect(await world.store.load()).toBe(newer);
  });

  it("clamps a lastScaleAt in the future to now: a cool-down of its own length, not of ten years", async () => {
    const config = world.config({ decision: { failsToScaleUp: 1, postScaleWaitSeconds: 60 } });
    const now = world.clock.now();
    const tenYears = 10 * 365 * 24 * 3_600_000;
    await seedState(
      world.store,
      JSON.stringify({
        version: 1,
        updatedAt: now - 60_000,
        processes: { web: { history: [], lastScaleAt: now + tenYears, scales: [], lastSeenCount: 1 } },
      }),
    );
    world.targets.web!.set({ status: 500 });
    const [first, second] = await ticks(world, config, 2);
    expect(first!.warnings).toEqual([
      `stored state of web has times in the future (lastScaleAt): clamped to now (${new Date(now).toISOString()})`,
    ]);
    expect(first!.processes[0]!.decision!.reason).toMatch(/cooling down for 60 s/);
    expect(second!.processes[0]).toMatchObject({ status: "scaled", scaled: { from: 1, to: 2 } });
  });

  it("measures every intervalSeconds, the ticks between waiting", async () => {
    const config = world.config();
    config.processes.web!.intervalSeconds = 180;
    const hits = world.targets.web!.hits();
    const statuses = (await ticks(world, config, 7)).map((r) => r.processes[0]!.status);
    expect(statuses).toEqual(["held", "waiting", "waiting", "held", "waiting", "waiting", "held"]);
    expect(world.targets.web!.hits() - hits).toBe(3);
  });

  it("still enforces bounds on the ticks between measurements", async () => {
    const config = world.config({ decision: { minProcesses: { "0:00": 1, "12:03": 2 } } });
    config.processes.web!.intervalSeconds = 600;
    world.clock.set(Date.parse("2026-06-01T12:00:00Z"));
    const reports = await ticks(world, config, 4);
    expect(reports.map((r) => r.processes[0]!.status)).toEqual(["held", "waiting", "waiting", "scaled"]);
    expect(reports[3]!.processes[0]).toMatchObject({
      scaled: { from: 1, to: 2 },
      decision: { reason: "1 is below the minimum of 2" },
    });
    expect(reports[1]!.processes[0]!.decision!.reason).toBe("measured every 600 s: next in 510 s");
  });

  it("uses five Redis commands per tick: lock, load, fenced save, history, unlock; four without history", async () => {
    const config = world.config();
    world.upstash.resetCount();
    await world.tick(config);
    expect(world.upstash.commands.map((c) => c[0])).toEqual(["SET", "GET", "EVAL", "XADD", "EVAL"]);
    config.history.retentionDays = 0;
    world.upstash.resetCount();
    await world.tick(config);
    expect(world.upstash.commands.map((c) => c[0])).toEqual(["SET", "GET", "EVAL", "EVAL"]);
  });
});

describe("platform API failures", () => {
  const cases: Array<[number, string]> = [
    [401, "unauthorized"],
    [403, "forbidden"],
    [404, "not_found"],
    [422, "invalid_params"],
    [500, "internal_server_error"],
    [503, "unavailable"],
  ];
  it.each(cases)(
    "a %i on PATCH is reported with Heroku's id, keeps the history and is retried next tick",
    async (status, id) => {
      const config = world.config({ decision: { failsToScaleUp: 2 } });
      world.targets.web!.set({ status: 500 });
      await ticks(world, config, 1);
      world.heroku.failNext(status, undefined, 1, "PATCH");
      const [failed] = await ticks(world, config, 1);
      expect(failed!.processes[0]).toMatchObject({
        status: "error",
        error: { id },
        decision: { action: "up", target: 2 },
      });
      expect(quantity()).toBe(1);
      expect(world.memory.events.at(-1)).toMatchObject({ kind: "scale-failed", error: { id } });
      const [retried] = await ticks(world, config, 1);
      expect(retried!.processes[0]).toMatchObject({ status: "scaled", scaled: { from: 1, to: 2 } });
    },
  );

  it("a wrong API key fails reading the formation and says so without the key", async () => {
    const config = world.config();
    const tick = () => world.tick(config).then((r) => r);
    world.env.HEROKU_API_KEY = "wrong-key";
    try {
      const report = await tick();
      expect(report.processes[0]).toMatchObject({ status: "error", error: { id: "unauthorized" } });
      expect(JSON.stringify(report)).not.toContain(world.apiKey);
    } finally {
      world.env.HEROKU_API_KEY = world.apiKey;
    }
  });

  it("a missing API key is a clear per-process error", async () => {
    const config = world.config();
    delete world.env.HEROKU_API_KEY;
    try {
      const report = await world.tick(config);
      expect(report.processes[0]).toMatchObject({
        status: "error",
        error: { id: "missing_api_key", message: "HEROKU_API_KEY is not set" },
      });
    } finally {
      world.env.HEROKU_API_KEY = world.apiKey;
    }
  });

  it("a Heroku API that does not answer in time is a timeout error", async () => {
    const config = world.config({ decision: { failsToScaleUp: 1 } });
    const scaling = config.processes.web!.scaling;
    scaling.timeoutMs = 150;
    world.heroku.setLatency(600);
    const report = await world.tick(config);
    expect(report.processes[0]).toMatchObject({ status: "error", error: { id: "timeout" } });
  });
});
