import { describe, expect, it } from "vitest";
import { decide, decisionSchema, emptyDecisionState, recordScale } from "../../src/decide/index.js";
import type { Reading } from "../../src/measure/index.js";
import { failed, MINUTE_MS, T0, unreachable } from "../helpers/decide.js";

/**
 * The engine hands a decision its whole stored record and keeps the state the decision returns
 * (src/engine/process-step.ts): every backend must give back what it does not own, on every path.
 */
const ms = (value: number): Reading => ({ backend: "response-time", value, unit: "ms", ok: true });
const readings: Reading[] = [
  ...[900, 950, 990, 1000].map(ms),
  failed(),
  unreachable,
  ...[20, 30, 25, 10, 15, 20, 30, 40].map(ms),
  { backend: "app-json", value: 4, unit: "count", ok: true, desired: 4 },
];

describe.each([
  { backend: "consecutive-threshold", minMeasurement: 100, maxMeasurement: 300, failsToScaleUp: 2 },
  { backend: "average-threshold", minMeasurement: 100, maxMeasurement: 300 },
  { backend: "target-tracking", targetValue: 200 },
])("the $backend backend", (settings) => {
  it("returns the record it was given, with only its own fields changed", () => {
    const config = decisionSchema.parse({
      ...settings,
      minProcesses: { "0:00": 1, "12:05": 2 },
      maxProcesses: 5,
      postScaleWaitSeconds: 60,
      failSafe: { maxMs: 5000 },
    });
    let state = {
      ...emptyDecisionState(),
      lastMeasuredAt: 1,
      notices: { "above-max": { since: 1, lastSentAt: 1 } },
    };
    let current = 1;
    for (const [i, reading] of readings.entries()) {
      const now = T0.plus({ milliseconds: i * MINUTE_MS });
      const decision = decide({ config, state, reading, current, now });
      expect(decision.state).toMatchObject({
        lastMeasuredAt: 1,
        notices: { "above-max": { since: 1, lastSentAt: 1 } },
      });
      state = decision.state;
      if (decision.action !== "hold") {
        state = recordScale(state, { at: now.toMillis(), from: current, to: decision.target });
        current = decision.target;
      }
    }
  });
});
