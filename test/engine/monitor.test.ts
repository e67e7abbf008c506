import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../src/local/webhook-receiver.js";
import { startWorld, type World } from "../helpers/world.js";

let world: World;
let monitor: WebhookReceiver;
beforeAll(async () => {
  world = await startWorld();
  monitor = await startWebhookReceiver();
});
afterAll(async () => {
  await monitor.close();
  await world.close();
});

const withMonitor = (config: Config, settings: Record<string, unknown>): Config =>
  parseConfig({ ...config, monitor: settings });

describe("the dead-man's switch", () => {
  it("pings the monitor once per tick, at /fail when the tick failed", async () => {
    const config = withMonitor(world.config(), { pingUrl: `${monitor.url}/ping/check-1234` });
    monitor.received.length = 0;
    expect((await world.tick(config)).warnings).toEqual([]);
    expect(monitor.received.map((r) => [r.method, r.path])).toEqual([["GET", "/ping/check-1234"]]);
    world.env.HEROKU_API_KEY = "wrong";
    try {
      await world.tick(config);
    } finally {
      world.env.HEROKU_API_KEY = world.apiKey;
    }
    expect(monitor.received.map((r) => r.path)).toEqual(["/ping/check-1234", "/ping/check-1234/fail"]);
  });

  it("never pings for a dry run, and a slow monitor costs only its timeout, as a warning without the URL", async () => {
    const config = withMonitor(world.config(), { pingUrlEnv: "PING_URL", timeoutMs: 200 });
    world.env.PING_URL = `${monitor.url}/ping/secret-check-uuid`;
    monitor.received.length = 0;
    try {
      await world.tick(config, { dryRun: true });
      expect(monitor.received).toHaveLength(0);
      monitor.setLatency(1000);
      const started = performance.now();
      const report = await world.tick(config);
      expect(performance.now() - started).toBeLessThan(900);
      expect(report.warnings).toEqual([expect.stringMatching(/^monitor ping failed: /)]);
      expect(JSON.stringify(report)).not.toContain("secret-check-uuid");
    } finally {
      monitor.setLatency(0);
      delete world.env.PING_URL;
    }
  });

  it("refuses both or neither of pingUrl and pingUrlEnv", () => {
    expect(() => withMonitor(world.config(), {})).toThrow(
      /monitor.pingUrl: set exactly one of pingUrl and pingUrlEnv/,
    );
  });
});
