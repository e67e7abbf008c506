import { describe, expect, it } from "vitest";
import { emptyDecisionState, recordScale, type DecisionState } from "../../src/decide/decision-state.js";
import {
  decideTargetTracking,
  recommend,
  targetTracking,
  targetTrackingSchema,
  type TargetTrackingConfig,
} from "../../src/decide/target-tracking.js";
import type { Reading } from "../../src/measure/types.js";
import { afterScale, failed, last, MINUTE_MS, repeat, T0, ticks, unreachable } from "../helpers/decide.js";

function parse(overrides: Record<string, unknown> = {}): TargetTrackingConfig {
  return targetTrackingSchema.parse({ backend: "target-tracking", targetValue: 100, ...overrides });
}
/** Room to move: max 20, and no stabilization unless a case asks for it. */
const config = (overrides: Record<string, unknown> = {}) =>
  parse({ maxProcesses: 20, scaleDownStabilizationSeconds: 0, ...overrides });
/** The default 300 s window. */
const stabilized = (overrides: Record<string, unknown> = {}) => parse({ maxProcesses: 20, ...overrides });

/** A per-process value (jobs per process, say). */
const per = (value: number): Reading => ({ backend: "queue", value, unit: "jobs", ok: true });

const { once, run } = ticks(decideTargetTracking, { current: 4, intervalSeconds: 60 });

/** A state that keeps these recommendations, `minutesAgo` before T0. */
const withRecommendations = (...entries: [minutesAgo: number, recommendation: number][]): DecisionState => ({
  ...emptyDecisionState(),
  recommendations: entries
    .map(([minutesAgo, recommendation]): [number, number] => [
      T0.toMillis() - minutesAgo * MINUTE_MS,
      recommendation,
    ])
    .sort((a, b) => a[0] - b[0]),
});

describe("targetTrackingSchema", () => {
  it("requires only targetValue, and fills in the defaults", () => {
    expect(parse()).toEqual({
      backend: "target-tracking",
      targetValue: 100,
      valueIs: "average",
      tolerance: 0.1,
      minProcesses: 1,
      maxProcesses: 3,
      increment: 1,
      postScaleWaitSeconds: 5,
      historyLength: 10,
      idleMinutesBeforeZero: 10,
      allowZero: false,
    });
  });

  it.each<[Record<string, unknown>]>([
    [{ targetValue: 0.001 }],
    [{ valueIs: "total" }],
    [{ tolerance: 0 }],
    [{ tolerance: 0.99 }],
    [{ scaleDownStabilizationSeconds: 0 }],
    [{ scaleDownStabilizationSeconds: 3600 }],
    [{ maxScaleUpStep: 1, maxScaleDownStep: 1 }],
    [{ maxScaleUpStep: 50 }],
    [{ historyLength: 1 }],
    [{ targetValue: undefined, targets: { utilisation: 60, queueTimeP95Ms: 200 } }],
    [{ behavior: { scaleUp: { stabilizationWindowSeconds: 120 } } }],
    [{ behavior: { scaleDown: { policies: [{ type: "Percent", value: 50, periodSeconds: 60 }] } } }],
    [{ behavior: { scaleDown: { selectPolicy: "Disabled" } } }],
    [
      {
        behavior: {
          scaleUp: { selectPolicy: "Min", policies: [{ type: "Pods", value: 4, periodSeconds: 1800 }] },
        },
      },
    ],
    [
      {
        scaleDownStabilizationSeconds: 600,
        behavior: { scaleDown: { policies: [{ type: "Pods", value: 2, periodSeconds: 60 }] } },
      },
    ],
    [{ maxScaleUpStep: 4, behavior: { scaleUp: { stabilizationWindowSeconds: 60 } } }],
  ])("accepts %j", (overrides) => {
    const result = targetTrackingSchema.safeParse({
      backend: "target-tracking",
      targetValue: 100,
      ...overrides,
    });
    expect(result.success).toBe(true);
  });

  it.each<[Record<string, unknown>, string]>([
    [{ targetValue: undefined }, "targetValue"],
    [{ targetValue: 0 }, "targetValue"],
    [{ targetValue: -5 }, "targetValue"],
    [{ targetValue: "100" }, "targetValue"],
    [{ targetValue: Infinity }, "targetValue"],
    [{ valueIs: "sum" }, "valueIs"],
    [{ tolerance: -0.1 }, "tolerance"],
    [{ tolerance: 1 }, "tolerance"],
    [{ scaleDownStabilizationSeconds: -1 }, "scaleDownStabilizationSeconds"],
    [{ scaleDownStabilizationSeconds: 3601 }, "scaleDownStabilizationSeconds"],
    [{ maxScaleUpStep: 0 }, "maxScaleUpStep"],
    [{ maxScaleUpStep: 1.5 }, "maxScaleUpStep"],
    [{ maxScaleDownStep: 0 }, "maxScaleDownStep"],
    [{ maxScaleDownStep: -2 }, "maxScaleDownStep"],
    [{ increment: 0 }, "increment"],
    [{ historyLength: 0 }, "historyLength"],
    [{ scaleUpCooldownSeconds: -1 }, "scaleUpCooldownSeconds"],
    [{ minProcesses: 4 }, "minProcesses"],
    [{ minProcesses: 5, maxProcesses: 4 }, "minProcesses"],
    [{ maxProcesses: 0 }, "maxProcesses"],
    [{ targets: { utilisation: 60 } }, "targets"],
    [{ targetValue: undefined, targets: {} }, "targets"],
    [{ targetValue: undefined, targets: { utilisation: 0 } }, "targets.utilisation"],
    [{ targetValue: undefined, targets: { "queue time": 200 } }, "targets.queue time"],
    [
      { behavior: { scaleUp: { stabilizationWindowSeconds: 3601 } } },
      "behavior.scaleUp.stabilizationWindowSeconds",
    ],
    [{ behavior: { scaleDown: { policies: [] } } }, "behavior.scaleDown.policies"],
    [
      { behavior: { scaleDown: { policies: [{ type: "Pods", value: 0, periodSeconds: 60 }] } } },
      "behavior.scaleDown.policies.0.value",
    ],
    [
      { behavior: { scaleDown: { policies: [{ type: "Pods", value: 1, periodSeconds: 1801 }] } } },
      "behavior.scaleDown.policies.0.periodSeconds",
    ],
    [
      { behavior: { scaleDown: { policies: [{ type: "pods", value: 1, periodSeconds: 60 }] } } },
      "behavior.scaleDown.policies.0.type",
    ],
    [{ behavior: { scaleUp: { selectPolicy: "max" } } }, "behavior.scaleUp.selectPolicy"],
    [{ behavior: { scaleup: {} } }, "behavior"],
    [
      { scaleDownStabilizationSeconds: 60, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } },
      "scaleDownStabilizationSeconds",
    ],
    [
      {
        maxScaleUpStep: 2,
        behavior: { scaleUp: { policies: [{ type: "Pods", value: 2, periodSeconds: 60 }] } },
      },
      "maxScaleUpStep",
    ],
    [
      {
        maxScaleDownStep: 2,
        behavior: { scaleDown: { policies: [{ type: "Pods", value: 2, periodSeconds: 60 }] } },
      },
      "maxScaleDownStep",
    ],
  ])("rejects %j at %s", (overrides, path) => {
    const result = targetTrackingSchema.safeParse({
      backend: "target-tracking",
      targetValue: 100,
      ...overrides,
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join("."))).toContain(path);
  });

  it("rejects a missing targetValue with a message saying what is expected", () => {
    const result = targetTrackingSchema.safeParse({ backend: "target-tracking" });
    expect(result.error?.issues.find((issue) => issue.path[0] === "targetValue")?.message).toBe(
      "expected number > 0 (or targets: a target per metric)",
    );
  });

  it("rejects targetValue and targets together, saying so", () => {
    const result = targetTrackingSchema.safeParse({
      backend: "target-tracking",
      targetValue: 1,
      targets: { a: 1 },
    });
    expect(result.error?.issues.map((issue) => issue.message)).toEqual([
      "expected targetValue or targets, not both",
    ]);
  });

  it("rejects unknown keys (a typo'd setting is not silently ignored)", () => {
    const result = targetTrackingSchema.safeParse({
      backend: "target-tracking",
      targetValue: 1,
      tolerence: 0.2,
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.code).toBe("unrecognized_keys");
  });
});

describe("recommend", () => {
  const average = { targetValue: 100, valueIs: "average" as const, tolerance: 0.1 };
  const total = { targetValue: 100, valueIs: "total" as const, tolerance: 0.1 };

  it.each<[string, number, number, number]>([
    ["at the target: current", 100, 10, 10],
    ["exactly 10% above: within the tolerance", 110, 10, 10],
    ["exactly 10% below: within the tolerance", 90, 10, 10],
    ["just over 10% above: scales", 110.5, 10, 12],
    ["just over 10% below: scales", 89.5, 10, 9],
    ["double: twice the processes", 200, 4, 8],
    ["half: half the processes", 50, 4, 2],
    ["rounds up: ceil(3 × 1.5) = 5", 150, 3, 5],
    ["rounds up a little over: ceil(4 × 1.26) = ceil(5.04) = 6", 126, 4, 6],
    ["a little below may still round to current: ceil(3 × 0.8) = 3", 80, 3, 3],
    ["0 recommends 0", 0, 5, 0],
    ["from 0 processes, a value above 0 recommends 1", 500, 0, 1],
    ["from 0 processes, a small value recommends 1", 0.5, 0, 1],
    ["from 0 processes, 0 recommends 0", 0, 0, 0],
  ])("average: %s (value %d, current %d → %d)", (_label, value, current, recommendation) => {
    expect(recommend(average, value, current).recommendation).toBe(recommendation);
  });

  it.each<[string, number, number, number]>([
    ["at the target per process: current", 400, 4, 4],
    ["exactly 10% above the formation's target: within", 440, 4, 4],
    ["exactly 10% below the formation's target: within", 360, 4, 4],
    ["just over 10% above: ceil(value / target)", 441, 4, 5],
    ["just over 10% below: ceil(value / target)", 359, 4, 4],
    ["well below: ceil(250 / 100) = 3", 250, 4, 3],
    ["a queue of 950 wants 10", 950, 2, 10],
    ["an empty queue recommends 0", 0, 3, 0],
    ["from 0 processes: ceil(value / target), no tolerance", 250, 0, 3],
    ["from 0 processes: 1 job recommends 1", 1, 0, 1],
    ["from 0 processes: an empty queue recommends 0", 0, 0, 0],
  ])("total: %s (value %d, current %d → %d)", (_label, value, current, recommendation) => {
    expect(recommend(total, value, current).recommendation).toBe(recommendation);
  });

  it.each<[number, number]>([
    [100, 10],
    [101, 11],
    [99, 10],
  ])("tolerance 0: any deviation counts (value %d, current 10 → %d)", (value, recommendation) => {
    expect(recommend({ ...average, tolerance: 0 }, value, 10).recommendation).toBe(recommendation);
  });

  it("a wider tolerance holds more: 25% above with tolerance 0.3 is within", () => {
    expect(recommend({ ...average, tolerance: 0.3 }, 125, 4).recommendation).toBe(4);
    expect(recommend({ ...average, tolerance: 0.2 }, 125, 4).recommendation).toBe(5);
  });

  it("allows for floating-point rounding: 3 × 0.3 / 0.1 is 9, not 10", () => {
    expect(recommend({ ...average, targetValue: 0.1, tolerance: 0 }, 0.3, 3).recommendation).toBe(9);
    expect(recommend({ ...average, targetValue: 0.1 }, 0.11, 3).recommendation).toBe(3); // 10% exactly
  });

  it.each<[string, typeof average | typeof total, number, number, string]>([
    ["average, within", average, 105, 4, "105 per process is within 10% of the target of 100"],
    ["average, out", average, 150, 4, "150 per process against a target of 100 recommends 6"],
    ["average, from 0", average, 7, 0, "7 per process with no process running recommends 1"],
    ["total, within", total, 410, 4, "410 in total is within 10% of the target of 400"],
    ["total, out", total, 950, 2, "950 in total against a target of 100 per process recommends 10"],
  ])("explains itself: %s", (_label, cfg, value, current, why) => {
    expect(recommend(cfg, value, current).why).toBe(why);
  });
});

describe("decideTargetTracking: scaling up", () => {
  it.each<[string, Record<string, unknown>, number, number, number]>([
    ["at once to the recommendation", {}, 200, 4, 8],
    ["by one when that is what the ratio says", {}, 130, 4, 6],
    ["clamped at max", { maxProcesses: 6 }, 300, 4, 6],
    ["from max-1 to max", { maxProcesses: 5 }, 200, 4, 5],
    ["the increment does not apply: 4 → 5, not 4 → 7", { increment: 3 }, 125, 4, 5],
    ["from 0 (min 0): to 1 for an average", { minProcesses: 0 }, 900, 0, 1],
  ])("%s", (_label, overrides, value, current, target) => {
    expect(once(config(overrides), per(value), { current })).toMatchObject({
      action: "up",
      target,
      conditions: [],
    });
  });

  it("is not stabilized: one high reading is enough, whatever the window", () => {
    const state = withRecommendations([1, 2], [2, 2]);
    expect(once(stabilized(), per(200), { current: 4, state })).toMatchObject({ action: "up", target: 8 });
  });

  it('holds at max, reporting "above-max", and records the recommendation', () => {
    const d = once(config({ maxProcesses: 4 }), per(200), { current: 4 });
    expect(d).toMatchObject({ action: "hold", target: 4, conditions: ["above-max"] });
    expect(d.reason).toBe(
      "200 per process against a target of 100 recommends 8, but already at the maximum of 4",
    );
    expect(d.state.history).toEqual([{ at: T0.toMillis(), value: 200 }]);
    expect(d.state.recommendations).toEqual([[T0.toMillis(), 8]]);
  });

  it("valueIs total: a queue of 450 with 100 per process wants 5", () => {
    expect(once(config({ valueIs: "total" }), per(450), { current: 2 })).toMatchObject({
      action: "up",
      target: 5,
    });
  });

  it("valueIs total from 0 processes", () => {
    expect(once(config({ valueIs: "total", minProcesses: 0 }), per(250), { current: 0 })).toMatchObject({
      action: "up",
      target: 3,
    });
  });
});

describe("decideTargetTracking: holding within the tolerance", () => {
  it.each<[string, Record<string, unknown>, number]>([
    ["at the target", {}, 100],
    ["exactly 10% above", {}, 110],
    ["exactly 10% below", {}, 90],
    ["exactly 20% above with tolerance 0.2", { tolerance: 0.2 }, 120],
    ["total: exactly 10% above the formation's 400", { valueIs: "total" }, 440],
  ])("%s", (_label, overrides, value) => {
    const d = once(config(overrides), per(value), { current: 4 });
    expect(d).toMatchObject({ action: "hold", target: 4, conditions: [] });
    expect(d.state.history).toEqual([{ at: T0.toMillis(), value }]);
    expect(d.state.recommendations).toEqual([[T0.toMillis(), 4]]);
  });

  it("scales just past the tolerance edge", () => {
    expect(once(config(), per(110.01), { current: 10 })).toMatchObject({ action: "up", target: 12 });
    expect(once(config(), per(89.99), { current: 10 })).toMatchObject({ action: "down", target: 9 });
  });

  it("holds at 0 processes on a value of 0 (min 0)", () => {
    expect(once(config({ minProcesses: 0 }), per(0), { current: 0 })).toMatchObject({
      action: "hold",
      target: 0,
      conditions: [],
    });
  });
});

describe("decideTargetTracking: scaling down", () => {
  it.each<[string, Record<string, unknown>, number, number, number]>([
    ["at once without a window", {}, 50, 8, 4],
    ["clamped at min", { minProcesses: 2 }, 10, 8, 2],
    ["to 0 when min is 0 and the value is 0", { minProcesses: 0 }, 0, 3, 0],
    ["total: an emptying queue", { valueIs: "total" }, 150, 6, 2],
  ])("%s", (_label, overrides, value, current, target) => {
    expect(once(config(overrides), per(value), { current })).toMatchObject({
      action: "down",
      target,
      conditions: [],
    });
  });

  it('holds at min, reporting "below-min"', () => {
    const d = once(config({ minProcesses: 2 }), per(10), { current: 2 });
    expect(d).toMatchObject({ action: "hold", target: 2, conditions: ["below-min"] });
    expect(d.reason).toContain("already at the minimum of 2");
  });
});

describe("decideTargetTracking: the scale-down stabilization window", () => {
  it.each<[string, [number, number][], number, string, number]>([
    ["a higher recommendation 4 minutes ago blocks", [[4, 6]], 5, "hold", 5],
    ["one equal to current 4 minutes ago blocks", [[4, 5]], 5, "hold", 5],
    ["one 4:59 ago still blocks", [[4.99, 6]], 5, "hold", 5],
    ["one exactly 5 minutes ago has expired", [[5, 6]], 5, "down", 2],
    ["one 6 minutes ago has expired", [[6, 9]], 5, "down", 2],
    ["a lower one 4 minutes ago lets it down only that far", [[4, 4]], 6, "down", 4],
    [
      "the highest within the window counts",
      [
        [1, 3],
        [2, 4],
        [3, 2],
      ],
      6,
      "down",
      4,
    ],
    [
      "only the window counts",
      [
        [6, 10],
        [2, 3],
      ],
      5,
      "down",
      3,
    ],
    ["lower recommendations than this one do not raise the target", [[1, 1]], 5, "down", 2],
  ])("%s", (_label, recommendations, current, action, target) => {
    // The reading recommends ceil(current × 40 / 100), 2 for 5 processes, 3 for 6.
    const state = withRecommendations(...recommendations);
    expect(once(stabilized(), per(40), { current, state })).toMatchObject({ action, target, conditions: [] });
  });

  it("explains a blocked scale down", () => {
    const d = once(stabilized(), per(40), { current: 5, state: withRecommendations([4, 7]) });
    expect(d.reason).toBe(
      "40 per process against a target of 100 recommends 2, but the highest within the last 300 s is 7",
    );
  });

  it("explains a partial scale down", () => {
    const d = once(stabilized(), per(40), { current: 6, state: withRecommendations([4, 4]) });
    expect(d.reason).toBe(
      "40 per process against a target of 100 recommends 3; down to 4, the highest within the last 300 s",
    );
  });

  it("ignores history entries without a recommendation (written by another backend)", () => {
    const state: DecisionState = {
      ...emptyDecisionState(),
      history: [{ at: T0.toMillis() - MINUTE_MS, value: 900, verdict: "fail" }],
    };
    expect(once(stabilized(), per(40), { current: 5, state })).toMatchObject({ action: "down", target: 2 });
  });

  it("uses the configured window: 600 s", () => {
    const cfg = stabilized({ scaleDownStabilizationSeconds: 600 });
    expect(once(cfg, per(40), { current: 5, state: withRecommendations([9, 6]) }).action).toBe("hold");
    expect(once(cfg, per(40), { current: 5, state: withRecommendations([10, 6]) }).action).toBe("down");
  });

  it("a sustained drop scales down once the high recommendations age out (ticks every minute)", () => {
    // t=0: 200 per process at 4 recommends 8 (the scale is not applied: the platform stays at 4),
    // then 40 per process recommends 2 each minute.
    const decisions = run(stabilized(), [per(200), ...Array.from({ length: 6 }, () => per(40))]);
    expect(decisions.map((d) => `${d.action}:${d.target}`)).toEqual([
      "up:8",
      "hold:4",
      "hold:4",
      "hold:4",
      "hold:4",
      "down:2", // 5 minutes after the 8
      "down:2",
    ]);
  });

  it("a brief dip does not scale down", () => {
    const readings = [100, 40, 100, 40, 100, 40, 100].map(per);
    const decisions = run(stabilized(), readings);
    expect(decisions.every((d) => d.action === "hold")).toBe(true);
  });

  it("the count scaled to is no floor: the recommendations behind it are (they outlive the scale)", () => {
    // A scale to 5 four minutes ago; the recommendation behind it was 5, kept through the scale.
    const scaled = recordScale(withRecommendations([4, 5]), {
      at: T0.toMillis() - 4 * MINUTE_MS,
      from: 8,
      to: 5,
    });
    expect(scaled.recommendations).toEqual([[T0.toMillis() - 4 * MINUTE_MS, 5]]);
    const cfg = stabilized({ postScaleWaitSeconds: 0 });
    const d = once(cfg, per(40), { current: 5, state: scaled });
    expect(d).toMatchObject({ action: "hold", target: 5 });
    expect(d.reason).toContain("the highest within the last 300 s is 5");
    const later = once(cfg, per(40), { current: 5, state: scaled, now: T0.plus({ minutes: 1 }) });
    expect(later).toMatchObject({ action: "down", target: 2 });
    // Without a recommendation behind it, a scale sets no floor at all.
    const bare = recordScale(emptyDecisionState(), { at: T0.toMillis() - MINUTE_MS, from: 8, to: 5 });
    expect(once(cfg, per(40), { current: 5, state: bare })).toMatchObject({ action: "down", target: 2 });
  });

  it("window 0: scales down at once whatever was recommended before", () => {
    const state = withRecommendations([0.5, 9]);
    expect(once(config(), per(40), { current: 5, state })).toMatchObject({ action: "down", target: 2 });
  });
});

describe("decideTargetTracking: history and the recommendations kept", () => {
  const at = (i: number) => T0.plus({ minutes: i }).toMillis();

  it("records each tick's time and value in the history, its raw recommendation in recommendations", () => {
    const decisions = run(stabilized(), [per(100), per(200), per(40), failed()]);
    expect(last(decisions).state.history).toEqual([
      { at: at(0), value: 100 },
      { at: at(1), value: 200 },
      { at: at(2), value: 40 },
      { at: at(3), value: null },
    ]);
    // 4, 8, 2, 5: the 4 and the 2 have a newer one at least as high, so no window needs them.
    expect(last(decisions).state.recommendations).toEqual([
      [at(1), 8],
      [at(3), 5],
    ]);
  });

  it("keeps the recommendations a scale-up window needs too (a newer one at least as low drops one)", () => {
    const cfg = stabilized({ behavior: { scaleUp: { stabilizationWindowSeconds: 180 } } });
    const decisions = run(cfg, [per(100), per(200), per(40), per(150)]);
    // 4, 8, 2, 6: the 4 has a newer 8 above it and a newer 2 below it.
    expect(last(decisions).state.recommendations).toEqual([
      [at(1), 8],
      [at(2), 2],
      [at(3), 6],
    ]);
  });

  it("keeps nothing older than both windows", () => {
    const decisions = run(stabilized(), [per(200), ...repeat(per(100), 6)]);
    expect(last(decisions).state.recommendations).toEqual([[at(6), 4]]);
  });

  it("historyLength does not shorten the window", () => {
    const cfg = stabilized({ historyLength: 1 });
    const decisions = run(cfg, [per(200), per(40), per(40), per(40), per(40), per(40)]);
    expect(decisions.map((d) => d.action)).toEqual(["up", "hold", "hold", "hold", "hold", "down"]);
    expect(last(decisions).state.history).toHaveLength(1);
  });

  it("reads the recommendations of a state written before they were kept apart (in its history)", () => {
    const state: DecisionState = {
      ...emptyDecisionState(),
      history: [{ at: T0.toMillis() - MINUTE_MS, value: 100, recommendation: 5 }],
    };
    const d = once(stabilized(), per(40), { current: 5, state });
    expect(d).toMatchObject({ action: "hold", target: 5 });
    expect(d.state.recommendations).toEqual([
      [T0.toMillis() - MINUTE_MS, 5],
      [T0.toMillis(), 2],
    ]);
  });

  it("does not mutate the state it is given", () => {
    const state = withRecommendations([1, 6], [2, 3]);
    const copy = structuredClone(state);
    once(stabilized(), per(40), { current: 5, state });
    expect(state).toEqual(copy);
  });

  it("keeps lastScaleAt and the scale records", () => {
    const state = afterScale(1, 4);
    const d = once(config(), per(100), { state, now: T0.plus({ minutes: 5 }) });
    expect(d.state.lastScaleAt).toBe(T0.toMillis());
    expect(d.state.scales).toEqual([{ at: T0.toMillis(), from: 1, to: 4 }]);
  });
});

describe("decideTargetTracking: step limits", () => {
  it.each<[string, Record<string, unknown>, number, number, string, number]>([
    ["maxScaleUpStep limits a big jump", { maxScaleUpStep: 2 }, 300, 4, "up", 6],
    ["maxScaleUpStep does not limit a small one", { maxScaleUpStep: 2 }, 150, 2, "up", 3],
    ["maxScaleUpStep equal to the jump", { maxScaleUpStep: 4 }, 200, 4, "up", 8],
    ["maxScaleUpStep 1", { maxScaleUpStep: 1 }, 1000, 4, "up", 5],
    ["max clamps after the step limit", { maxScaleUpStep: 5, maxProcesses: 10 }, 200, 8, "up", 10],
    ["maxScaleDownStep limits a big drop", { maxScaleDownStep: 1 }, 25, 8, "down", 7],
    ["maxScaleDownStep does not limit a small one", { maxScaleDownStep: 3 }, 75, 8, "down", 6],
    ["min clamps after the step limit", { maxScaleDownStep: 5, minProcesses: 4 }, 10, 8, "down", 4],
    ["maxScaleDownStep leaves scaling up alone", { maxScaleDownStep: 1 }, 300, 4, "up", 12],
    ["maxScaleUpStep leaves scaling down alone", { maxScaleUpStep: 1 }, 25, 8, "down", 2],
  ])("%s", (_label, overrides, value, current, action, target) => {
    expect(once(config(overrides), per(value), { current })).toMatchObject({
      action,
      target,
      conditions: [],
    });
  });

  it("says when a step limit applies", () => {
    expect(once(config({ maxScaleUpStep: 2 }), per(300), { current: 4 }).reason).toBe(
      "300 per process against a target of 100 recommends 12, 6 at most by the scale-up policy (2 processes per 1 s)",
    );
    expect(once(config({ maxScaleDownStep: 1 }), per(25), { current: 8 }).reason).toBe(
      "25 per process against a target of 100 recommends 2, 7 at least by the scale-down policy (1 process per 1 s)",
    );
  });

  it("applies the down step limit after the window", () => {
    const d = once(stabilized({ maxScaleDownStep: 2 }), per(10), {
      current: 10,
      state: withRecommendations([2, 7]),
    });
    expect(d).toMatchObject({ action: "down", target: 8 });
    expect(d.reason).toBe(
      "10 per process against a target of 100 recommends 1; down to 7, the highest within the last 300 s, 8 at least by the scale-down policy (2 processes per 1 s)",
    );
  });
});

describe("decideTargetTracking: failed readings", () => {
  it.each<[string, Record<string, unknown>, number, number]>([
    ["up by the increment (default 1)", {}, 4, 5],
    ["up by the increment", { increment: 3 }, 4, 7],
    ["up by maxScaleUpStep when set", { increment: 3, maxScaleUpStep: 2 }, 4, 6],
    ["clamped at max", { maxProcesses: 5, increment: 3 }, 4, 5],
    ["from 0 (min 0)", { minProcesses: 0 }, 0, 1],
  ])("a failed reading counts as overload: %s", (_label, overrides, current, target) => {
    expect(once(config(overrides), failed(), { current })).toMatchObject({
      action: "up",
      target,
      conditions: [],
    });
  });

  it("explains it, and records a null value with the recommendation", () => {
    const d = once(config(), failed(5000), { current: 4 });
    expect(d.reason).toBe(
      "the measurement failed (heartbeat answered HTTP 503): counted as overload, recommends 5",
    );
    expect(d.state.history).toEqual([{ at: T0.toMillis(), value: null }]);
    expect(d.state.recommendations).toEqual([[T0.toMillis(), 5]]);
  });

  it("counts an ok reading without a value as overload", () => {
    const noValue: Reading = { backend: "queue", value: null, unit: "jobs", ok: true };
    const d = once(config(), noValue, { current: 4 });
    expect(d).toMatchObject({ action: "up", target: 5 });
    expect(d.reason).toBe("the measurement failed: counted as overload, recommends 5");
  });

  it('holds at max, reporting "above-max"', () => {
    expect(once(config({ maxProcesses: 4 }), failed(), { current: 4 })).toMatchObject({
      action: "hold",
      conditions: ["above-max"],
    });
  });

  it("blocks scaling down for the window after it", () => {
    const decisions = run(stabilized({ maxProcesses: 4 }), [failed(), per(40), per(40)], { current: 4 });
    expect(decisions.map((d) => d.action)).toEqual(["hold", "hold", "hold"]);
    expect(last(decisions).reason).toContain("the highest within the last 300 s is 5");
  });

  it("holds on a failure that means unknown, without recording it (the prelude)", () => {
    const state = withRecommendations([1, 4]);
    const d = once(stabilized(), unreachable, { current: 4, state });
    expect(d).toMatchObject({ action: "hold", target: 4, conditions: [] });
    expect(d.reason).toBe("holding: the measurement failed (broker unreachable)");
    expect(d.state).toEqual(state);
  });
});

describe("decideTargetTracking: cool-downs", () => {
  const scaled = afterScale(2, 4);

  it("holds without recording while both directions cool down", () => {
    const d = once(config({ postScaleWaitSeconds: 60 }), per(300), {
      state: scaled,
      now: T0.plus({ seconds: 20 }),
    });
    expect(d).toMatchObject({
      action: "hold",
      target: 4,
      reason: "cooling down for 40 s after the last scale",
    });
    expect(d.state).toEqual(scaled);
  });

  it("acts at exactly postScaleWaitSeconds after the scale", () => {
    const d = once(config({ postScaleWaitSeconds: 60 }), per(300), {
      state: scaled,
      now: T0.plus({ seconds: 60 }),
    });
    expect(d).toMatchObject({ action: "up", target: 12 });
  });

  describe("a short scale-up cool-down and a long scale-down one", () => {
    const cfg = config({ scaleUpCooldownSeconds: 120, scaleDownCooldownSeconds: 600 });

    it.each<[number, number, string, number, string]>([
      [60, 300, "hold", 4, "cooling down for 60 s after the last scale"],
      [60, 25, "hold", 4, "cooling down for 60 s after the last scale"],
      [120, 300, "up", 12, "300 per process against a target of 100 recommends 12"],
      [180, 25, "hold", 4, "cooling down for 420 s before scaling down"],
      [600, 25, "down", 1, "25 per process against a target of 100 recommends 1"],
    ])("%d s after the scale, %d per process: %s %d", (seconds, value, action, target, reason) => {
      expect(once(cfg, per(value), { state: scaled, now: T0.plus({ seconds }) })).toMatchObject({
        action,
        target,
        reason,
      });
    });

    it("records the recommendation while scaling down waits", () => {
      const d = once(cfg, per(25), { state: scaled, now: T0.plus({ seconds: 180 }) });
      expect(d.state.history).toEqual([{ at: T0.plus({ seconds: 180 }).toMillis(), value: 25 }]);
      expect(d.state.recommendations).toEqual([[T0.plus({ seconds: 180 }).toMillis(), 1]]);
    });
  });

  describe("a long scale-up cool-down and a short scale-down one", () => {
    const cfg = config({ scaleUpCooldownSeconds: 900, scaleDownCooldownSeconds: 30 });

    it.each<[number, number, string, number, string]>([
      [10, 25, "hold", 4, "cooling down for 20 s after the last scale"],
      [30, 25, "down", 1, "25 per process against a target of 100 recommends 1"],
      [30, 300, "hold", 4, "cooling down for 870 s before scaling up"],
      [900, 300, "up", 12, "300 per process against a target of 100 recommends 12"],
    ])("%d s after the scale, %d per process: %s %d", (seconds, value, action, target, reason) => {
      expect(once(cfg, per(value), { state: scaled, now: T0.plus({ seconds }) })).toMatchObject({
        action,
        target,
        reason,
      });
    });
  });

  it("the window and the scale-down cool-down both apply: the later one wins", () => {
    // The recommendation of 4 behind the scale to 4 blocks scaling below 4 for 300 s; the
    // scale-down cool-down is 60 s.
    const cfg = stabilized({ scaleDownCooldownSeconds: 60, scaleUpCooldownSeconds: 0 });
    const behind = afterScale(2, 4, T0, withRecommendations([0, 4]));
    expect(once(cfg, per(25), { state: behind, now: T0.plus({ seconds: 90 }) })).toMatchObject({
      action: "hold",
      target: 4,
    });
    expect(once(cfg, per(25), { state: behind, now: T0.plus({ seconds: 300 }) })).toMatchObject({
      action: "down",
      target: 1,
    });
  });
});

describe("decideTargetTracking: the prelude still applies", () => {
  it("fail-safe: a failed heartbeat scales straight to max", () => {
    const d = once(config({ failSafe: {}, maxProcesses: 9 }), failed(), { current: 2 });
    expect(d).toMatchObject({ action: "up", target: 9, conditions: ["fail-safe"] });
  });

  it("fail-safe: a slow heartbeat scales to the fail-safe's count, beyond the step limit", () => {
    const slow: Reading = { backend: "response-time", value: 8000, unit: "ms", ok: true };
    const d = once(config({ failSafe: { processes: 7 }, maxScaleUpStep: 1 }), slow, { current: 2 });
    expect(d).toMatchObject({ action: "up", target: 7, conditions: ["fail-safe"] });
  });

  it("schedule: an exact entry pins the count", () => {
    const cfg = config({ schedule: [{ cron: "0 7 * * *", processes: 3, mode: "exact" }] });
    expect(once(cfg, per(100), { current: 6 })).toMatchObject({
      action: "down",
      target: 3,
      bounds: { min: 3, max: 3 },
      reason: "6 is above the maximum of 3",
    });
    expect(once(cfg, per(400), { current: 3 })).toMatchObject({ action: "hold", conditions: ["above-max"] });
  });

  it("schedule: a floor entry raises the minimum and tracking works above it", () => {
    const cfg = config({ schedule: [{ cron: "0 7 * * *", processes: 5 }] });
    expect(once(cfg, per(10), { current: 8 })).toMatchObject({ action: "down", target: 5 });
    expect(once(cfg, per(200), { current: 5 })).toMatchObject({ action: "up", target: 10 });
  });

  it("an app-asked count (desired) wins over tracking", () => {
    const reading: Reading = { backend: "app-json", value: 500, unit: "count", ok: true, desired: 6 };
    expect(once(config(), reading, { current: 4 })).toMatchObject({ action: "up", target: 6 });
  });
});

describe("decideTargetTracking: several metrics (targets)", () => {
  const targets = config({ targetValue: undefined, targets: { utilisation: 60, queueTimeP95Ms: 200 } });
  const measured = (metrics: Record<string, number | null>): Reading => ({
    backend: "request-metrics",
    value: metrics.utilisation ?? null,
    unit: "count",
    ok: true,
    metrics,
  });

  it("the largest recommendation wins, and says which metric it is", () => {
    const d = once(targets, measured({ utilisation: 90, queueTimeP95Ms: 300 }), { current: 4 });
    expect(d).toMatchObject({ action: "up", target: 6 });
    expect(d.reason).toBe("utilisation 90 per process against a target of 60 recommends 6");
    const latency = once(targets, measured({ utilisation: 30, queueTimeP95Ms: 500 }), { current: 4 });
    expect(latency).toMatchObject({ action: "up", target: 10 });
    expect(latency.reason).toBe("queueTimeP95Ms 500 per process against a target of 200 recommends 10");
  });

  it("each metric has its own tolerance band: one within it holds only if none is out", () => {
    expect(once(targets, measured({ utilisation: 62, queueTimeP95Ms: 190 }), { current: 4 }).action).toBe(
      "hold",
    );
    expect(once(targets, measured({ utilisation: 62, queueTimeP95Ms: 100 }), { current: 4 }).action).toBe(
      "hold",
    );
    expect(once(targets, measured({ utilisation: 30, queueTimeP95Ms: 100 }), { current: 4 })).toMatchObject({
      action: "down",
      target: 2,
    });
  });

  it.each<[string, Record<string, number | null>, string, number]>([
    ["a null metric, the other high: scales up", { utilisation: null, queueTimeP95Ms: 400 }, "up", 8],
    ["a metric left out, the other high: scales up", { queueTimeP95Ms: 400 }, "up", 8],
    ["a null metric, the other low: holds", { utilisation: null, queueTimeP95Ms: 50 }, "hold", 4],
    ["a NaN metric, the other low: holds", { utilisation: NaN, queueTimeP95Ms: 50 }, "hold", 4],
    [
      "a null metric, the other within the band: holds",
      { utilisation: null, queueTimeP95Ms: 200 },
      "hold",
      4,
    ],
    ["both missing: holds", { utilisation: null }, "hold", 4],
  ])("a failed or missing metric never lets the others scale down: %s", (_label, metrics, action, target) => {
    expect(once(targets, measured(metrics), { current: 4 })).toMatchObject({ action, target });
  });

  it("explains the holds, and keeps no recommendation for them", () => {
    const state = withRecommendations([1, 4]);
    const low = once(targets, measured({ utilisation: null, queueTimeP95Ms: 50 }), { current: 4, state });
    expect(low.reason).toBe(
      "queueTimeP95Ms 50 per process against a target of 200 recommends 1, but utilisation is missing: holding rather than scaling down",
    );
    expect(low.state.recommendations).toEqual(state.recommendations);
    expect(low.state.history).toEqual([{ at: T0.toMillis(), value: null }]);
    const none = once(targets, measured({}), { current: 4, state });
    expect(none.reason).toBe("holding: no tracked metric in the reading (utilisation, queueTimeP95Ms)");
    expect(none.state.recommendations).toEqual(state.recommendations);
  });

  it("while a metric is missing no recommendation is kept, so the window still reads the ones before", () => {
    // Three low readings with one metric missing, then both present and low: the 4 of a minute before still holds.
    const readings = [
      ...repeat(measured({ utilisation: null, queueTimeP95Ms: 50 }), 3),
      measured({ utilisation: 20, queueTimeP95Ms: 50 }),
    ];
    const decisions = run(
      stabilized({ targetValue: undefined, targets: { utilisation: 60, queueTimeP95Ms: 200 } }),
      readings,
      {
        state: withRecommendations([1, 4]),
      },
    );
    expect(decisions.map((d) => d.action)).toEqual(["hold", "hold", "hold", "hold"]);
    expect(last(decisions).reason).toContain("the highest within the last 300 s is 4");
  });

  it("a failed reading is overload as with targetValue; one that means unknown holds", () => {
    expect(once(targets, failed(), { current: 4 })).toMatchObject({ action: "up", target: 5 });
    expect(once(targets, unreachable, { current: 4 })).toMatchObject({ action: "hold", target: 4 });
  });

  it("valueIs total applies to every target", () => {
    const totals = config({ targetValue: undefined, valueIs: "total", targets: { waiting: 10, due: 5 } });
    const reading: Reading = {
      backend: "queue",
      value: 40,
      unit: "jobs",
      ok: true,
      metrics: { waiting: 40, due: 30 },
    };
    expect(once(totals, reading, { current: 2 })).toMatchObject({ action: "up", target: 6 });
  });

  it("the band is the first target's", () => {
    expect(targetTracking.band(targets)).toEqual({ low: 54, high: 66, target: 60, perProcess: false });
  });
});

describe("decideTargetTracking: the scale-up stabilization window", () => {
  const cfg = stabilized({ behavior: { scaleUp: { stabilizationWindowSeconds: 180 } } });

  it("scales up only to the lowest recommendation within the window", () => {
    const d = once(cfg, per(200), { current: 4, state: withRecommendations([1, 6], [2, 5]) });
    expect(d).toMatchObject({ action: "up", target: 5 });
    expect(d.reason).toBe(
      "200 per process against a target of 100 recommends 8; up to 5, the lowest within the last 180 s",
    );
  });

  it("holds while a recommendation within the window is the current count or lower", () => {
    const d = once(cfg, per(200), { current: 4, state: withRecommendations([2, 3]) });
    expect(d).toMatchObject({ action: "hold", target: 4 });
    expect(d.reason).toBe(
      "200 per process against a target of 100 recommends 8, but the lowest within the last 180 s is 3",
    );
  });

  it("a sustained rise scales up once the low recommendations age out; a spike alone never does", () => {
    const sustained = run(cfg, [per(100), ...repeat(per(200), 4)]);
    expect(sustained.map((d) => `${d.action}:${d.target}`)).toEqual([
      "hold:4",
      "hold:4",
      "hold:4",
      "up:8",
      "up:8",
    ]);
    const spikes = run(cfg, [100, 200, 100, 200, 100, 200].map(per));
    expect(spikes.every((d) => d.action === "hold")).toBe(true);
  });
});

describe("decideTargetTracking: policies say why they hold", () => {
  it("up: a period's allowance used up", () => {
    const cfg = config({
      behavior: { scaleUp: { policies: [{ type: "Pods", value: 2, periodSeconds: 300 }] } },
    });
    const state: DecisionState = {
      ...emptyDecisionState(),
      scales: [{ at: T0.toMillis() - 2 * MINUTE_MS, from: 2, to: 4 }],
    };
    const d = once(cfg, per(300), { current: 4, state });
    expect(d).toMatchObject({ action: "hold", target: 4, conditions: [] });
    expect(d.reason).toBe(
      "300 per process against a target of 100 recommends 12, but the scale-up policy (2 processes per 300 s) allows no more now",
    );
    expect(once(cfg, per(300), { current: 4, state, now: T0.plus({ minutes: 3 }) })).toMatchObject({
      action: "up",
      target: 6,
    });
  });

  it("down: Disabled never scales down, whatever the window", () => {
    const cfg = config({ behavior: { scaleDown: { selectPolicy: "Disabled" } } });
    const d = once(cfg, per(10), { current: 8 });
    expect(d).toMatchObject({ action: "hold", target: 8 });
    expect(d.reason).toBe(
      "10 per process against a target of 100 recommends 1, but scaling down is disabled (selectPolicy Disabled)",
    );
  });

  it("the maximum is said before the policy", () => {
    const cfg = config({ maxProcesses: 4, behavior: { scaleUp: { selectPolicy: "Disabled" } } });
    expect(once(cfg, per(300), { current: 4 })).toMatchObject({ action: "hold", conditions: ["above-max"] });
  });

  it("scaleRecordsMs is the longest policy period (the stabilization reads no scale records)", () => {
    expect(targetTracking.scaleRecordsMs!(stabilized())).toBe(0);
    expect(targetTracking.scaleRecordsMs!(stabilized({ maxScaleDownStep: 2 }))).toBe(1000);
    const both = stabilized({
      behavior: {
        scaleUp: { policies: [{ type: "Pods", value: 4, periodSeconds: 60 }] },
        scaleDown: { policies: [{ type: "Percent", value: 10, periodSeconds: 600 }] },
      },
    });
    expect(targetTracking.scaleRecordsMs!(both)).toBe(600_000);
  });
});
