import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadConfigFile, parseConfig, type ConfigError } from "../../src/config/load.js";
import { settingsOf } from "../../src/simulate/compare.js";

const base = {
  processes: {
    web: {
      measurement: { backend: "response-time", url: "https://example.com/heartbeat" },
      scaling: { backend: "heroku", app: "sim-app" },
    },
  },
};

describe("the simulation settings of a config (checked by the simulator)", () => {
  it("are optional, and take their defaults when present", () => {
    expect(parseConfig(base).simulation).toBeUndefined();
    expect(settingsOf(parseConfig({ ...base, simulation: {} }))).toEqual({
      capacityPerProcess: 1200,
      serviceTimeMs: 100,
      routing: "random",
      queueing: "mmc",
      routerTimeoutSeconds: 30,
      bootSeconds: 60,
      rateMultiplier: 1,
      pricePerProcessHour: 0.035,
      sloMs: 500,
      sloMetric: "p95",
      noise: { seed: 1, stddevMs: 0 },
    });
  });

  it("report every problem by path", () => {
    const bad = {
      ...base,
      simulation: { capacityPerProcess: 0, sloMetric: "p99", noise: { seed: -1 }, schedule: [], speed: 2 },
    };
    let problems: string[] = [];
    try {
      settingsOf(parseConfig(bad));
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual(
      expect.arrayContaining([
        "simulation.capacityPerProcess: expected requests per minute > 0",
        expect.stringMatching(/^simulation\.sloMetric: /),
        "simulation.noise.seed: expected integer from 0 to 4294967295",
        "simulation.schedule: expected at least one schedule entry",
        "simulation.speed: unknown setting",
      ]),
    );
  });

  it("take five-field crons in the schedule baseline, as decision.schedule", () => {
    const config = parseConfig({ ...base, simulation: { schedule: [{ cron: "@daily", processes: 2 }] } });
    expect(() => settingsOf(config)).toThrow(
      'simulation.schedule.0.cron: invalid cron expression: expected five fields (minute hour day-of-month month day-of-week), not a macro: write "0 0 * * *" for @daily',
    );
  });

  it("require an SLO above the service time", () => {
    for (const sloMs of [90, 100]) {
      let problems: string[] = [];
      try {
        settingsOf(parseConfig({ ...base, simulation: { sloMs, serviceTimeMs: 100 } }));
      } catch (error) {
        problems = (error as ConfigError).problems;
      }
      expect(problems).toEqual([
        "simulation.sloMs: expected ms > serviceTimeMs (no request is answered faster than its service time)",
      ]);
    }
    expect(settingsOf(parseConfig({ ...base, simulation: { sloMs: 101, serviceTimeMs: 100 } })).sloMs).toBe(
      101,
    );
  });

  it.each(["threshold.json", "queue-time.json"])("the example %s is valid", async (name) => {
    const config = await loadConfigFile(
      fileURLToPath(new URL(`../../src/simulate/examples/${name}`, import.meta.url)),
    );
    expect(settingsOf(config)).toMatchObject({ rateMultiplier: 100, noise: { seed: 1, stddevMs: 20 } });
  });
});
