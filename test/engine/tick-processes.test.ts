import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { decodeState } from "../../src/engine/state-document.js";
import { StateStoreError, STORE_TIMEOUT_MS } from "../../src/state/types.js";
import { UpstashStateStore } from "../../src/state/upstash.js";
import { runTick } from "../../src/engine/tick.js";
import { withSaveHook } from "../helpers/stores.js";
import { APP, startWorld, type World } from "../helpers/world.js";

const NAMES = ["web", "worker", "urgent", "mailer", "clock"];
let world: World;
beforeAll(async () => {
  world = await startWorld(NAMES);
});
afterAll(() => world.close());
afterEach(() => void (world.storeTimeoutMs = STORE_TIMEOUT_MS));

describe("a tick over several processes", () => {
  it("uses the same five Redis commands for five processes as for one, history included", async () => {
    const one = world.config({ processes: ["web"] });
    world.upstash.resetCount();
    await world.tick(one);
    const forOne = world.upstash.commandCount();
    const five = world.config();
    world.upstash.resetCount();
    const report = await world.tick(five);
    expect(report.processes).toHaveLength(5);
    expect(world.upstash.commandCount()).toBe(forOne);
    expect(forOne).toBe(5);
  });

  it("records every scale of a tick as pending in one save before the PATCHes: six commands however many scale", async () => {
    const config = world.config({ decision: { failsToScaleUp: 1, postScaleWaitSeconds: 300 } });
    const slow = ["web", "worker", "urgent"];
    for (const name of slow) world.targets[name]!.set({ status: 500 });
    try {
      world.upstash.resetCount();
      const report = await world.tick(config);
      expect(report.processes.filter((p) => p.status === "scaled").map((p) => p.process)).toEqual(slow);
      expect(world.upstash.commands.map((c) => c[0])).toEqual(["SET", "GET", "EVAL", "EVAL", "XADD", "EVAL"]);
      // The first EVAL is the intent: written before the PATCHes, each scale pending, the others as loaded.
      const intent = decodeState(world.upstash.commands[2]!.at(-1)!).state.processes;
      for (const name of slow)
        expect(intent[name]!.pendingScale).toEqual({ at: world.clock.now(), from: 1, to: 2, intent: true });
      expect(intent.mailer?.pendingScale).toBeUndefined();
      const saved = decodeState(await world.store.load()).state.processes;
      for (const name of slow)
        expect(saved[name]).toMatchObject({ lastScaleAt: world.clock.now(), lastSeenCount: 2 });
      expect(saved.web!.pendingScale).toBeUndefined();
    } finally {
      for (const name of slow) {
        world.targets[name]!.set({ status: 200 });
        world.heroku.setQuantity(APP, name, 1);
      }
    }
  });

  it("scales nothing when the scales' intent cannot be saved first", async () => {
    const config = world.config({ processes: ["web"], decision: { failsToScaleUp: 1 } });
    await world.tick(config);
    world.clock.advance(60_000);
    world.targets.web!.set({ status: 500 });
    const patches = () => world.heroku.requests.filter((r) => r.method === "PATCH").length;
    const before = patches();
    const failing = withSaveHook(world.store, () => {
      throw new StateStoreError("the store refused the write");
    });
    try {
      const report = await runTick(config, { clock: world.clock, store: failing, env: world.env });
      expect(report.processes[0]).toMatchObject({ status: "error", error: { id: "intent_not_recorded" } });
      expect(patches()).toBe(before);
      expect(world.heroku.quantity(APP, "web")).toBe(1);
    } finally {
      world.targets.web!.set({ status: 200 });
    }
  });

  it("runs only the processes asked for and keeps the others' state", async () => {
    const config = world.config({ decision: { failsToScaleUp: 5 } });
    world.targets.web!.set({ status: 500 });
    world.targets.worker!.set({ status: 500 });
    await world.tick(config);
    world.clock.advance(60_000);
    const report = await world.tick(config, { processes: ["web"] });
    expect(report.processes.map((p) => p.process)).toEqual(["web"]);
    const { state } = decodeState(await world.store.load());
    expect(state.processes.web!.history).toHaveLength(2);
    expect(state.processes.worker!.history).toHaveLength(1);
    world.targets.web!.set({ status: 200 });
    world.targets.worker!.set({ status: 200 });
  });

  it("reports a process that misses the tick deadline as timed out; the others finish and state is written", async () => {
    const config = world.config({ measurementTimeoutMs: 5000 });
    // Set after validation, which refuses timeouts beyond the deadline: it can still be missed (a slow store, a slow app).
    // The store's 1 s is kept for the save: the processes have 1 s.
    config.tickDeadlineMs = 2000;
    world.storeTimeoutMs = 1000;
    world.targets.urgent!.set({ latencyMs: 3000 });
    try {
      const report = await world.tick(config);
      const byName = Object.fromEntries(report.processes.map((p) => [p.process, p]));
      expect(byName.urgent).toMatchObject({ status: "timeout", error: { id: "timeout" } });
      expect(byName.web!.status).toBe("held");
      expect(report.durationMs).toBeLessThan(3000);
      const { state } = decodeState(await world.store.load());
      expect(state.processes.web!.history).toHaveLength(1);
      expect(state.processes.urgent!.history).toHaveLength(0);
    } finally {
      world.targets.urgent!.set({ latencyMs: 0 });
    }
  });

  it("isolates a process whose scaling fails from the others", async () => {
    const config = world.config({ decision: { failsToScaleUp: 1 } });
    Object.assign(config.processes.mailer!.scaling, { apiKeyEnv: "MAILER_HEROKU_KEY" });
    world.targets.web!.set({ status: 500 });
    world.targets.mailer!.set({ status: 500 });
    try {
      const report = await world.tick(config);
      const byName = Object.fromEntries(report.processes.map((p) => [p.process, p]));
      expect(byName.mailer).toMatchObject({ status: "error", error: { id: "missing_api_key" } });
      expect(byName.web).toMatchObject({ status: "scaled", scaled: { from: 1, to: 2 } });
    } finally {
      world.targets.web!.set({ status: 200 });
      world.targets.mailer!.set({ status: 200 });
      world.heroku.setQuantity(APP, "web", 1);
    }
  });
});

describe("robustness", () => {
  it("a bug in one process is that process's internal_error; the others complete and state is written", async () => {
    const config = world.config();
    (config.processes.clock as { measurement: unknown }).measurement = { backend: "no-such-backend" };
    const report = await world.tick(config);
    const byName = Object.fromEntries(report.processes.map((p) => [p.process, p]));
    expect(report.error).toBeUndefined();
    expect(byName.clock).toMatchObject({ status: "error", error: { id: "internal_error" } });
    expect(byName.web!.status).toBe("held");
    expect(decodeState(await world.store.load()).state.processes.web!.history).toHaveLength(1);
  });

  it("a notifier that never answers and ignores its signal costs only its timeout", async () => {
    const config = world.config({ processes: ["web"] });
    config.processes.web!.notification = {
      ...config.processes.web!.notification,
      notifyOn: ["measurement"],
      timeoutMs: 200,
    };
    const hung = { name: "memory", send: () => new Promise<void>(() => {}) };
    const report = await runTick(config, {
      clock: world.clock,
      store: world.store,
      env: world.env,
      notifiers: { memory: hung },
    });
    expect(report.processes[0]).toMatchObject({
      status: "held",
      warnings: ["notification via memory failed: no answer within 200 ms"],
    });
    expect(report.durationMs).toBeLessThan(2000);
  });

  it("a process cut off by the deadline after its scale went through keeps the scale, so the next tick does not scale again", async () => {
    const config = world.config({
      processes: ["worker"],
      decision: { failsToScaleUp: 1, postScaleWaitSeconds: 300 },
    });
    config.tickDeadlineMs = 2000; // after validation, as above
    world.storeTimeoutMs = 1000;
    config.processes.worker!.notification = {
      ...config.processes.worker!.notification,
      notifyOn: ["scale"],
      timeoutMs: 20_000,
    };
    world.targets.worker!.set({ status: 500 });
    world.heroku.setQuantity(APP, "worker", 1);
    const hung = { name: "memory", send: () => new Promise<void>(() => {}) };
    try {
      const first = await runTick(config, {
        clock: world.clock,
        store: world.store,
        env: world.env,
        notifiers: { memory: hung },
      });
      expect(first.processes[0]).toMatchObject({ status: "timeout", scaled: { from: 1, to: 2 } });
      world.clock.advance(60_000);
      const second = await world.tick(config);
      expect(second.processes[0]).toMatchObject({
        status: "held",
        decision: { reason: expect.stringMatching(/cooling down/) as unknown },
      });
      expect(world.heroku.quantity(APP, "worker")).toBe(2);
    } finally {
      world.targets.worker!.set({ status: 200 });
    }
  });

  it("a scale that got no answer is recorded next tick if the platform applied it", async () => {
    const config = world.config({
      processes: ["mailer"],
      decision: { failsToScaleUp: 1, postScaleWaitSeconds: 300 },
    });
    config.processes.mailer!.scaling.timeoutMs = 150;
    world.targets.mailer!.set({ status: 500 });
    world.heroku.setQuantity(APP, "mailer", 1);
    try {
      world.heroku.setLatency(400, "PATCH"); // the PATCH is applied at once, its answer comes too late
      const first = await world.tick(config);
      world.heroku.setLatency(0);
      expect(first.processes[0]).toMatchObject({ status: "error", error: { id: "timeout" } });
      expect(world.heroku.quantity(APP, "mailer")).toBe(2);
      world.clock.advance(60_000);
      world.memory.events.length = 0;
      const second = await world.tick(config);
      expect(second.processes[0]).toMatchObject({ status: "held", current: 2 });
      expect(world.memory.events).toEqual([
        expect.objectContaining({
          kind: "scale",
          from: 1,
          to: 2,
          reason: "the request of the previous tick got no answer, but the platform applied it",
        }),
      ]);
      expect(second.processes[0]!.decision!.reason).toMatch(/cooling down/);
      expect(world.heroku.quantity(APP, "mailer")).toBe(2);
    } finally {
      world.heroku.setLatency(0);
      world.targets.mailer!.set({ status: 200 });
    }
  });
});

describe("when Redis is down", () => {
  it("reports the store failure, scales nothing and does not crash", async () => {
    const config = world.config({ decision: { failsToScaleUp: 1 } });
    world.targets.web!.set({ status: 500 });
    await world.redis.stop();
    const patchesBefore = world.heroku.scaleCount();
    const store = new UpstashStateStore({
      url: world.upstash.url,
      token: world.upstash.token,
      keyPrefix: "down",
      retry: false,
    });
    const report = await runTick(config, { clock: world.clock, store, env: world.env });
    expect(report.error).toMatch(/^state store \(upstash\) failed: /);
    expect(report.processes).toEqual([]);
    expect(world.heroku.scaleCount()).toBe(patchesBefore);
    expect(JSON.stringify(report)).not.toContain(world.upstash.token);
  });
});
