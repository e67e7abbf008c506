import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Config } from "../../src/config/schema.js";
import { historyEntry } from "../../src/engine/history.js";
import { decodeState } from "../../src/engine/state-document.js";
import { readStatus } from "../../src/engine/status.js";
import { LockBusyError, steerProcess, SteerRequestError } from "../../src/engine/steer.js";
import { UnknownProcessError } from "../../src/engine/tick.js";
import { seedState } from "../helpers/stores.js";
import { APP, startWorld, type World } from "../helpers/world.js";

/**
 * Pause, resume and the manual override through real ticks against the local world: the Heroku
 * API (a manual change is a PATCH of its formation, as `heroku ps:scale` sends), redis-server
 * behind the Upstash REST front, and the target app.
 */
let world: World;
beforeAll(async () => {
  world = await startWorld(["web"]);
});
afterAll(() => world.close());
beforeEach(() => world.reset());

const STEERING = ["scale", "above-max", "scale-failed", "fail-safe", "pause", "resume", "manual-scale"];
const quantity = () => world.heroku.quantity(APP, "web");
const kinds = () => world.memory.events.map((e) => e.kind);

function config(decision: Record<string, unknown> = {}, manualOverrideMinutes?: number): Config {
  return world.config({
    decision: { failsToScaleUp: 1, passesToScaleDown: 1, postScaleWaitSeconds: 0, ...decision },
    notifyOn: STEERING,
    ...(manualOverrideMinutes === undefined ? {} : { manualOverrideMinutes }),
  });
}

const deps = (cfg: Config, retryForMs?: number) => ({
  store: world.storeFor(cfg.keyPrefix),
  clock: world.clock,
  ...(retryForMs === undefined ? {} : { retryForMs }),
});
const pause = (cfg: Config, fields: Record<string, unknown> = {}) =>
  steerProcess("pause", cfg, deps(cfg), { process: "web", ...fields }, "cli");
const resume = (cfg: Config) => steerProcess("resume", cfg, deps(cfg), { process: "web" }, "api");

/** `heroku ps:scale web=N`: a PATCH of the formation through the Platform API. */
async function psScale(n: number): Promise<void> {
  const response = await fetch(`${world.heroku.url}/apps/${APP}/formation/web`, {
    method: "PATCH",
    headers: {
      Authorization: `Bearer ${world.apiKey}`,
      Accept: "application/vnd.heroku+json; version=3",
      "Content-Type": "application/json",
    },
    body: JSON.stringify({ quantity: n }),
  });
  expect(response.status).toBe(200);
}

async function tick(cfg: Config) {
  const report = await world.tick(cfg);
  world.clock.advance(60_000);
  return { report, web: report.processes[0]!, point: historyEntry(report).processes[0]! };
}

async function stored(cfg: Config) {
  return decodeState(await world.storeFor(cfg.keyPrefix).load()).state;
}

describe("pause and resume", () => {
  it("a paused process is measured and recorded but not scaled; resume restores scaling", async () => {
    const cfg = config();
    world.targets.web!.set({ latencyMs: 350 });
    const paused = await pause(cfg);
    expect(paused).toMatchObject({ process: "web", changed: true, override: null });
    expect(paused.paused).toEqual({ since: new Date(world.clock.now()).toISOString(), by: "cli" });
    expect(paused.message).toBe("paused web: measured but not scaled, until resumed");

    const first = await tick(cfg);
    expect(first.web).toMatchObject({
      status: "held",
      reading: { ok: true },
      decision: { action: "hold", target: 1 },
      paused: { by: "cli" },
      notified: ["pause"],
    });
    expect(first.web.decision!.reason).toMatch(/^paused; the policy would scale up to 2: 1 fail in a row/);
    expect(first.point).toMatchObject({
      paused: {},
      value: expect.any(Number) as unknown,
      notified: ["pause"],
    });
    expect(world.memory.events[0]).toMatchObject({
      kind: "pause",
      message: "paused by cli: measured but not scaled until resumed",
      by: "cli",
    });
    const second = await tick(cfg);
    expect(second.web).toMatchObject({ status: "held", notified: [] });
    expect(quantity()).toBe(1);

    const resumed = await resume(cfg);
    expect(resumed).toMatchObject({ changed: true, paused: null });
    expect(resumed.message).toMatch(/^resumed web \(paused since .*\): the next tick decides again$/);
    const after = await tick(cfg);
    expect(after.web).toMatchObject({
      status: "scaled",
      scaled: { from: 1, to: 2 },
      notified: ["resume", "scale"],
    });
    expect(after.web.paused).toBeUndefined();
    expect(world.memory.events.find((e) => e.kind === "resume")).toMatchObject({ by: "api" });
    expect(quantity()).toBe(2);
  });

  it("with a count, scales there once, even beyond the bounds, then holds it there; resume brings the bounds back", async () => {
    const cfg = config();
    expect((await pause(cfg, { processes: 5 })).message).toBe(
      "paused web: the next tick scales it to 5 processes, then holds it there, until resumed",
    );
    const first = await tick(cfg);
    expect(first.web).toMatchObject({
      status: "scaled",
      scaled: { from: 1, to: 5 },
      paused: { processes: 5 },
      notified: ["pause", "scale"],
    });
    expect(first.point.paused).toEqual({ processes: 5 });
    expect((await tick(cfg)).web).toMatchObject({ status: "held", decision: { action: "hold", target: 5 } });
    // Someone scales during the pause: notified, and left alone (it was scaled there once).
    await psScale(4);
    const manual = await tick(cfg);
    expect(manual.web).toMatchObject({ status: "held", current: 4, manual: { from: 5, to: 4 } });
    expect(manual.web.override).toBeUndefined();
    expect(manual.point.manual).toEqual({ from: 5, to: 4 });
    expect(quantity()).toBe(4);
    await resume(cfg);
    expect((await tick(cfg)).web).toMatchObject({ status: "scaled", scaled: { from: 4, to: 3 } });
  });

  it("a pause with minutes ends by itself, announced as a resume", async () => {
    const cfg = config();
    world.targets.web!.set({ latencyMs: 350 });
    const { paused, message } = await pause(cfg, { minutes: 2 });
    const until = new Date(world.clock.now() + 2 * 60_000).toISOString();
    expect(paused).toMatchObject({ until });
    expect(message).toBe(`paused web: measured but not scaled, until ${until}`);
    expect((await tick(cfg)).point.paused).toEqual({ until });
    expect((await tick(cfg)).web.status).toBe("held");
    const ended = await tick(cfg);
    expect(ended.web).toMatchObject({ status: "scaled", notified: ["resume", "scale"] });
    expect(world.memory.events.find((e) => e.kind === "resume")).toMatchObject({
      by: "expired",
      message: expect.stringMatching(/^the pause since .* ended: deciding again$/) as unknown,
    });
    expect((await stored(cfg)).processes.web!.paused).toBeUndefined();
  });

  it("resume of a process that is not paused changes nothing and says so", async () => {
    const cfg = config();
    await tick(cfg);
    const before = await world.storeFor(cfg.keyPrefix).load();
    const result = await resume(cfg);
    expect(result).toEqual({
      process: "web",
      changed: false,
      message: "web is not paused: nothing to resume",
      paused: null,
      override: null,
    });
    expect(await world.storeFor(cfg.keyPrefix).load()).toBe(before);
  });

  it("refuses an unknown process and a bad request by field", async () => {
    const cfg = config();
    await expect(pause(cfg, { process: "nope" })).rejects.toBeInstanceOf(UnknownProcessError);
    const refused = await pause(cfg, { minutes: 0, processes: -1, reason: "x" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SteerRequestError);
    expect((refused as SteerRequestError).problems.sort()).toEqual([
      "minutes: expected integer from 1 to 43200",
      "processes: expected integer >= 0",
      "reason: unknown setting",
    ]);
    await expect(pause(cfg, { minutes: 1.5 })).rejects.toBeInstanceOf(SteerRequestError);
  });

  it("keeps the last tick's time in the state document, so /api/health is not fooled", async () => {
    const cfg = config();
    await tick(cfg);
    const updatedAt = (await stored(cfg)).updatedAt;
    world.clock.advance(10 * 60_000);
    await pause(cfg);
    expect((await stored(cfg)).updatedAt).toBe(updatedAt);
  });
});

describe("the tick lock", () => {
  it("a pause waits for a tick that holds the lock, and neither loses the other's update", async () => {
    const cfg = config();
    await tick(cfg);
    world.heroku.setLatency(400, "GET"); // the tick holds the lock while it reads the formation
    const [report, paused] = await Promise.all([
      world.tick(cfg),
      new Promise((resolve) => setTimeout(resolve, 100)).then(() => pause(cfg)),
    ]);
    world.heroku.setLatency(0);
    expect(report.skipped).toBeUndefined();
    expect(paused.changed).toBe(true);
    const { processes } = await stored(cfg);
    expect(processes.web!.paused).toBeDefined();
    expect(processes.web!.history).toHaveLength(2); // the tick's reading is kept too
  });

  it("gives up after its wait when the lock stays taken, writing nothing", async () => {
    const cfg = config();
    const lock = await world.storeFor(cfg.keyPrefix).acquireLock(10_000);
    try {
      const attempt = steerProcess("pause", cfg, deps(cfg, 300), { process: "web" }, "cli");
      await expect(attempt).rejects.toBeInstanceOf(LockBusyError);
      expect(await world.storeFor(cfg.keyPrefix).load()).toBeNull();
    } finally {
      await lock!.release();
    }
  });

  it("a pause leaves newer-version state untouched and says so", async () => {
    const cfg = config();
    const newer = JSON.stringify({ version: 3, updatedAt: 1, processes: { web: { shards: [1] } } });
    await seedState(world.storeFor(cfg.keyPrefix), newer);
    await expect(pause(cfg)).rejects.toThrow(/^stored state has version 3, newer than this release's 2/);
    expect(await world.storeFor(cfg.keyPrefix).load()).toBe(newer);
  });

  it("a tick with a pause in force takes five Redis commands (six for its one scale); a pause takes four", async () => {
    const cfg = config();
    await tick(cfg);
    world.upstash.resetCount();
    await pause(cfg, { processes: 2 });
    expect(world.upstash.commands.map((c) => c[0])).toEqual(["SET", "GET", "EVAL", "EVAL"]);
    const commands = async () => {
      world.upstash.resetCount();
      await tick(cfg);
      return world.upstash.commands.map((c) => c[0]);
    };
    // The scale to the pause's count: its intent is saved before the PATCH, one more EVAL.
    expect(await commands()).toEqual(["SET", "GET", "EVAL", "EVAL", "XADD", "EVAL"]);
    expect(await commands()).toEqual(["SET", "GET", "EVAL", "XADD", "EVAL"]);
  });
});

describe("manual override", () => {
  it("a count changed by hand is notified, held for manualOverrideMinutes, then decided again", async () => {
    const cfg = config({}, 3);
    expect((await tick(cfg)).web.notified).toEqual([]); // the first tick ever is no manual change
    await psScale(3);
    const found = await tick(cfg);
    const since = found.report.startedAt;
    const until = new Date(Date.parse(since) + 3 * 60_000).toISOString();
    expect(found.web).toMatchObject({
      status: "held",
      current: 3,
      decision: { action: "hold", target: 3 },
      manual: { from: 1, to: 3 },
      override: { since, until, count: 3 },
      notified: ["manual-scale"],
    });
    expect(found.web.decision!.reason).toMatch(
      /^manual override: holding the 3 set by hand until .* UTC; the policy would scale down to 2/,
    );
    expect(found.point).toMatchObject({ manual: { from: 1, to: 3 }, override: { until, count: 3 } });
    expect(world.memory.events[0]).toMatchObject({ kind: "manual-scale", from: 1, to: 3, until });

    const status = await readStatus(cfg, world.storeFor(cfg.keyPrefix), {
      range: "1h",
      now: world.clock.now(),
    });
    expect(status.processes[0]).toMatchObject({ paused: null, override: { since, until, count: 3 } });

    expect((await tick(cfg)).web).toMatchObject({ status: "held", notified: [] });
    expect((await tick(cfg)).web.status).toBe("held");
    const after = await tick(cfg);
    expect(after.web).toMatchObject({ status: "scaled", scaled: { from: 3, to: 2 } });
    expect(after.web.override).toBeUndefined();
    expect(kinds()).toEqual(["manual-scale", "scale"]);
  });

  it("the fail-safe still scales out during an override, which ends it", async () => {
    const cfg = config({ failSafe: { processes: 3 } });
    await tick(cfg);
    await psScale(2);
    expect((await tick(cfg)).web).toMatchObject({ status: "held", current: 2, override: { count: 2 } });
    world.targets.web!.set({ status: 503 });
    const fired = await tick(cfg);
    expect(fired.web).toMatchObject({
      status: "scaled",
      scaled: { from: 2, to: 3 },
      notified: ["scale", "fail-safe"],
    });
    expect(fired.web.decision!.reason).toMatch(/this ends the manual override/);
    expect(fired.web.override).toBeUndefined();
    expect(quantity()).toBe(3);
  });

  it("a count read after our own scale that got no answer is not taken for a manual one", async () => {
    const cfg = config({ postScaleWaitSeconds: 300 });
    // After validation: the PATCH answers after the deadline (the store's 1 s kept for the save).
    cfg.tickDeadlineMs = 2000;
    world.storeTimeoutMs = 1000;
    cfg.processes.web!.scaling.timeoutMs = 10_000;
    await tick(cfg);
    world.targets.web!.set({ status: 500 });
    world.heroku.setLatency(3000, "PATCH"); // applied at once, answered too late
    const cut = await tick(cfg);
    world.heroku.setLatency(0);
    expect(cut.web.status).toBe("timeout");
    expect(quantity()).toBe(2);
    const next = await tick(cfg);
    expect(next.web.manual).toBeUndefined();
    expect(next.web.override).toBeUndefined();
    expect(next.web.notified).toEqual(["scale"]); // found applied
  });

  it("a dry run detects the change but writes no state", async () => {
    const cfg = config();
    await tick(cfg);
    await psScale(2);
    const before = await world.storeFor(cfg.keyPrefix).load();
    const dry = await world.tick(cfg, { dryRun: true });
    expect(dry.processes[0]).toMatchObject({ manual: { from: 1, to: 2 }, override: { count: 2 } });
    expect(await world.storeFor(cfg.keyPrefix).load()).toBe(before);
    expect((await tick(cfg)).web.manual).toEqual({ from: 1, to: 2 });
  });

  it("status shows the pause in force", async () => {
    const cfg = config();
    await tick(cfg);
    await pause(cfg, { minutes: 30, processes: 2 });
    const status = await readStatus(cfg, world.storeFor(cfg.keyPrefix), {
      range: "1h",
      now: world.clock.now(),
    });
    const since = new Date(world.clock.now()).toISOString();
    const until = new Date(world.clock.now() + 30 * 60_000).toISOString();
    expect(status.processes[0]).toMatchObject({
      paused: { since, until, processes: 2, by: "cli" },
      override: null,
    });
    world.clock.advance(31 * 60_000);
    const later = await readStatus(cfg, world.storeFor(cfg.keyPrefix), {
      range: "1h",
      now: world.clock.now(),
    });
    expect(later.processes[0]!.paused).toBeNull(); // over, though no tick has seen it end yet
  });
});
