import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeState } from "../src/state/codec.js";
import { UpstashStateStore } from "../src/state/upstash.js";
import { runTick } from "../src/tick.js";
import { APP, startWorld, type World } from "./helpers/world.js";

const NAMES = ["web", "worker", "urgent", "mailer", "clock"];
let world: World;
beforeAll(async () => {
  world = await startWorld(NAMES);
});
afterAll(() => world.close());

describe("a tick over several processes", () => {
  it("uses the same four Redis commands for five processes as for one", async () => {
    const one = world.config({ processes: ["web"] });
    world.upstash.resetCount();
    await world.tick(one);
    const forOne = world.upstash.commandCount();
    const five = world.config();
    world.upstash.resetCount();
    const report = await world.tick(five);
    expect(report.processes).toHaveLength(5);
    expect(world.upstash.commandCount()).toBe(forOne);
    expect(forOne).toBe(4);
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
    const config = world.config({ tickDeadlineMs: 1000, measurementTimeoutMs: 5000 });
    world.targets.urgent!.set({ latencyMs: 3000 });
    try {
      const report = await world.tick(config);
      const byName = Object.fromEntries(report.processes.map((p) => [p.process, p]));
      expect(byName.urgent).toMatchObject({ status: "timeout", error: { id: "timeout" } });
      expect(byName.web!.status).toBe("held");
      expect(report.durationMs).toBeLessThan(2500);
      const { state } = decodeState(await world.store.load());
      expect(state.processes.web!.history).toHaveLength(1);
      expect(state.processes.urgent!.history).toHaveLength(0);
    } finally {
      world.targets.urgent!.set({ latencyMs: 0 });
    }
  });

  it("isolates a process whose scaling fails from the others", async () => {
    const config = world.config({ decision: { failsToScaleUp: 1 } });
    config.processes.mailer!.scaling.apiKeyEnv = "MAILER_HEROKU_KEY";
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
