import fc from "fast-check";
import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { boundsAt, decide } from "../../src/decide/index.js";
import type { Reading } from "../../src/measure/index.js";

/**
 * For any reading (finite, infinite, NaN, missing, failed either way), any stored state (readings
 * and scales at any time, in the future too), any count the platform reports and any moment of
 * the year, every backend's target is a whole number within the bounds in force at that moment.
 */
const ZONE = "Europe/Berlin";
const YEAR = DateTime.fromISO("2026-01-01T00:00:00", { zone: ZONE }).toMillis();

const value = fc.oneof(
  fc.double({ noNaN: false }),
  fc.constantFrom(Infinity, -Infinity, NaN, 0, -0, 1e308),
  fc.integer({ min: 0, max: 100_000 }),
  fc.constant(null),
);
const reading: fc.Arbitrary<Reading> = fc.record({
  backend: fc.constant("property"),
  value,
  unit: fc.constantFrom("ms" as const, "jobs" as const),
  ok: fc.boolean(),
  failureMeans: fc.constantFrom("overload" as const, "unknown" as const, undefined),
  metrics: fc.option(fc.dictionary(fc.constantFrom("utilisation", "queueTimeP95Ms", "other"), value), {
    nil: undefined,
  }),
});
const time = fc.integer({ min: YEAR - 86_400_000 * 30, max: YEAR + 86_400_000 * 400 });
const state = fc.record({
  history: fc.array(
    fc.record({
      at: time,
      value: fc.oneof(fc.double(), fc.constant(null)),
      verdict: fc.constantFrom("fail" as const, "pass" as const, "ok" as const, undefined),
      recommendation: fc.option(fc.integer({ min: -5, max: 500 }), { nil: undefined }),
    }),
    { maxLength: 12 },
  ),
  lastScaleAt: fc.option(time, { nil: null }),
  scales: fc.array(fc.record({ at: time, from: fc.nat(200), to: fc.nat(200) }), { maxLength: 8 }),
  recommendations: fc.option(fc.array(fc.tuple(time, fc.integer({ min: -5, max: 500 })), { maxLength: 12 }), {
    nil: undefined,
  }),
});

const common = {
  minProcesses: { "0:00": 1, "8:00": 3, "20:00": 2 },
  maxProcesses: 12,
  failSafe: { maxMs: 5000 },
};
const decisions = [
  {
    backend: "consecutive-threshold",
    minMeasurement: 100,
    maxMeasurement: 300,
    failsToScaleUp: 2,
    ...common,
  },
  {
    backend: "average-threshold",
    minMeasurement: 5,
    maxMeasurement: 50,
    numberOfMeasurementsToAverage: 3,
    ...common,
  },
  { backend: "target-tracking", targetValue: 200, maxScaleDownStep: 2, ...common },
  { backend: "target-tracking", targetValue: 20, valueIs: "total", ...common },
  {
    backend: "target-tracking",
    targets: { utilisation: 60, queueTimeP95Ms: 200 },
    behavior: {
      scaleUp: {
        stabilizationWindowSeconds: 120,
        selectPolicy: "Min",
        policies: [
          { type: "Percent", value: 50, periodSeconds: 60 },
          { type: "Pods", value: 3, periodSeconds: 300 },
        ],
      },
      scaleDown: { policies: [{ type: "Percent", value: 10, periodSeconds: 120 }] },
    },
    ...common,
  },
  {
    backend: "target-tracking",
    targetValue: 50,
    behavior: { scaleDown: { selectPolicy: "Disabled" } },
    ...common,
  },
];
const configs = decisions.map(
  (decision) =>
    parseConfig({
      timezone: ZONE,
      processes: {
        web: {
          measurement: { backend: "response-time", url: "https://app.invalid/heartbeat" },
          decision,
          scaling: { backend: "heroku", app: "property-app" },
        },
      },
    }).processes.web!.decision,
);

describe("every decision, for any input", () => {
  it("is a whole number of processes within the bounds in force", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...configs),
        reading,
        state,
        fc.integer({ min: 0, max: 1000 }),
        time,
        (config, reading, state, current, at) => {
          const now = DateTime.fromMillis(at, { zone: ZONE });
          const decision = decide({ config, state, reading, current, now });
          const { min, max } = boundsAt(config, now);
          expect(Number.isInteger(decision.target)).toBe(true);
          expect(decision.target).toBeGreaterThanOrEqual(min);
          expect(decision.target).toBeLessThanOrEqual(max);
          expect(decision.bounds).toEqual({ min, max });
        },
      ),
      { numRuns: 3000, seed: 20261201 },
    );
  });
});
