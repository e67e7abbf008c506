import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readStatus } from "../../src/engine/status.js";
import { FileStateStore } from "../../src/state/index.js";
import { APP, startWorld, ticks, type World } from "../helpers/world.js";

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());

describe("tick history", () => {
  it("appends one entry per tick for all processes, trimmed to retentionDays of ticks", async () => {
    const config = world.config({ decision: { failsToScaleUp: 1 } });
    world.targets.web!.set({ latencyMs: 400 });
    try {
      world.upstash.resetCount();
      await ticks(world, config, 2);
    } finally {
      world.targets.web!.set({ latencyMs: 0 });
    }
    const xadds = world.upstash.commands.filter((c) => c[0] === "XADD");
    expect(xadds).toHaveLength(2);
    // One stream, trimmed by approximate length: 7 days of minutes.
    expect(xadds[0]!.slice(1, 5)).toEqual([`${config.keyPrefix}:history`, "MAXLEN", "~", String(7 * 1440)]);
    const entry = JSON.parse(xadds[0]!.at(-1)!) as { at: string; processes: Array<Record<string, unknown>> };
    expect(entry.at).toBe(new Date(world.clock.now() - 2 * 60_000).toISOString());
    expect(entry.processes).toEqual([
      expect.objectContaining({
        process: "web",
        status: "scaled",
        unit: "ms",
        current: 1,
        min: 1,
        max: 3,
        action: "up",
        target: 2,
        scaled: { from: 1, to: 2 },
        notified: ["scale"],
      }),
    ]);
    expect(world.heroku.quantity(APP, "web")).toBe(3);
    world.heroku.setQuantity(APP, "web", 1);
  });

  it("status reads the history back: series, scales with reasons, readings, the count in force", async () => {
    const config = world.config({ decision: { failsToScaleUp: 2 } });
    world.targets.web!.set({ latencyMs: 400 });
    try {
      await ticks(world, config, 3);
    } finally {
      world.targets.web!.set({ latencyMs: 0 });
    }
    world.upstash.resetCount();
    const status = await readStatus(config, world.store, { range: "1h", now: world.clock.now() });
    expect(world.upstash.commandCount()).toBe(2);
    const web = status.processes[0]!;
    expect(web).toMatchObject({ process: "web", current: 2, bounds: { min: 1, max: 3 } });
    expect(web.series).toHaveLength(3);
    expect(web.series.map((p) => p.current)).toEqual([1, 2, 2]);
    expect(web.scales).toEqual([
      {
        at: expect.any(String) as unknown,
        from: 1,
        to: 2,
        reason: expect.stringContaining("2 fails in a row") as unknown,
      },
    ]);
    expect(web.readings).toHaveLength(3);
    expect(web.readings[0]!.value).toBeGreaterThanOrEqual(400);
    world.heroku.setQuantity(APP, "web", 1);
  });

  it("a failing history write is a warning: the tick and its state stand", async () => {
    const config = world.config();
    const redis = new Redis({ url: world.upstash.url, token: world.upstash.token, enableTelemetry: false });
    await redis.set(`${config.keyPrefix}:history`, "not a stream");
    const report = await world.tick(config);
    expect(report.error).toBeUndefined();
    expect(report.warnings).toEqual([
      expect.stringMatching(/^history write failed: Upstash Redis error during appendHistory: WRONGTYPE/),
    ]);
    expect(await world.store.load()).not.toBeNull();
  });

  it("the file store keeps a capped file of the newest entries", async () => {
    const dir = await mkdtemp(join(tmpdir(), "autoscalebot-history-"));
    try {
      const store = new FileStateStore({ dir, keyPrefix: "h" });
      for (let i = 0; i < 25; i++) await store.appendHistory(JSON.stringify({ i }), 10);
      const lines = (await readFile(join(dir, "h.history.jsonl"), "utf8")).trim().split("\n");
      expect(lines.length).toBeGreaterThanOrEqual(10);
      expect(lines.length).toBeLessThanOrEqual(12);
      expect(JSON.parse(lines.at(-1)!)).toEqual({ i: 24 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
