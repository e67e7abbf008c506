import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Config } from "../../src/config/schema.js";
import { decodeState } from "../../src/engine/state-document.js";
import { steerProcess } from "../../src/engine/steer.js";
import { runTick } from "../../src/engine/tick.js";
import { ManualClock } from "../../src/kit/clock.js";
import { FileStateStore } from "../../src/state/file.js";
import type { StateStore } from "../../src/state/types.js";
import { UpstashStateStore } from "../../src/state/upstash.js";
import { stallSaves, startUpstashProxy, withSaveHook } from "../helpers/stores.js";
import { APP, startWorld, type World } from "../helpers/world.js";

/**
 * The state save is fenced by the tick's lock, and a scale's intent is recorded before the
 * PATCH: against the real local world (redis-server behind the Upstash REST front, the real
 * client, the Heroku-compatible API) and the file store. A slow tick is a real store with a
 * stall before its save; an expired lock is the lock key gone, as its PX makes it.
 */
let world: World;
let redis: ReturnType<typeof createClient>;
let root: string;
beforeAll(async () => {
  world = await startWorld(["web"]);
  redis = createClient({ url: world.redis.url });
  await redis.connect();
  root = await mkdtemp(join(tmpdir(), "autoscalebot-fenced-"));
});
afterAll(async () => {
  await redis.quit();
  await world.close();
  await rm(root, { recursive: true, force: true });
});
beforeEach(() => world.reset());

const quantity = () => world.heroku.quantity(APP, "web");
const patches = () => world.heroku.requests.filter((r) => r.method === "PATCH").length;

interface StoreCase {
  /** A store on the test's storage (a fresh one each call, as each tick has its own). */
  store(): StateStore;
  /** The lock expires, as it does by itself when a tick outlives it. */
  expireLock(): Promise<void>;
}

let dirs = 0;
const cases: Record<string, (config: Config) => StoreCase> = {
  upstash: (config) => ({
    store: () => world.storeFor(config.keyPrefix),
    expireLock: async () => void (await redis.del(`${config.keyPrefix}:lock`)),
  }),
  file: (config) => {
    // The file store's lock expires by its own clock; the engine's clock stays where the test put it.
    const lockClock = new ManualClock(0);
    const dir = join(root, `store-${++dirs}`);
    return {
      store: () => new FileStateStore({ dir, keyPrefix: config.keyPrefix, clock: lockClock }),
      expireLock: () => Promise.resolve(lockClock.advance(10 * 60_000)),
    };
  },
};

const tickWith = (config: Config, store: StateStore) =>
  runTick(config, { clock: world.clock, store, env: world.env, notifiers: { memory: world.memory } });

const web = async (store: StateStore) => decodeState(await store.load()).state.processes.web!;

describe.each(Object.keys(cases))("the fenced save (%s store)", (kind) => {
  /** A first tick (the count seen is 1), then a holder `run` on a store whose save stalls until its lock expired. */
  async function stalledPastItsLock<T>(config: Config, run: (store: StateStore) => Promise<T>) {
    const storage = cases[kind]!(config);
    await tickWith(config, storage.store());
    world.clock.advance(60_000);
    const slow = stallSaves(storage.store());
    const running = run(slow.store);
    await slow.reached;
    await storage.expireLock();
    return { storage, running, release: slow.release };
  }

  it("a slow tick whose lock expired cannot overwrite a newer tick's state: the next tick does not scale inside the cool-down", async () => {
    // manualOverrideMinutes 0: a lost record would make the next tick decide afresh from the new count.
    const config = world.config({
      manualOverrideMinutes: 0,
      decision: { failsToScaleUp: 1, postScaleWaitSeconds: 300 },
    });
    // The slow tick holds (a fast heartbeat), then stalls before its save until its lock expired.
    const { storage, running, release } = await stalledPastItsLock(config, (store) =>
      tickWith(config, store),
    );

    // Meanwhile a newer tick takes the lock, scales and saves.
    world.targets.web!.set({ latencyMs: 350 });
    const newer = await tickWith(config, storage.store());
    expect(newer.processes[0]).toMatchObject({ status: "scaled", scaled: { from: 1, to: 2 } });
    release();
    const late = await running;
    expect(late.error).toMatch(/state not saved: this tick's lock expired/);
    expect(late.processes[0]!.status).toBe("held");

    // The newer tick's record survived, and with it the cool-down.
    expect(await web(storage.store())).toMatchObject({ lastScaleAt: world.clock.now(), lastSeenCount: 2 });
    world.clock.advance(60_000);
    const next = await tickWith(config, storage.store());
    expect(next.processes[0]).toMatchObject({
      status: "held",
      decision: { reason: expect.stringMatching(/cooling down/) as unknown },
    });
    expect(next.processes[0]!.manual).toBeUndefined();
    expect(quantity()).toBe(2);
  });

  it("pause and resume save through the same fence: an edit whose lock expired is refused, the tick's state survives", async () => {
    const config = world.config({ decision: { failsToScaleUp: 1, postScaleWaitSeconds: 300 } });
    const { storage, running, release } = await stalledPastItsLock(config, (store) =>
      steerProcess("pause", config, { store, clock: world.clock }, { process: "web" }, "cli").catch(
        (error: unknown) => error,
      ),
    );
    world.targets.web!.set({ latencyMs: 350 });
    expect((await tickWith(config, storage.store())).processes[0]!.status).toBe("scaled");
    release();
    expect(await running).toMatchObject({ name: "LockLostError" });
    const record = await web(storage.store());
    expect(record).toMatchObject({ lastScaleAt: world.clock.now(), lastSeenCount: 2 });
    expect(record.paused).toBeUndefined();
  });
});

describe("a scale made whose record was lost", () => {
  /** The tick's final save fails once: the one that records the scale (it has a lastScaleAt). */
  function failingFinalSave(config: Config): StateStore {
    let failed = false;
    return withSaveHook(world.storeFor(config.keyPrefix), (document) => {
      const record = decodeState(document).state.processes.web;
      if (failed || record?.lastScaleAt == null) return;
      failed = true;
      throw new Error("the store went away between the PATCH and the save");
    });
  }

  it.each([30, 0])(
    "is not taken for a manual change nor repeated inside the cool-down (manualOverrideMinutes %i)",
    async (manualOverrideMinutes) => {
      const config = world.config({
        manualOverrideMinutes,
        decision: { failsToScaleUp: 1, postScaleWaitSeconds: 300 },
      });
      await world.tick(config);
      world.clock.advance(60_000);
      world.targets.web!.set({ latencyMs: 350 });
      const scaled = await tickWith(config, failingFinalSave(config));
      expect(scaled.processes[0]).toMatchObject({ status: "scaled", scaled: { from: 1, to: 2 } });
      expect(scaled.error).toMatch(/went away/);
      expect(quantity()).toBe(2);
      const before = patches();

      world.clock.advance(60_000);
      const next = await world.tick(config);
      expect(next.processes[0]!.manual).toBeUndefined();
      expect(next.processes[0]!.override).toBeUndefined();
      expect(next.processes[0]).toMatchObject({
        status: "held",
        decision: { reason: expect.stringMatching(/cooling down/) as unknown },
      });
      expect(patches()).toBe(before);
      // The cool-down counts from the scale itself, not from the tick that found it.
      expect(await web(world.store)).toMatchObject({ lastScaleAt: world.clock.now() - 60_000 });
    },
  );
});

describe("a save that gets no answer", () => {
  it("keeps the lock (it expires by itself), and the tick still returns within its deadline", async () => {
    const config = world.config({ measurementTimeoutMs: 5000 });
    // Set after validation: the heartbeat runs into the deadline, then the save into its own timeout.
    config.tickDeadlineMs = 3000;
    const proxy = await startUpstashProxy(
      world.upstash.url,
      (command) => command.includes(`${config.keyPrefix}:state`) && command[0] !== "GET",
    );
    const store = new UpstashStateStore({
      url: proxy.url,
      token: world.upstash.token,
      keyPrefix: config.keyPrefix,
      retry: false,
      timeoutMs: 1000,
    });
    world.targets.web!.set({ latencyMs: 10_000 });
    try {
      const started = performance.now();
      const report = await tickWith(config, store);
      const took = performance.now() - started;
      expect(took).toBeLessThan(config.tickDeadlineMs + 250);
      expect(report.processes[0]!.status).toBe("timeout");
      expect(report.error).toMatch(/state save got no clear answer/);
      // Not released: a save that may still land must not meet another tick's lock... or none.
      expect(await redis.get(`${config.keyPrefix}:lock`)).not.toBeNull();
      expect(proxy.commands.map((c) => c[0])).not.toContain("XADD");
    } finally {
      await proxy.close();
    }
  });
});
