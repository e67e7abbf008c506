import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { saneReading } from "../../src/measure/sane.js";
import { APP, startWorld, ticks, type World } from "../helpers/world.js";

describe("readings are checked at the edge", () => {
  it("turns a value that is not finite, negative or past its unit's range into a failed reading that holds", () => {
    for (const value of [Infinity, -Infinity, NaN, -1, 86_400_001]) {
      const reading = saneReading({ backend: "service-time", value, unit: "ms", ok: true });
      expect(reading).toMatchObject({ ok: false, value: null, failureMeans: "unknown" });
      expect(reading.error).toMatch(/^reading out of range: /);
    }
    expect(
      saneReading({ backend: "app-json", value: 3, unit: "count", ok: true, desired: 2.5 }),
    ).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^desired count out of range: 2\.5/) as unknown,
    });
    for (const busy of [-1, 1.5, Number.NaN]) {
      expect(saneReading({ backend: "bullmq-queue", value: 3, unit: "jobs", ok: true, busy })).toMatchObject({
        ok: false,
        error: expect.stringMatching(/^jobs in progress out of range/) as unknown,
      });
    }
    const fine = { backend: "service-time", value: 12.5, unit: "ms", ok: true } as const;
    expect(saneReading(fine)).toBe(fine);
  });
});

describe("request metrics are checked at the edge too", () => {
  const reading = (metrics: Record<string, number | null>, extra = {}) =>
    saneReading({
      backend: "request-metrics",
      value: 50,
      unit: "percent",
      ok: true,
      metrics,
      processesSeen: 3,
      ...extra,
    });

  it("holds percent to 0-100 and rpm to 10 million a minute, in the value as in every figure", () => {
    const fine = { utilisation: 50, requestsPerProcess: 1200, queueTimeP95Ms: null };
    expect(reading(fine).ok).toBe(true);
    expect(reading(fine, { value: 100.5 })).toMatchObject({ ok: false, failureMeans: "unknown" });
    expect(reading({ ...fine, utilisation: 101 }).error).toBe(
      "utilisation out of range: 101 percent (expected 0 to 100)",
    );
    expect(reading({ ...fine, requestsPerProcess: 2e7 }).error).toMatch(
      /^requestsPerProcess out of range: .* rpm/,
    );
    expect(reading({ ...fine, queueTimeP95Ms: Number.NaN }).error).toMatch(
      /^queueTimeP95Ms out of range: nan ms/,
    );
    expect(reading({ ...fine, other: -1 }).error).toBe("other out of range: -1 (expected a number >= 0)");
    expect(reading(fine, { processesSeen: 1.5 }).error).toMatch(/^processes seen out of range/);
  });
});

describe("a Server-Timing dur of 400 digits, through real ticks", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld(["web"]);
  });
  afterAll(() => world.close());

  it("is a failed reading: the formation stays, instead of dropping 5 -> 1 past its stabilisation window", async () => {
    const config = parseConfig({
      keyPrefix: "sane-dur",
      timezone: "UTC",
      processes: {
        web: {
          measurement: { backend: "service-time", url: `${world.targets.web!.url}/heartbeat` },
          decision: {
            backend: "target-tracking",
            targetValue: 100,
            scaleDownStabilizationSeconds: 600,
            minProcesses: 1,
            maxProcesses: 10,
          },
          scaling: { backend: "heroku", app: APP, processType: "web" },
          notification: { backends: ["memory"] },
        },
      },
    });
    world.heroku.setQuantity(APP, "web", 5);
    world.targets.web!.set({ headers: { "Server-Timing": "app;dur=100" } });
    await ticks(world, config, 2);
    world.targets.web!.set({ headers: { "Server-Timing": `app;dur=${"9".repeat(400)}` } });
    const reports = await ticks(world, config, 3);
    for (const report of reports) {
      expect(report.processes[0]!.reading).toMatchObject({
        ok: false,
        error: expect.stringContaining("infinity") as unknown,
      });
      expect(report.processes[0]!.status).toBe("held");
    }
    expect(world.heroku.quantity(APP, "web")).toBe(5);
  });
});
