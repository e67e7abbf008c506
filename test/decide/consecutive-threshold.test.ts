import { describe, expect, it } from "vitest";
import {
  consecutiveThresholdSchema,
  decideConsecutiveThreshold,
  streak,
  verdictOf,
  type ConsecutiveThresholdConfig,
} from "../../src/decide/consecutive-threshold.js";
import { decide } from "../../src/decide/registry.js";
import {
  emptyDecisionState,
  recordScale,
  keepScaleRecords,
  MAX_SCALE_RECORDS,
  type DecisionState,
  type Verdict,
} from "../../src/decide/decision-state.js";
import type { Reading } from "../../src/measure/types.js";
import {
  actions,
  afterScale,
  failed,
  followDecisions,
  HOUR_MS,
  last,
  repeat,
  T0,
  ticks,
} from "../helpers/decide.js";

function config(overrides: Record<string, unknown> = {}): ConsecutiveThresholdConfig {
  return consecutiveThresholdSchema.parse({ backend: "consecutive-threshold", ...overrides });
}

const ms = (value: number): Reading => ({ backend: "response-time", value, unit: "ms", ok: true });
const SLOW = ms(5000);
const FAST = ms(100);
const OK = ms(800);

const { once, run } = ticks(decideConsecutiveThreshold, { current: 2, intervalSeconds: 30 });

describe("consecutiveThresholdSchema defaults (seed: autoscalebot 0.3 docs)", () => {
  it("fills in 400/1200 ms, 3 fails, 5 passes, min 1, max 3, increment 1, wait 5 s, history 10", () => {
    expect(config()).toEqual({
      backend: "consecutive-threshold",
      minMeasurement: 400,
      maxMeasurement: 1200,
      failsToScaleUp: 3,
      passesToScaleDown: 5,
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
    const cfg = config({ minMeasurement: 500, maxMeasurement: 1000, postScaleWaitSeconds: 60 });
    expect(cfg).toMatchObject({
      minMeasurement: 500,
      maxMeasurement: 1000,
      postScaleWaitSeconds: 60,
      failsToScaleUp: 3,
    });
  });

  it.each([
    [{ failsToScaleUp: 0 }, "failsToScaleUp"],
    [{ passesToScaleDown: 2.5 }, "passesToScaleDown"],
    [{ increment: 0 }, "increment"],
    [{ postScaleWaitSeconds: -1 }, "postScaleWaitSeconds"],
    [{ historyLength: 0 }, "historyLength"],
    [{ minMeasurement: 1200 }, "minMeasurement"],
    [{ historyLength: 4 }, "historyLength"],
    [{ failsToScaleUp: 11 }, "historyLength"],
    [{ minProcesses: 4 }, "minProcesses"],
  ])("rejects %j at %s", (overrides, path) => {
    const result = consecutiveThresholdSchema.safeParse({ backend: "consecutive-threshold", ...overrides });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join("."))).toContain(path);
  });
});

describe("verdictOf", () => {
  const cfg = { minMeasurement: 400, maxMeasurement: 1200 };
  it.each<[string, Reading, Verdict]>([
    ["value == maxMeasurement is not a fail", ms(1200), "ok"],
    ["maxMeasurement + 1 is a fail", ms(1201), "fail"],
    ["just above maxMeasurement is a fail", ms(1200.5), "fail"],
    ["value == minMeasurement is not a pass", ms(400), "ok"],
    ["minMeasurement - 1 is a pass", ms(399), "pass"],
    ["just below minMeasurement is a pass", ms(399.9), "pass"],
    ["0 ms is a pass", ms(0), "pass"],
    ["between the thresholds is ok", ms(800), "ok"],
    ["a failed reading without a value is a fail", failed(null), "fail"],
    ["a timed-out reading with its elapsed time is a fail", failed(5000), "fail"],
    ["a failed reading that was fast is still a fail", failed(50), "fail"],
    ["a failed reading within the thresholds is still a fail", failed(800), "fail"],
    [
      "an ok reading without a value is a fail",
      { backend: "response-time", value: null, unit: "ms", ok: true },
      "fail",
    ],
  ])("%s", (_label, reading, verdict) => {
    expect(verdictOf(reading, cfg)).toBe(verdict);
  });

  it("uses the configured thresholds", () => {
    const custom = { minMeasurement: 500, maxMeasurement: 1000 };
    expect(verdictOf(ms(1000), custom)).toBe("ok");
    expect(verdictOf(ms(1001), custom)).toBe("fail");
    expect(verdictOf(ms(500), custom)).toBe("ok");
    expect(verdictOf(ms(499), custom)).toBe("pass");
  });
});

describe("streak", () => {
  it.each<[Verdict[], Verdict, number]>([
    [[], "fail", 0],
    [["fail"], "fail", 1],
    [["fail", "fail", "fail"], "fail", 3],
    [["fail", "ok", "fail"], "fail", 1],
    [["fail", "fail", "ok"], "fail", 0],
    [["pass", "fail", "fail"], "fail", 2],
    [["pass", "fail", "fail"], "pass", 0],
    [["fail", "pass", "pass"], "pass", 2],
    [["ok", "ok"], "ok", 2],
    [["pass", "pass", "fail", "pass"], "pass", 1],
  ])("%j counts %s = %d from the newest end", (verdicts, verdict, count) => {
    expect(
      streak(
        verdicts.map((v) => ({ verdict: v })),
        verdict,
      ),
    ).toBe(count);
  });
});

describe("decideConsecutiveThreshold: scaling up on fails", () => {
  it.each([1, 2, 3, 5, 10])("failsToScaleUp %d: holds after N-1 fails, scales up on the Nth", (n) => {
    const cfg = config({ failsToScaleUp: n, historyLength: 10 });
    const decisions = run(cfg, repeat(SLOW, n));
    expect(actions(decisions)).toEqual([...repeat("hold", n - 1), "up"]);
    expect(last(decisions)).toMatchObject({
      action: "up",
      target: 3,
      conditions: [],
      bounds: { min: 1, max: 3 },
    });
    expect(last(decisions).reason).toContain(n === 1 ? "1 fail in a row" : `${n} fails in a row`);
  });

  it("counts failed readings (null value or elapsed time) as fails alongside slow ones", () => {
    const decisions = run(config(), [SLOW, failed(null), failed(5000)]);
    expect(actions(decisions)).toEqual(["hold", "hold", "up"]);
  });

  it("reports progress while holding", () => {
    const decisions = run(config(), [SLOW, SLOW]);
    expect(decisions.map((d) => d.reason)).toEqual(["1 of 3 fails to scale up", "2 of 3 fails to scale up"]);
    expect(decisions.every((d) => d.target === 2 && d.conditions.length === 0)).toBe(true);
  });

  it("treats readings exactly at maxMeasurement as ok: they never scale up", () => {
    expect(actions(run(config(), repeat(ms(1200), 10)))).toEqual(repeat("hold", 10));
    expect(actions(run(config(), repeat(ms(1201), 3)))).toEqual(["hold", "hold", "up"]);
  });

  it("keeps scaling up while the fails go on (the streak is not reset by a hold)", () => {
    const decisions = run(config(), repeat(SLOW, 5));
    expect(actions(decisions)).toEqual(["hold", "hold", "up", "up", "up"]);
  });
});

describe("decideConsecutiveThreshold: scaling down on passes", () => {
  it.each([1, 2, 5, 8, 10])("passesToScaleDown %d: holds after M-1 passes, scales down on the Mth", (m) => {
    const cfg = config({ passesToScaleDown: m });
    const decisions = run(cfg, repeat(FAST, m));
    expect(actions(decisions)).toEqual([...repeat("hold", m - 1), "down"]);
    expect(last(decisions)).toMatchObject({ action: "down", target: 1, conditions: [] });
    expect(last(decisions).reason).toContain(m === 1 ? "1 pass in a row" : `${m} passes in a row`);
  });

  it("reports progress while holding", () => {
    expect(run(config(), [FAST, FAST]).map((d) => d.reason)).toEqual([
      "1 of 5 passes to scale down",
      "2 of 5 passes to scale down",
    ]);
  });

  it("treats readings exactly at minMeasurement as ok: they never scale down", () => {
    expect(actions(run(config(), repeat(ms(400), 10)))).toEqual(repeat("hold", 10));
    expect(actions(run(config(), repeat(ms(399), 5)))).toEqual([...repeat("hold", 4), "down"]);
  });
});

describe("decideConsecutiveThreshold: streaks are broken", () => {
  it.each<[string, Reading[], string[]]>([
    ["an ok reading breaks a fail streak", [SLOW, SLOW, OK, SLOW, SLOW], repeat("hold", 5)],
    ["a pass breaks a fail streak", [SLOW, SLOW, FAST, SLOW, SLOW], repeat("hold", 5)],
    ["a fail streak restarts after an ok", [SLOW, SLOW, OK, SLOW, SLOW, SLOW], [...repeat("hold", 5), "up"]],
    [
      "an ok reading breaks a pass streak",
      [FAST, FAST, FAST, FAST, OK, FAST, FAST, FAST, FAST],
      repeat("hold", 9),
    ],
    [
      "a fail breaks a pass streak",
      [FAST, FAST, FAST, FAST, SLOW, FAST, FAST, FAST, FAST],
      repeat("hold", 9),
    ],
    ["a failed reading breaks a pass streak", [FAST, FAST, FAST, FAST, failed(), FAST], repeat("hold", 6)],
    [
      "a pass streak restarts after a fail",
      [FAST, FAST, FAST, FAST, SLOW, FAST, FAST, FAST, FAST, FAST],
      [...repeat("hold", 9), "down"],
    ],
    ["alternating verdicts never scale", [SLOW, FAST, SLOW, FAST, SLOW, FAST, SLOW, FAST], repeat("hold", 8)],
  ])("%s", (_label, readings, expected) => {
    expect(actions(run(config(), readings))).toEqual(expected);
  });

  it("says the reading is within the thresholds when it is ok", () => {
    expect(once(config(), OK).reason).toBe("within 400-1200");
  });
});

describe("decideConsecutiveThreshold: increment and the bounds", () => {
  it.each<[string, Record<string, unknown>, number, Reading, string, number]>([
    ["up by the increment", { maxProcesses: 10, increment: 3 }, 4, SLOW, "up", 7],
    ["up clamped at max", { maxProcesses: 3, increment: 5 }, 2, SLOW, "up", 3],
    ["up exactly to max", { maxProcesses: 5, increment: 2 }, 3, SLOW, "up", 5],
    ["down by the increment", { maxProcesses: 10, increment: 3 }, 8, FAST, "down", 5],
    ["down clamped at min", { minProcesses: 1, increment: 5 }, 3, FAST, "down", 1],
    ["down exactly to min", { minProcesses: 2, maxProcesses: 6, increment: 2 }, 4, FAST, "down", 2],
    ["down to 0 when min is 0", { minProcesses: 0 }, 1, FAST, "down", 0],
  ])("%s", (_label, overrides, current, reading, action, target) => {
    const cfg = config({ failsToScaleUp: 1, passesToScaleDown: 1, ...overrides });
    expect(once(cfg, reading, { current })).toMatchObject({ action, target, conditions: [] });
  });

  it('holds at max with N fails, reporting "above-max" (and keeps doing so)', () => {
    const decisions = run(config(), repeat(SLOW, 5), { current: 3 });
    expect(actions(decisions)).toEqual(repeat("hold", 5));
    expect(decisions.map((d) => d.conditions)).toEqual([[], [], ["above-max"], ["above-max"], ["above-max"]]);
    const d = last(decisions);
    expect(d.target).toBe(3);
    expect(d.reason).toContain("already at the maximum of 3");
    expect(d.state.history).toHaveLength(5); // the readings are still recorded
  });

  it('holds at min with M passes, reporting "below-min"', () => {
    const decisions = run(config(), repeat(FAST, 6), { current: 1 });
    expect(actions(decisions)).toEqual(repeat("hold", 6));
    expect(decisions.map((d) => d.conditions)).toEqual([[], [], [], [], ["below-min"], ["below-min"]]);
    expect(last(decisions).reason).toContain("already at the minimum of 1");
    expect(last(decisions).target).toBe(1);
  });

  it("scales up from max-1 to max without a condition, then holds with above-max", () => {
    const cfg = config({ failsToScaleUp: 1 });
    expect(once(cfg, SLOW, { current: 2 })).toMatchObject({ action: "up", target: 3, conditions: [] });
    expect(once(cfg, SLOW, { current: 3 })).toMatchObject({
      action: "hold",
      target: 3,
      conditions: ["above-max"],
    });
  });

  it("reports the bounds in force", () => {
    expect(once(config({ minProcesses: 2, maxProcesses: 7 }), OK, { current: 4 }).bounds).toEqual({
      min: 2,
      max: 7,
    });
  });
});

describe("decideConsecutiveThreshold: running outside the bounds", () => {
  const full = (reading: Reading, n: number): DecisionState =>
    last(run(config(), repeat(reading, n), { current: 2 })).state;

  it.each<[string, Reading, DecisionState]>([
    ["an ok reading", OK, emptyDecisionState()],
    ["a pass that would complete a pass streak", FAST, full(FAST, 4)],
    ["a fail", SLOW, emptyDecisionState()],
    ["a failed reading", failed(), emptyDecisionState()],
  ])("below min: scales up to min whatever the reading (%s)", (_label, reading, state) => {
    const cfg = config({ minProcesses: 3, maxProcesses: 5 });
    const d = once(cfg, reading, { current: 1, state });
    expect(d).toMatchObject({ action: "up", target: 3, conditions: [], bounds: { min: 3, max: 5 } });
    expect(d.reason).toBe("1 is below the minimum of 3");
    expect(d.state).toEqual(state); // a correction records no reading
  });

  it.each<[string, Reading, DecisionState]>([
    ["an ok reading", OK, emptyDecisionState()],
    ["a fail that would complete a fail streak", SLOW, full(SLOW, 2)],
    ["a pass", FAST, emptyDecisionState()],
  ])("above max: scales down to max whatever the reading (%s)", (_label, reading, state) => {
    const d = once(config(), reading, { current: 7, state });
    expect(d).toMatchObject({ action: "down", target: 3, conditions: [] });
    expect(d.reason).toBe("7 is above the maximum of 3");
    expect(d.state).toEqual(state);
  });

  it("corrects below min from 0 (a stopped formation) even with increment 1", () => {
    expect(once(config({ minProcesses: 2, maxProcesses: 4 }), OK, { current: 0 })).toMatchObject({
      action: "up",
      target: 2,
    });
  });

  it("corrects during the cool-down too", () => {
    const state = afterScale(2, 3);
    const cfg = config({ minProcesses: 2, maxProcesses: 4, postScaleWaitSeconds: 600 });
    const soon = T0.plus({ seconds: 1 });
    expect(once(cfg, OK, { current: 1, state, now: soon })).toMatchObject({ action: "up", target: 2 });
    expect(once(cfg, OK, { current: 9, state, now: soon })).toMatchObject({ action: "down", target: 4 });
    expect(once(cfg, OK, { current: 3, state, now: soon }).action).toBe("hold");
  });
});

describe("decideConsecutiveThreshold: cool-down after a scale", () => {
  const cfg = config({ postScaleWaitSeconds: 60, failsToScaleUp: 1 });
  const scaled = afterScale(1, 2);

  it.each([0, 1, 30, 59, 59.999])("holds %s s after the scale without recording the reading", (seconds) => {
    const d = once(cfg, SLOW, { state: scaled, now: T0.plus({ seconds }) });
    expect(d.action).toBe("hold");
    expect(d.conditions).toEqual([]);
    expect(d.reason).toMatch(/^cooling down for \d+ s after the last scale$/);
    expect(d.state).toEqual(scaled);
    expect(d.state.history).toEqual([]);
  });

  it("says how long is left, rounded up", () => {
    expect(once(cfg, SLOW, { state: scaled, now: T0.plus({ seconds: 0.5 }) }).reason).toBe(
      "cooling down for 60 s after the last scale",
    );
    expect(once(cfg, SLOW, { state: scaled, now: T0.plus({ seconds: 59.999 }) }).reason).toBe(
      "cooling down for 1 s after the last scale",
    );
  });

  it("evaluates at exactly postScaleWaitSeconds after the scale", () => {
    const d = once(cfg, SLOW, { state: scaled, now: T0.plus({ seconds: 60 }) });
    expect(d.action).toBe("up");
    expect(d.state.history).toEqual([
      { at: T0.plus({ seconds: 60 }).toMillis(), value: 5000, verdict: "fail" },
    ]);
  });

  it("uses the seed's default 5 s wait", () => {
    const defaults = config();
    expect(once(defaults, OK, { state: scaled, now: T0.plus({ milliseconds: 4999 }) }).state.history).toEqual(
      [],
    );
    expect(once(defaults, OK, { state: scaled, now: T0.plus({ seconds: 5 }) }).state.history).toHaveLength(1);
  });

  it("does not wait at all with postScaleWaitSeconds 0", () => {
    const d = once(config({ postScaleWaitSeconds: 0, failsToScaleUp: 1 }), SLOW, { state: scaled, now: T0 });
    expect(d.action).toBe("up");
  });

  it("does not count readings taken during the cool-down toward a streak", () => {
    const three = config({ postScaleWaitSeconds: 60 });
    // Ticks every 15 s from the scale: 0, 15, 30, 45 are within the wait; 60, 75, 90 count.
    const decisions = run(three, repeat(SLOW, 7), { state: scaled, intervalSeconds: 15 });
    expect(actions(decisions)).toEqual(["hold", "hold", "hold", "hold", "hold", "hold", "up"]);
    expect(decisions.slice(0, 4).every((d) => d.reason.startsWith("cooling down"))).toBe(true);
    expect(last(decisions).state.history).toHaveLength(3);
  });

  it("has no cool-down before the first scale", () => {
    expect(once(cfg, SLOW).action).toBe("up");
  });
});

describe("decideConsecutiveThreshold: history", () => {
  it("records each reading's time, value and verdict", () => {
    const decisions = run(config(), [OK, FAST, SLOW, failed(null), failed(4000)]);
    expect(last(decisions).state.history).toEqual([
      { at: T0.toMillis(), value: 800, verdict: "ok" },
      { at: T0.plus({ seconds: 30 }).toMillis(), value: 100, verdict: "pass" },
      { at: T0.plus({ seconds: 60 }).toMillis(), value: 5000, verdict: "fail" },
      { at: T0.plus({ seconds: 90 }).toMillis(), value: null, verdict: "fail" },
      { at: T0.plus({ seconds: 120 }).toMillis(), value: 4000, verdict: "fail" },
    ]);
  });

  it.each([5, 10, 17])("is bounded by historyLength %d, keeping the newest", (historyLength) => {
    const readings = Array.from({ length: 25 }, (_, i) => ms(500 + i));
    const history = last(run(config({ historyLength }), readings)).state.history;
    expect(history).toHaveLength(historyLength);
    expect(history.map((entry) => entry.value)).toEqual(readings.slice(-historyLength).map((r) => r.value));
  });

  it("trims a longer stored history to historyLength", () => {
    const long = last(run(config({ historyLength: 20 }), repeat(OK, 20))).state;
    expect(long.history).toHaveLength(20);
    expect(once(config({ historyLength: 5 }), OK, { state: long }).state.history).toHaveLength(5);
  });

  it("does not mutate the state it is given", () => {
    const state = last(run(config(), [SLOW, SLOW])).state;
    const copy = structuredClone(state);
    once(config(), SLOW, { state });
    expect(state).toEqual(copy);
  });

  it("keeps lastScaleAt and the scale records", () => {
    const state = afterScale(1, 2);
    const d = once(config(), OK, { state, now: T0.plus({ minutes: 5 }) });
    expect(d.state.lastScaleAt).toBe(T0.toMillis());
    expect(d.state.scales).toEqual([{ at: T0.toMillis(), from: 1, to: 2 }]);
  });
});

describe("recordScale", () => {
  const at = T0.toMillis();

  it("clears the history, sets lastScaleAt and appends the record", () => {
    const before = last(run(config(), [SLOW, SLOW, SLOW])).state;
    expect(before.history).toHaveLength(3);
    const after = recordScale(before, { at, from: 2, to: 3 });
    expect(after).toEqual({ history: [], lastScaleAt: at, scales: [{ at, from: 2, to: 3 }] });
    expect(before.history).toHaveLength(3); // not mutated
  });

  it("keeps only the newest MAX_SCALE_RECORDS scale records", () => {
    let state: DecisionState = { history: [], lastScaleAt: null, scales: [] };
    for (let i = 0; i < 20; i++) state = recordScale(state, { at: at + i * HOUR_MS, from: 1, to: 2 });
    expect(MAX_SCALE_RECORDS).toBe(7);
    expect(state.scales.map((s) => s.at)).toEqual(
      Array.from({ length: 7 }, (_, i) => at + (13 + i) * HOUR_MS),
    );
  });

  it("keepScaleRecords drops the records a window no longer sees, and the same array when none", () => {
    const scales = [
      { at: at - 2 * HOUR_MS, from: 1, to: 2 },
      { at: at - HOUR_MS, from: 2, to: 3 },
      { at: at - 1, from: 3, to: 2 },
    ];
    expect(keepScaleRecords(scales, HOUR_MS, at)).toEqual(scales.slice(2)); // exactly HOUR_MS old: gone
    expect(keepScaleRecords(scales, 3 * HOUR_MS, at)).toBe(scales);
    expect(keepScaleRecords(scales, 0, at)).toEqual([]);
  });

  it("starts a fresh streak after the scale", () => {
    const cfg = config({ postScaleWaitSeconds: 0 });
    const decisions = run(cfg, repeat(SLOW, 3), { current: 1 });
    expect(last(decisions).action).toBe("up");
    const scaled = recordScale(last(decisions).state, {
      at: T0.plus({ seconds: 60 }).toMillis(),
      from: 1,
      to: 2,
    });
    const next = run(cfg, repeat(SLOW, 3), { current: 2, state: scaled, start: T0.plus({ seconds: 90 }) });
    expect(actions(next)).toEqual(["hold", "hold", "up"]);
  });
});

describe("decideConsecutiveThreshold: a failed scale is retried", () => {
  it("takes the same decision on the next tick when the scale up was not recorded", () => {
    const decisions = run(config(), repeat(SLOW, 3));
    const first = last(decisions);
    expect(first).toMatchObject({ action: "up", target: 3 });
    // The scale failed: the tick keeps decision.state (no recordScale) and the platform is still at 2.
    const retry = once(config(), SLOW, { state: first.state, now: T0.plus({ seconds: 90 }) });
    expect(retry).toMatchObject({ action: "up", target: 3 });
    expect(retry.reason).toContain("4 fails in a row");
  });

  it("takes the same decision on the next tick when the scale down was not recorded", () => {
    const first = last(run(config(), repeat(FAST, 5), { current: 3 }));
    expect(first).toMatchObject({ action: "down", target: 2 });
    const retry = once(config(), FAST, { current: 3, state: first.state, now: T0.plus({ minutes: 5 }) });
    expect(retry).toMatchObject({ action: "down", target: 2 });
  });

  it("repeats a correction into the bounds until it succeeds", () => {
    const cfg = config({ minProcesses: 2 });
    const first = once(cfg, OK, { current: 1 });
    expect(first).toMatchObject({ action: "up", target: 2 });
    expect(once(cfg, OK, { current: 1, state: first.state, now: T0.plus({ seconds: 30 }) })).toMatchObject({
      action: "up",
      target: 2,
    });
  });

  it("is not in a cool-down after a failed scale", () => {
    const first = last(run(config(), repeat(SLOW, 3)));
    expect(first.state.lastScaleAt).toBeNull();
    const retry = once(config(), SLOW, { state: first.state, now: T0.plus({ seconds: 61 }) });
    expect(retry.reason).not.toContain("cooling down");
  });
});

describe("the seed's defaults end to end", () => {
  it("scales 1 → 2 → 3 under load, holds at 3 with above-max, then back down to 1", () => {
    const platform = followDecisions(decideConsecutiveThreshold, config(), {
      current: 1,
      intervalSeconds: 30,
    });
    // 30 s > 5 s: no tick falls within the cool-down
    for (let i = 0; i < 9; i++) platform.tick(SLOW);
    for (let i = 0; i < 10; i++) platform.tick(FAST);
    expect(platform.log).toEqual([
      ...["hold", "hold", "up:2"],
      ...["hold", "hold", "up:3"],
      ...["hold", "hold", "above-max"],
      ...["hold", "hold", "hold", "hold", "down:2"],
      ...["hold", "hold", "hold", "hold", "down:1"],
    ]);
    expect(platform.current).toBe(1);
    expect(platform.state.scales.map((s) => `${s.from}->${s.to}`)).toEqual(["1->2", "2->3", "3->2", "2->1"]);
  });
});

describe("decide (registry)", () => {
  it("dispatches consecutive-threshold to decideConsecutiveThreshold", () => {
    const input = { config: config(), state: emptyDecisionState(), reading: SLOW, current: 2, now: T0 };
    expect(decide(input)).toEqual(decideConsecutiveThreshold(input));
  });
});
