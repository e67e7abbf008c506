import { describe, expect, it } from "vitest";
import {
  averageThresholdSchema,
  decideAverageThreshold,
  meanOf,
  recordedValue,
  verdictOfMean,
  type AverageThresholdConfig,
} from "../../src/decide/average-threshold.js";
import { recordScale, type Verdict } from "../../src/decide/decision-state.js";
import type { Reading } from "../../src/measure/types.js";
import {
  actions,
  afterScale,
  failed,
  followDecisions,
  last,
  repeat,
  T0,
  ticks,
  unreachable,
} from "../helpers/decide.js";

function config(overrides: Record<string, unknown> = {}): AverageThresholdConfig {
  return averageThresholdSchema.parse({ backend: "average-threshold", ...overrides });
}

/** A queue size (the seed's use of this backend). */
const jobs = (value: number): Reading => ({ backend: "queue", value, unit: "jobs", ok: true });
const HIGH = jobs(50);
const LOW = jobs(1);
const MID = jobs(10);

const { once, run } = ticks(decideAverageThreshold, { current: 2, intervalSeconds: 60 });

/** A scaling config where one reading decides, so a case needs no warm-up. */
const single = (overrides: Record<string, unknown> = {}) =>
  config({ numberOfMeasurementsToAverage: 1, minMeasurement: 5, ...overrides });

describe("averageThresholdSchema", () => {
  it("fills in the seed's defaults: 3 readings, 0-20, min 1, max 3, increment 1, wait 5 s, history 10", () => {
    expect(config()).toEqual({
      backend: "average-threshold",
      numberOfMeasurementsToAverage: 3,
      minMeasurement: 0,
      maxMeasurement: 20,
      minProcesses: 1,
      maxProcesses: 3,
      increment: 1,
      postScaleWaitSeconds: 5,
      historyLength: 10,
      idleMinutesBeforeZero: 10,
      allowZero: false,
    });
  });

  it("keeps given values", () => {
    expect(
      config({ numberOfMeasurementsToAverage: 5, minMeasurement: 2, maxMeasurement: 8, historyLength: 5 }),
    ).toMatchObject({
      numberOfMeasurementsToAverage: 5,
      minMeasurement: 2,
      maxMeasurement: 8,
      historyLength: 5,
    });
  });

  it.each<[Record<string, unknown>]>([
    [{ historyLength: 3 }],
    [{ numberOfMeasurementsToAverage: 10 }],
    [{ numberOfMeasurementsToAverage: 1, historyLength: 1 }],
    [{ minMeasurement: 19.99 }],
    [{ maxMeasurement: 0.5 }],
    [{ scaleUpCooldownSeconds: 0, scaleDownCooldownSeconds: 600 }],
    [{ failSafe: {}, schedule: [{ cron: "0 7 * * *", processes: 2 }] }],
  ])("accepts %j", (overrides) => {
    expect(averageThresholdSchema.safeParse({ backend: "average-threshold", ...overrides }).success).toBe(
      true,
    );
  });

  it.each<[Record<string, unknown>, string]>([
    [{ numberOfMeasurementsToAverage: 0 }, "numberOfMeasurementsToAverage"],
    [{ numberOfMeasurementsToAverage: 2.5 }, "numberOfMeasurementsToAverage"],
    [{ numberOfMeasurementsToAverage: "3" }, "numberOfMeasurementsToAverage"],
    [{ minMeasurement: -1 }, "minMeasurement"],
    [{ maxMeasurement: -1 }, "maxMeasurement"],
    [{ minMeasurement: 20 }, "minMeasurement"],
    [{ minMeasurement: 30, maxMeasurement: 10 }, "minMeasurement"],
    [{ historyLength: 2 }, "historyLength"],
    [{ numberOfMeasurementsToAverage: 11 }, "historyLength"],
    [{ numberOfMeasurementsToAverage: 6, historyLength: 5 }, "historyLength"],
    [{ historyLength: 0 }, "historyLength"],
    [{ increment: 0 }, "increment"],
    [{ postScaleWaitSeconds: -1 }, "postScaleWaitSeconds"],
    [{ scaleUpCooldownSeconds: -1 }, "scaleUpCooldownSeconds"],
    [{ scaleDownCooldownSeconds: -1 }, "scaleDownCooldownSeconds"],
    [{ minProcesses: 4 }, "minProcesses"],
    [{ maxProcesses: 0 }, "maxProcesses"],
    [{ backend: "consecutive-threshold" }, "backend"],
  ])("rejects %j at %s", (overrides, path) => {
    const result = averageThresholdSchema.safeParse({ backend: "average-threshold", ...overrides });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join("."))).toContain(path);
  });

  it("says why historyLength is too short", () => {
    const result = averageThresholdSchema.safeParse({ backend: "average-threshold", historyLength: 2 });
    expect(result.error?.issues.find((issue) => issue.path[0] === "historyLength")?.message).toBe(
      "expected historyLength >= 3 (numberOfMeasurementsToAverage looks back that far)",
    );
  });

  it("rejects unknown keys (a typo'd setting is not silently ignored)", () => {
    const result = averageThresholdSchema.safeParse({ backend: "average-threshold", maxMeasurment: 5 });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.code).toBe("unrecognized_keys");
  });
});

describe("meanOf, recordedValue and verdictOfMean", () => {
  it.each<[(number | null)[], number]>([
    [[10], 10],
    [[10, 20, 30], 20],
    [[0, 0, 1], 1 / 3],
    [[null], Infinity],
    [[0, 0, null], Infinity],
  ])("the mean of %j is %d (null counts as +Infinity)", (values, mean) => {
    expect(meanOf(values.map((value) => ({ value })))).toBe(mean);
  });

  it.each<[string, Reading, number | null]>([
    ["an ok reading keeps its value", jobs(7), 7],
    ["an ok reading of 0 keeps it", jobs(0), 0],
    [
      "an ok reading without a value is null",
      { backend: "queue", value: null, unit: "jobs", ok: true },
      null,
    ],
    ["a failed reading is null", failed(null), null],
    ["a timed-out reading drops its elapsed time", failed(5000), null],
    ["a fast failed reading is null too", failed(3), null],
  ])("recordedValue: %s", (_label, reading, value) => {
    expect(recordedValue(reading)).toBe(value);
  });

  it.each<[number, Verdict]>([
    [20, "ok"],
    [20.001, "fail"],
    [Infinity, "fail"],
    [5, "ok"],
    [4.999, "pass"],
    [0, "pass"],
    [12, "ok"],
  ])("verdictOfMean(%d) with 5-20 is %s", (mean, verdict) => {
    expect(verdictOfMean(mean, { minMeasurement: 5, maxMeasurement: 20 })).toBe(verdict);
  });
});

describe("decideAverageThreshold: waiting for N readings", () => {
  it.each([1, 2, 3, 5, 10])(
    "numberOfMeasurementsToAverage %d: holds for N-1 readings, acts on the Nth",
    (n) => {
      const decisions = run(config({ numberOfMeasurementsToAverage: n }), repeat(HIGH, n));
      expect(actions(decisions)).toEqual([...repeat("hold", n - 1), "up"]);
      expect(decisions.slice(0, -1).map((d) => d.reason)).toEqual(
        Array.from({ length: n - 1 }, (_, i) => `${i + 1} of ${n} readings to average`),
      );
      expect(last(decisions)).toMatchObject({ action: "up", target: 3, conditions: [] });
    },
  );

  it("waits for N readings before scaling down too", () => {
    const decisions = run(config({ minMeasurement: 5 }), repeat(LOW, 3));
    expect(actions(decisions)).toEqual(["hold", "hold", "down"]);
    expect(last(decisions).target).toBe(1);
  });

  it("does not act on a very high first reading alone", () => {
    expect(once(config(), jobs(1_000_000))).toMatchObject({ action: "hold", target: 2, conditions: [] });
  });

  it("counts a failed reading among the first N but still waits for N", () => {
    expect(actions(run(config(), [failed(), failed(), failed()]))).toEqual(["hold", "hold", "up"]);
  });
});

describe("decideAverageThreshold: the mean against the thresholds", () => {
  it.each<[string, number[], Record<string, unknown>, string]>([
    ["mean exactly at maxMeasurement holds", [10, 20, 30], {}, "hold"],
    ["mean just above maxMeasurement scales up", [10, 20, 30.03], {}, "up"],
    ["mean above max although one reading is low", [0, 0, 61], {}, "up"],
    ["mean within although one reading is far above max", [0, 0, 60], {}, "hold"],
    ["mean exactly at minMeasurement holds", [4, 5, 6], { minMeasurement: 5 }, "hold"],
    ["mean just below minMeasurement scales down", [4, 5, 5.97], { minMeasurement: 5 }, "down"],
    ["mean below min although one reading is high", [0, 0, 14], { minMeasurement: 5 }, "down"],
    ["the seed's defaults never scale down: a mean of 0 is not below 0", [0, 0, 0], {}, "hold"],
    ["custom thresholds: above", [9, 9, 9], { minMeasurement: 2, maxMeasurement: 8 }, "up"],
    ["custom thresholds: at max", [8, 8, 8], { minMeasurement: 2, maxMeasurement: 8 }, "hold"],
    ["custom thresholds: below", [1, 1, 1], { minMeasurement: 2, maxMeasurement: 8 }, "down"],
    ["custom thresholds: at min", [2, 2, 2], { minMeasurement: 2, maxMeasurement: 8 }, "hold"],
  ])("%s (%j)", (_label, values, overrides, action) => {
    expect(last(run(config(overrides), values.map(jobs))).action).toBe(action);
  });

  it("averages only the last N readings: a window that slides", () => {
    const cfg = config({ minMeasurement: 5 });
    // means: -, -, (100+1+1)/3 = 34 > 20, (1+1+1)/3 = 1 < 5, then 1 again
    const decisions = run(cfg, [jobs(100), LOW, LOW, LOW, LOW]);
    expect(actions(decisions)).toEqual(["hold", "hold", "up", "down", "down"]);
  });

  it("keeps scaling up while the mean stays high (no scale applied: as after a failed scale)", () => {
    expect(actions(run(config(), repeat(HIGH, 5)))).toEqual(["hold", "hold", "up", "up", "up"]);
  });

  it.each<[string, number[], Record<string, unknown>, string]>([
    ["up", [30, 30, 30.5], {}, "the mean of the last 3 readings (30.17) is above 20"],
    ["down", [1, 2, 2], { minMeasurement: 5 }, "the mean of the last 3 readings (1.67) is below 5"],
    ["hold", [10, 10, 11], { minMeasurement: 5 }, "the mean of the last 3 readings (10.33) is within 5-20"],
  ])("explains a %s", (_label, values, overrides, reason) => {
    expect(last(run(config(overrides), values.map(jobs))).reason).toBe(reason);
  });
});

describe("decideAverageThreshold: failed readings", () => {
  it("counts a failed reading (value null) as overload: one among N scales up", () => {
    const d = last(run(config(), [jobs(0), jobs(0), failed()]));
    expect(d).toMatchObject({ action: "up", target: 3 });
    expect(d.reason).toBe("the mean of the last 3 readings is above 20: 1 failed, counted as overload");
  });

  it("counts a timed-out reading as overload whatever its elapsed time, and records null", () => {
    const decisions = run(config(), [jobs(0), jobs(0), failed(3)]);
    expect(last(decisions).action).toBe("up");
    expect(last(decisions).state.history.map((e) => e.value)).toEqual([0, 0, null]);
  });

  it("counts an ok reading without a value as overload", () => {
    const noValue: Reading = { backend: "queue", value: null, unit: "jobs", ok: true };
    expect(last(run(config(), [LOW, LOW, noValue])).action).toBe("up");
  });

  it("counts how many failed", () => {
    expect(last(run(config(), [failed(), LOW, failed()])).reason).toContain("2 failed, counted as overload");
  });

  it("stops counting a failed reading once it leaves the last N", () => {
    const decisions = run(config({ minMeasurement: 5 }), [failed(), LOW, LOW, LOW]);
    expect(actions(decisions)).toEqual(["hold", "hold", "up", "down"]);
  });

  it("holds on a failure that means unknown, without recording it (the prelude)", () => {
    const state = last(run(config(), [HIGH, HIGH])).state;
    const d = once(config(), unreachable, { state, now: T0.plus({ minutes: 2 }) });
    expect(d).toMatchObject({ action: "hold", target: 2, conditions: [] });
    expect(d.reason).toBe("holding: the measurement failed (broker unreachable)");
    expect(d.state).toEqual(state);
  });

  it("an unknown failure neither breaks nor adds to the N readings", () => {
    const decisions = run(config(), [HIGH, unreachable, HIGH, unreachable, HIGH]);
    expect(actions(decisions)).toEqual(["hold", "hold", "hold", "hold", "up"]);
    expect(last(decisions).state.history).toHaveLength(3);
  });
});

describe("decideAverageThreshold: increment and the bounds", () => {
  it.each<[string, Record<string, unknown>, number, Reading, string, number]>([
    ["up by the increment", { maxProcesses: 10, increment: 3 }, 4, HIGH, "up", 7],
    ["up clamped at max", { maxProcesses: 3, increment: 5 }, 2, HIGH, "up", 3],
    ["up exactly to max", { maxProcesses: 5, increment: 2 }, 3, HIGH, "up", 5],
    ["down by the increment", { maxProcesses: 10, increment: 3 }, 8, LOW, "down", 5],
    ["down clamped at min", { minProcesses: 1, increment: 5 }, 3, LOW, "down", 1],
    ["down exactly to min", { minProcesses: 2, maxProcesses: 6, increment: 2 }, 4, LOW, "down", 2],
    ["down to 0 when min is 0", { minProcesses: 0 }, 1, LOW, "down", 0],
    ["up from 0", { minProcesses: 0 }, 0, HIGH, "up", 1],
  ])("%s", (_label, overrides, current, reading, action, target) => {
    expect(once(single(overrides), reading, { current })).toMatchObject({ action, target, conditions: [] });
  });

  it('holds at max with a high mean, reporting "above-max", and still records the reading', () => {
    const decisions = run(config(), repeat(HIGH, 4), { current: 3 });
    expect(actions(decisions)).toEqual(repeat("hold", 4));
    expect(decisions.map((d) => d.conditions)).toEqual([[], [], ["above-max"], ["above-max"]]);
    expect(last(decisions).reason).toBe(
      "the mean of the last 3 readings (50) is above 20, but already at the maximum of 3",
    );
    expect(last(decisions).state.history).toHaveLength(4);
  });

  it('holds at min with a low mean, reporting "below-min"', () => {
    const decisions = run(config({ minMeasurement: 5 }), repeat(LOW, 3), { current: 1 });
    expect(decisions.map((d) => d.conditions)).toEqual([[], [], ["below-min"]]);
    expect(last(decisions)).toMatchObject({ action: "hold", target: 1 });
    expect(last(decisions).reason).toContain("already at the minimum of 1");
  });

  it('holds at max with failed readings, reporting "above-max"', () => {
    expect(once(single(), failed(), { current: 3 })).toMatchObject({
      action: "hold",
      conditions: ["above-max"],
    });
  });

  it("reports the bounds in force", () => {
    expect(once(single({ minProcesses: 2, maxProcesses: 7 }), MID, { current: 4 }).bounds).toEqual({
      min: 2,
      max: 7,
    });
  });
});

describe("decideAverageThreshold: cool-downs", () => {
  const scaled = afterScale(1, 2);

  it("holds without recording while both directions cool down", () => {
    const cfg = single({ postScaleWaitSeconds: 60 });
    const d = once(cfg, HIGH, { state: scaled, now: T0.plus({ seconds: 30 }) });
    expect(d).toMatchObject({ action: "hold", target: 2, conditions: [] });
    expect(d.reason).toBe("cooling down for 30 s after the last scale");
    expect(d.state).toEqual(scaled);
  });

  it("acts at exactly postScaleWaitSeconds after the scale", () => {
    const d = once(single({ postScaleWaitSeconds: 60 }), HIGH, {
      state: scaled,
      now: T0.plus({ seconds: 60 }),
    });
    expect(d.action).toBe("up");
  });

  it("uses the seed's default 5 s wait", () => {
    expect(once(single(), HIGH, { state: scaled, now: T0.plus({ milliseconds: 4999 }) }).action).toBe("hold");
    expect(once(single(), HIGH, { state: scaled, now: T0.plus({ seconds: 5 }) }).action).toBe("up");
  });

  describe("a long scale-up cool-down and a short scale-down one", () => {
    const cfg = single({ scaleUpCooldownSeconds: 600, scaleDownCooldownSeconds: 60 });

    it.each<[number, Reading, string, string]>([
      [30, HIGH, "hold", "cooling down for 30 s after the last scale"],
      [30, LOW, "hold", "cooling down for 30 s after the last scale"],
      [120, HIGH, "hold", "cooling down for 480 s before scaling up"],
      [120, LOW, "down", "the mean of the last 1 reading (1) is below 5"],
      [599, HIGH, "hold", "cooling down for 1 s before scaling up"],
      [600, HIGH, "up", "the mean of the last 1 reading (50) is above 20"],
    ])("%d s after the scale, a reading of %j: %s", (seconds, reading, action, reason) => {
      const d = once(cfg, reading, { state: scaled, now: T0.plus({ seconds }) });
      expect(d).toMatchObject({ action, reason });
    });

    it("records the readings once the scale-down cool-down is over, even while scaling up waits", () => {
      const d = once(cfg, HIGH, { state: scaled, now: T0.plus({ seconds: 120 }) });
      expect(d.state.history).toEqual([
        { at: T0.plus({ seconds: 120 }).toMillis(), value: 50, verdict: "fail" },
      ]);
    });
  });

  describe("a short scale-up cool-down and a long scale-down one", () => {
    const cfg = single({ scaleUpCooldownSeconds: 30, scaleDownCooldownSeconds: 900 });

    it.each<[number, Reading, string, string]>([
      [10, HIGH, "hold", "cooling down for 20 s after the last scale"],
      [30, HIGH, "up", "the mean of the last 1 reading (50) is above 20"],
      [30, LOW, "hold", "cooling down for 870 s before scaling down"],
      [900, LOW, "down", "the mean of the last 1 reading (1) is below 5"],
    ])("%d s after the scale, a reading of %j: %s", (seconds, reading, action, reason) => {
      expect(once(cfg, reading, { state: scaled, now: T0.plus({ seconds }) })).toMatchObject({
        action,
        reason,
      });
    });
  });

  it("has no cool-down before the first scale", () => {
    expect(once(single({ postScaleWaitSeconds: 600 }), HIGH).action).toBe("up");
  });
});

describe("decideAverageThreshold: history", () => {
  it("records each reading's time and value, and the mean's verdict once N are in", () => {
    const cfg = config({ minMeasurement: 5 });
    const history = last(run(cfg, [jobs(10), jobs(20), jobs(30), LOW, LOW, LOW, failed()])).state.history;
    const at = (i: number) => T0.plus({ minutes: i }).toMillis();
    expect(history).toEqual([
      { at: at(0), value: 10 },
      { at: at(1), value: 20 },
      { at: at(2), value: 30, verdict: "ok" },
      { at: at(3), value: 1, verdict: "ok" },
      { at: at(4), value: 1, verdict: "ok" },
      { at: at(5), value: 1, verdict: "pass" },
      { at: at(6), value: null, verdict: "fail" },
    ]);
  });

  it.each([3, 5, 10, 17])("is bounded by historyLength %d, keeping the newest", (historyLength) => {
    const readings = Array.from({ length: 25 }, (_, i) => jobs(i % 7));
    const history = last(run(config({ historyLength }), readings)).state.history;
    expect(history).toHaveLength(historyLength);
    expect(history.map((e) => e.value)).toEqual(readings.slice(-historyLength).map((r) => r.value));
  });

  it("trims a longer stored history to historyLength, averaging the newest N", () => {
    const long = last(run(config({ historyLength: 20 }), [...repeat(HIGH, 17), MID, MID])).state;
    const d = once(config({ historyLength: 5 }), MID, { state: long, now: T0.plus({ hours: 1 }) });
    expect(d.state.history).toHaveLength(5);
    expect(d.action).toBe("hold");
  });

  it("does not mutate the state it is given", () => {
    const state = last(run(config(), [HIGH, HIGH])).state;
    const copy = structuredClone(state);
    once(config(), HIGH, { state, now: T0.plus({ minutes: 2 }) });
    expect(state).toEqual(copy);
  });

  it("keeps lastScaleAt and the scale records", () => {
    const state = afterScale(1, 2);
    const d = once(config(), MID, { state, now: T0.plus({ minutes: 5 }) });
    expect(d.state.lastScaleAt).toBe(T0.toMillis());
    expect(d.state.scales).toEqual([{ at: T0.toMillis(), from: 1, to: 2 }]);
  });

  it("starts afresh after recordScale: N new readings are needed before acting again", () => {
    const cfg = config({ maxProcesses: 5 });
    const first = last(run(cfg, repeat(HIGH, 3), { current: 1 }));
    expect(first).toMatchObject({ action: "up", target: 2 });
    const scaled = recordScale(first.state, { at: T0.plus({ minutes: 2 }).toMillis(), from: 1, to: 2 });
    expect(scaled.history).toEqual([]);
    const next = run(cfg, repeat(HIGH, 3), { current: 2, state: scaled, start: T0.plus({ minutes: 3 }) });
    expect(actions(next)).toEqual(["hold", "hold", "up"]);
    expect(next[0]?.reason).toBe("1 of 3 readings to average");
    expect(last(next).target).toBe(3);
  });

  it("without recordScale (a failed scale) the same decision is taken next tick", () => {
    const first = last(run(config(), repeat(HIGH, 3)));
    const retry = once(config(), HIGH, { state: first.state, now: T0.plus({ minutes: 3 }) });
    expect(retry).toMatchObject({ action: "up", target: 3 });
  });
});

describe("decideAverageThreshold: the prelude still applies", () => {
  it("fail-safe: a failed heartbeat scales straight to max, before any N readings", () => {
    const d = once(config({ failSafe: {}, maxProcesses: 6 }), failed(), { current: 2 });
    expect(d).toMatchObject({ action: "up", target: 6, conditions: ["fail-safe"] });
    expect(d.reason).toBe("fail-safe: the app is down (heartbeat answered HTTP 503)");
  });

  it("fail-safe: a heartbeat slower than maxMs scales to the fail-safe's count", () => {
    const slow: Reading = { backend: "response-time", value: 9000, unit: "ms", ok: true };
    const d = once(config({ failSafe: { processes: 4 }, maxProcesses: 6 }), slow, { current: 2 });
    expect(d).toMatchObject({ action: "up", target: 4, conditions: ["fail-safe"] });
  });

  it("schedule: an exact entry pins the count, correcting the formation and holding at it", () => {
    const cfg = config({ maxProcesses: 6, schedule: [{ cron: "0 7 * * *", processes: 4, mode: "exact" }] });
    expect(once(cfg, LOW, { current: 2 })).toMatchObject({
      action: "up",
      target: 4,
      bounds: { min: 4, max: 4 },
      reason: "2 is below the minimum of 4",
    });
    expect(last(run(cfg, repeat(HIGH, 3), { current: 4 }))).toMatchObject({
      action: "hold",
      conditions: ["above-max"],
    });
  });

  it("schedule: a floor entry raises the minimum, and averaging works above it", () => {
    const cfg = config({ maxProcesses: 6, schedule: [{ cron: "0 7 * * *", processes: 3 }] });
    expect(once(cfg, MID, { current: 2 })).toMatchObject({ action: "up", target: 3 });
    expect(last(run(cfg, repeat(HIGH, 3), { current: 3 }))).toMatchObject({ action: "up", target: 4 });
  });
});

describe("the seed's defaults end to end (queue sizes, 0-20)", () => {
  it("scales 1 → 2 → 3 on a long queue, holds at 3 with above-max, and never scales down on an empty one", () => {
    const platform = followDecisions(decideAverageThreshold, config(), { current: 1, intervalSeconds: 60 });
    for (let i = 0; i < 9; i++) platform.tick(jobs(40));
    for (let i = 0; i < 5; i++) platform.tick(jobs(0));
    expect(platform.log).toEqual([
      ...["hold", "hold", "up:2"],
      ...["hold", "hold", "up:3"],
      ...["hold", "hold", "above-max"],
      // the mean slides down: (40+40+0)/3 = 26.7 is still above 20, (40+0+0)/3 = 13.3 is
      // within 0-20, and then 0 is never below 0
      "above-max",
      ...repeat("hold", 4),
    ]);
  });
});
