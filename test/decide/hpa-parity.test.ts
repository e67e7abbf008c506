import { describe, expect, it } from "vitest";
import { emptyDecisionState, type DecisionState, type ScaleRecord } from "../../src/decide/decision-state.js";
import { decideTargetTracking, targetTrackingSchema } from "../../src/decide/target-tracking.js";
import type { Reading } from "../../src/measure/types.js";
import { followDecisions, T0 } from "../helpers/decide.js";

/**
 * Target tracking against the cases of Kubernetes' own HPA tests (pkg/controller/podautoscaler:
 * horizontal_test.go and replica_calculator_test.go), restated in this backend's terms: the
 * same inputs, HPA's expected count. docs/backends.md ("Target tracking and Kubernetes' HPA")
 * carries the tally; `differs` names a documented difference and why.
 *
 * The behavior cases (HPA feeds `prenormalizedDesiredReplicas` in) use a total against a target
 * of 1 with no tolerance, so the recommendation is the reading's value: `desired`.
 */

type Policy = { type: "Pods" | "Percent"; value: number; periodSeconds: number };
type Rules = {
  stabilizationWindowSeconds?: number;
  selectPolicy?: "Max" | "Min" | "Disabled";
  policies?: Policy[];
};

/** HPA's test helper generateScalingRules(pods, podsPeriod, percent, percentPeriod, window), Max selected. */
function rules(
  pods: number,
  podsPeriod: number,
  percent: number,
  percentPeriod: number,
  window: number,
): Rules {
  const policies: Policy[] = [];
  if (pods !== 0) policies.push({ type: "Pods", value: pods, periodSeconds: podsPeriod });
  if (percent !== 0) policies.push({ type: "Percent", value: percent, periodSeconds: percentPeriod });
  return {
    stabilizationWindowSeconds: window,
    selectPolicy: "Max",
    ...(policies.length ? { policies } : {}),
  };
}

/**
 * HPA's generateEventsUniformDistribution: the changes spread evenly over the last
 * `periodSeconds`, each in the middle of its share, oldest first, as scale records.
 */
function events(changes: number[], periodSeconds: number, direction: "up" | "down"): ScaleRecord[] {
  const share = periodSeconds / changes.length;
  return changes.map((change, i) => {
    const secondsAgo = periodSeconds - share * (i + 1) + share / 2;
    const at = T0.toMillis() - secondsAgo * 1000;
    return direction === "up" ? { at, from: 0, to: change } : { at, from: change, to: 0 };
  });
}

/** Recommendations kept, `minutesAgo` before T0, as HPA's tests list them. */
const kept = (...entries: [recommendation: number, minutesAgo: number][]): [number, number][] =>
  entries
    .map(([recommendation, minutesAgo]): [number, number] => [
      T0.toMillis() - minutesAgo * 60_000,
      recommendation,
    ])
    .sort((a, b) => a[0] - b[0]);

interface BehaviorCase {
  name: string;
  current: number;
  desired: number;
  expected: number;
  min?: number;
  max?: number;
  scaleUp?: Rules;
  scaleDown?: Rules;
  scales?: ScaleRecord[];
  recommendations?: [number, number][];
  differs?: string;
}

const NO_DEFAULT_POLICIES =
  "HPA's default scale-up policies (100% or 4 pods per 15 s) are not applied: none by default here";

/** horizontal_test.go TestScalingWithRules (convertDesiredReplicasWithBehaviorRate). */
const scalingWithRules: BehaviorCase[] = [
  {
    name: "prenormalized desired replicas within range",
    current: 5,
    desired: 7,
    min: 3,
    max: 8,
    expected: 7,
  },
  {
    name: "prenormalized desired replicas < minReplicas",
    current: 3,
    desired: 1,
    min: 2,
    max: 8,
    expected: 2,
  },
  {
    name: "desired 0 within range when minReplicas is 0",
    current: 1,
    desired: 0,
    min: 0,
    max: 10,
    expected: 0,
  },
  { name: "maxReplicas is the limit (current above it)", current: 20, desired: 1000, max: 10, expected: 10 },
  { name: "desired more than the maximum", current: 100, desired: 1000, min: 100, max: 150, expected: 150 },
  {
    name: "scaleUpLimit < maxReplicas with user policies",
    current: 3,
    desired: 1000,
    max: 2000,
    scaleUp: rules(0, 0, 1, 60, 0),
    expected: 4,
  },
  {
    name: "scaleDownLimit > minReplicas with user policies (skipped by HPA's own run: testThis)",
    current: 1000,
    desired: 3,
    min: 3,
    max: 2000,
    scaleDown: rules(20, 60, 0, 0, 0),
    expected: 980,
  },
  {
    name: "scaleUp with default behavior",
    current: 10,
    desired: 50,
    expected: 20,
    differs: NO_DEFAULT_POLICIES,
  },
  {
    name: "scaleUp, pods policy larger than percent",
    current: 10,
    desired: 500,
    scaleUp: rules(100, 60, 100, 60, 0),
    expected: 110,
  },
  {
    name: "scaleUp, percent policy larger than pods",
    current: 10,
    desired: 500,
    scaleUp: rules(2, 60, 100, 60, 0),
    expected: 20,
  },
  {
    name: "scaleUp, large pods policy",
    current: 10,
    desired: 50,
    scaleUp: rules(100, 60, 0, 0, 0),
    expected: 50,
  },
  {
    name: "scaleUp, large percent policy",
    current: 10,
    desired: 50,
    scaleUp: rules(10000, 60, 0, 0, 0),
    expected: 50,
  },
  {
    name: "scaleUp with pod policy limitation",
    current: 10,
    desired: 50,
    scaleUp: rules(30, 60, 0, 0, 0),
    expected: 40,
  },
  {
    name: "scaleUp with percent policy limitation",
    current: 10,
    desired: 50,
    scaleUp: rules(0, 0, 200, 60, 0),
    expected: 30,
  },
  {
    name: "scaleDown, percent policy larger than pods",
    current: 100,
    desired: 2,
    scaleDown: rules(20, 60, 1, 60, 300),
    expected: 80,
  },
  {
    name: "scaleDown, pods policy larger than percent",
    current: 100,
    desired: 2,
    scaleDown: rules(2, 60, 1, 60, 300),
    expected: 98,
  },
  {
    name: "scaleDown, MinReplicas with large pods policy",
    current: 10,
    desired: 0,
    scaleDown: rules(100, 60, 0, 0, 300),
    expected: 1,
  },
  {
    name: "scaleDown, MinReplicas with large percent policy",
    current: 10,
    desired: 2,
    min: 5,
    scaleDown: rules(0, 0, 100, 60, 300),
    expected: 5,
  },
  {
    name: "scaleDown with pod policy limitation",
    current: 10,
    desired: 2,
    scaleDown: rules(5, 60, 0, 0, 300),
    expected: 5,
  },
  {
    name: "scaleDown with percent policy limitation",
    current: 10,
    desired: 5,
    scaleDown: rules(0, 0, 50, 60, 300),
    expected: 5,
  },
  {
    name: "scaleUp, MaxReplicas with large pods policy and events",
    current: 100,
    desired: 500,
    max: 200,
    scales: events([1, 5, 9], 120, "up"),
    scaleUp: rules(300, 60, 0, 0, 0),
    expected: 200,
  },
  {
    name: "scaleUp, MaxReplicas with large percent policy and events",
    current: 100,
    desired: 500,
    max: 200,
    scales: events([1, 5, 9], 120, "up"),
    scaleUp: rules(0, 0, 10000, 60, 0),
    expected: 200,
  },
  {
    name: "scaleUp, many recent scale-ups leave no room (100 − 15 + 5 < 100)",
    current: 100,
    desired: 500,
    scales: events([1, 5, 9], 120, "up"),
    scaleUp: rules(5, 120, 0, 0, 0),
    expected: 100,
  },
  {
    name: "scaleUp, pods policy and previous scale-ups (100 − 15 + 150)",
    current: 100,
    desired: 500,
    scales: events([1, 5, 9], 120, "up"),
    scaleUp: rules(150, 120, 0, 0, 0),
    expected: 235,
  },
  {
    name: "scaleUp, percent policy and previous scale-ups ((100 − 15) + 200%)",
    current: 100,
    desired: 500,
    scales: events([1, 5, 9], 120, "up"),
    scaleUp: rules(0, 0, 200, 120, 0),
    expected: 255,
  },
  {
    name: "scaleDown, default policy and previous events",
    current: 10,
    desired: 5,
    scales: events([1, 5, 9], 120, "down"),
    expected: 5,
  },
  {
    name: "scaleDown, MinReplicas with large pods policy and previous events",
    current: 100,
    desired: 0,
    scales: events([1, 5, 9], 120, "down"),
    scaleDown: rules(115, 120, 0, 0, 300),
    expected: 1,
  },
  {
    name: "scaleDown, MinReplicas 5 with large pods policy and previous events",
    current: 100,
    desired: 0,
    min: 5,
    scales: events([1, 5, 9], 120, "down"),
    scaleDown: rules(130, 120, 0, 0, 300),
    expected: 5,
  },
  {
    name: "scaleDown, MinReplicas 5 with 100% policy and previous events",
    current: 100,
    desired: 2,
    min: 5,
    scales: events([1, 5, 9], 120, "down"),
    scaleDown: rules(0, 0, 100, 120, 300),
    expected: 5,
  },
  {
    name: "scaleDown, pods policy and previous events (100 + 15 − 5 > 100)",
    current: 100,
    desired: 2,
    scales: events([1, 5, 9], 120, "down"),
    scaleDown: rules(5, 120, 0, 0, 300),
    expected: 100,
  },
  {
    name: "scaleDown, percent policy and previous events ((100 + 12) − 50%)",
    current: 100,
    desired: 0,
    scales: events([2, 4, 6], 120, "down"),
    scaleDown: rules(0, 0, 50, 120, 300),
    expected: 56,
  },
  {
    name: "scaleDown, previous events prevent more ((100 + 30) − 10% = 117)",
    current: 100,
    desired: 0,
    scales: events([10, 10, 10], 120, "down"),
    scaleDown: rules(0, 0, 10, 120, 300),
    expected: 100,
  },
  {
    name: "scaleDown, previous events still allow more ((10 + 30) − 1000% < 0)",
    current: 10,
    desired: 5,
    scales: events([10, 10, 10], 120, "down"),
    scaleDown: rules(0, 0, 1000, 120, 300),
    expected: 5,
  },
  {
    name: "scaleUp, events outside one policy's period",
    current: 100,
    desired: 200,
    scales: events([8, 12, 9, 11], 120, "up"),
    scaleUp: rules(1000, 60, 0, 0, 0),
    expected: 200,
  },
  {
    name: "scaleUp, events within a longer policy's period",
    current: 100,
    desired: 200,
    scales: events([8, 12, 9, 11], 120, "up"),
    scaleUp: rules(1000, 120, 100, 60, 0),
    expected: 200,
  },
  {
    name: "scaleUp, events outside both policies' periods",
    current: 100,
    desired: 200,
    scales: events([8, 12, 9, 11], 120, "up"),
    scaleUp: rules(1000, 30, 100, 60, 0),
    expected: 200,
  },
  {
    name: "scaleDown, events outside one policy's period",
    current: 100,
    desired: 5,
    scales: events([8, 12, 9, 11], 120, "down"),
    scaleDown: rules(1000, 60, 0, 0, 300),
    expected: 5,
  },
  {
    name: "scaleDown, events within a longer policy's period",
    current: 100,
    desired: 5,
    scales: events([8, 12, 9, 11], 120, "down"),
    scaleDown: rules(1000, 120, 100, 60, 300),
    expected: 5,
  },
  {
    name: "scaleDown, events outside both policies' periods",
    current: 100,
    desired: 5,
    scales: events([8, 12, 9, 11], 120, "down"),
    scaleDown: rules(1000, 30, 100, 60, 300),
    expected: 5,
  },
];

const minPolicies: Policy[] = [
  { type: "Pods", value: 2, periodSeconds: 60 },
  { type: "Percent", value: 50, periodSeconds: 60 },
];

/**
 * TestCalculateScaleUpLimitWithScalingRules / TestCalculateScaleDownLimitWithBehaviors; the rest
 * (marked "horizontal.go") follow its calculateScale{Up,Down}Limit… where its tests have no case.
 */
const selectPolicy: BehaviorCase[] = [
  {
    name: "scale-up limit, Min of 2 pods and 50% from 1 (ceil 1.5 = 2)",
    current: 1,
    desired: 10,
    scaleUp: { selectPolicy: "Min", policies: minPolicies },
    expected: 2,
  },
  {
    name: "scale-down limit, Min of 2 pods and 50% from 5 (5 − 2 = 3 against trunc 2.5 = 2)",
    current: 5,
    desired: 1,
    scaleDown: { selectPolicy: "Min", policies: minPolicies },
    expected: 3,
  },
  {
    name: "scale-up, Max of the same: 1 + 2 = 3 (horizontal.go)",
    current: 1,
    desired: 10,
    scaleUp: { selectPolicy: "Max", policies: minPolicies },
    expected: 3,
  },
  {
    name: "scale-down, Max of the same: trunc 2.5 = 2 (horizontal.go)",
    current: 5,
    desired: 1,
    scaleDown: { selectPolicy: "Max", policies: minPolicies },
    expected: 2,
  },
  {
    name: "scale-up Disabled (horizontal.go)",
    current: 5,
    desired: 10,
    scaleUp: { selectPolicy: "Disabled" },
    expected: 5,
  },
  {
    name: "scale-down Disabled (horizontal.go)",
    current: 5,
    desired: 1,
    scaleDown: { selectPolicy: "Disabled" },
    expected: 5,
  },
  {
    name: "scale-down Disabled leaves scaling up alone (horizontal.go)",
    current: 5,
    desired: 10,
    scaleDown: { selectPolicy: "Disabled" },
    expected: 10,
  },
];

/** A stabilization case: the windows in seconds (none given: the defaults). */
function stabilized(
  name: string,
  current: number,
  desired: number,
  expected: number,
  windows: { up?: number; down?: number },
  ...earlier: [recommendation: number, minutesAgo: number][]
): BehaviorCase {
  const recommendations = kept(...earlier);
  return {
    name,
    current,
    desired,
    expected,
    ...(recommendations.length > 0 ? { recommendations } : {}),
    ...(windows.up === undefined ? {} : { scaleUp: { stabilizationWindowSeconds: windows.up } }),
    ...(windows.down === undefined ? {} : { scaleDown: { stabilizationWindowSeconds: windows.down } }),
  };
}

/**
 * TestNormalizeDesiredReplicasWithBehavior (stabilizeRecommendationWithBehaviors): name, current,
 * desired, expected, windows, then the earlier recommendations as [count, minutes ago].
 */
const stabilization: BehaviorCase[] = [
  stabilized("empty recommendations for scaling down", 100, 5, 5, { down: 0 }),
  stabilized("simple scale down stabilization", 100, 3, 5, { down: 180 }, [4, 2], [5, 1]),
  stabilized("simple scale up stabilization", 1, 7, 4, { up: 300, down: 0 }, [4, 2], [5, 1]),
  stabilized("no scale down stabilization", 100, 3, 3, { up: 300, down: 0 }, [1, 2], [2, 1]),
  stabilized("no scale up stabilization", 1, 3, 3, { down: 300 }, [4, 2], [5, 1]),
  stabilized("no scale down stabilization, old recommendations", 100, 3, 3, { down: 0 }, [10, 10], [9, 9]),
  stabilized("no scale up stabilization, old recommendations", 1, 100, 100, { down: 0 }, [10, 10], [9, 9]),
  stabilized("down, among obsolete ones", 100, 3, 5, { down: 180 }, [10, 10], [4, 1], [5, 2], [9, 9]),
  stabilized("up, among obsolete ones", 1, 100, 5, { up: 300, down: 0 }, [10, 100], [6, 1], [5, 2], [9, 3]),
  stabilized("both windows, going down: no scale up", 2, 1, 2, { up: 300, down: 300 }, [2, 100], [3, 3]),
  stabilized("both windows, going up: no scale down", 2, 3, 2, { up: 300, down: 300 }, [2, 100], [1, 3]),
  stabilized("TestNormalizeDesiredReplicas: stabilize", 100, 3, 5, {}, [4, 2], [5, 1]),
  stabilized("TestNormalizeDesiredReplicas: among old ones", 100, 3, 5, {}, [10, 10], [4, 1], [5, 2], [9, 9]),
];

/** The tolerance is 0 here, so the value is the recommendation (a total against 1 per process). */
function decideCase(c: BehaviorCase) {
  const behavior = {
    ...(c.scaleUp ? { scaleUp: c.scaleUp } : {}),
    ...(c.scaleDown ? { scaleDown: c.scaleDown } : {}),
  };
  const config = targetTrackingSchema.parse({
    backend: "target-tracking",
    targetValue: 1,
    valueIs: "total",
    tolerance: 0,
    minProcesses: c.min ?? 1,
    maxProcesses: c.max ?? 1000,
    postScaleWaitSeconds: 0,
    behavior,
  });
  const state: DecisionState = {
    ...emptyDecisionState(),
    scales: c.scales ?? [],
    ...(c.recommendations ? { recommendations: c.recommendations } : {}),
  };
  const reading: Reading = { backend: "hpa", value: c.desired, unit: "count", ok: true };
  return decideTargetTracking({ config, state, reading, current: c.current, now: T0 });
}

describe.each([
  ["TestScalingWithRules", scalingWithRules],
  ["selectPolicy", selectPolicy],
  ["stabilization", stabilization],
])("HPA's %s cases", (_group, cases) => {
  it.each(cases.filter((c) => !c.differs))("$name: $current → $expected", (c) => {
    expect(decideCase(c).target).toBe(c.expected);
  });

  const differing = cases.filter((c) => c.differs);
  if (differing.length)
    it.each(differing)("$name differs ($differs)", (c) => {
      expect(decideCase(c).target).not.toBe(c.expected);
    });
});

interface MetricCase {
  name: string;
  current: number;
  expected: number;
  /** The reading: a value for targetValue, or metrics for targets. */
  value?: number;
  metrics?: Record<string, number | null>;
  settings: Record<string, unknown>;
  min?: number;
  max?: number;
}

/** replica_calculator_test.go and horizontal_test.go's controller cases, as aggregate readings. */
const replicaCalculator: MetricCase[] = [
  // TestReplicaCalcScaleUp: CPU 300/500/700m of 1000m each is 50% against 30%.
  { name: "ReplicaCalcScaleUp", current: 3, value: 50, settings: { targetValue: 30 }, expected: 5 },
  // TestReplicaCalcScaleUpCM: 20/10/30 qps against 15 per pod.
  { name: "ReplicaCalcScaleUpCM", current: 3, value: 20, settings: { targetValue: 15 }, expected: 4 },
  // TestReplicaCalcScaleUpCMExternal: a Value target, 8600 against 4400, is ratio × current.
  {
    name: "ReplicaCalcScaleUpCMExternal (Value)",
    current: 1,
    value: 8600,
    settings: { targetValue: 4400 },
    expected: 2,
  },
  // TestReplicaCalcScaleUpPerPodCMExternal: an AverageValue target is valueIs total.
  {
    name: "ReplicaCalcScaleUpPerPodCMExternal (AverageValue)",
    current: 3,
    value: 8600,
    settings: { targetValue: 2150, valueIs: "total" },
    expected: 4,
  },
  // TestReplicaCalcScaleDown: 1400m of 5000m is 28% against 50%.
  { name: "ReplicaCalcScaleDown", current: 5, value: 28, settings: { targetValue: 50 }, expected: 3 },
  { name: "ReplicaCalcScaleDownCM", current: 5, value: 12, settings: { targetValue: 20 }, expected: 3 },
  {
    name: "ReplicaCalcScaleDownPerPodCMExternal",
    current: 5,
    value: 8600,
    settings: { targetValue: 2900, valueIs: "total" },
    expected: 3,
  },
  {
    name: "ReplicaCalcScaleDownExternal (Value)",
    current: 5,
    value: 8600,
    settings: { targetValue: 14334 },
    expected: 3,
  },
  // TestReplicaCalcTolerance: 1010/1030/1020m of 1000m is 102% against 100%.
  { name: "ReplicaCalcTolerance", current: 3, value: 102, settings: { targetValue: 100 }, expected: 3 },
  { name: "ReplicaCalcToleranceCM", current: 3, value: 62 / 3, settings: { targetValue: 20 }, expected: 3 },
  {
    name: "ReplicaCalcToleranceCMObject (Value)",
    current: 3,
    value: 20666,
    settings: { targetValue: 20000 },
    expected: 3,
  },
  {
    name: "ReplicaCalcTolerancePerPodCMExternal",
    current: 3,
    value: 8600,
    settings: { targetValue: 2900, valueIs: "total" },
    expected: 3,
  },
  // TestComputedToleranceAlgImplementation: 50% used, a target of int32(100 × (1 / (2 × 0.9) + 0.01)) = 56%.
  {
    name: "ComputedToleranceAlgImplementation, just past",
    current: 10,
    value: 50,
    settings: { targetValue: 56 },
    min: 0,
    expected: 9,
  },
  // ... and of int32(100 × (1 / (2 × 0.9) + 0.004)) = 55%: within the tolerance.
  {
    name: "ComputedToleranceAlgImplementation, within",
    current: 10,
    value: 50,
    settings: { targetValue: 55 },
    min: 0,
    expected: 10,
  },
  // horizontal_test.go TestScaleUp / TestScaleDown / TestMinReplicas / TestMaxReplicas / TestZeroMinReplicasDesiredZero.
  { name: "ScaleUp", current: 3, value: 50, settings: { targetValue: 30 }, min: 2, max: 6, expected: 5 },
  { name: "ScaleDown", current: 5, value: 28, settings: { targetValue: 50 }, min: 2, max: 6, expected: 3 },
  {
    name: "MinReplicas",
    current: 3,
    value: 115 / 3,
    settings: { targetValue: 90 },
    min: 2,
    max: 5,
    expected: 2,
  },
  {
    name: "MaxReplicas",
    current: 3,
    value: 6167,
    settings: { targetValue: 90 },
    min: 2,
    max: 5,
    expected: 5,
  },
  {
    name: "ZeroMinReplicasDesiredZero",
    current: 3,
    value: 0,
    settings: { targetValue: 90 },
    min: 0,
    expected: 0,
  },
  {
    name: "ScaleUpRCImmediately (below min)",
    current: 1,
    value: 0,
    settings: { targetValue: 90 },
    min: 2,
    max: 6,
    expected: 2,
  },
  {
    name: "ScaleDownRCImmediately (above max)",
    current: 6,
    value: 5000,
    settings: { targetValue: 50 },
    min: 2,
    max: 5,
    expected: 5,
  },
  // Several metrics (computeReplicasForMetrics): the largest recommendation wins; an invalid one never lets the rest scale down.
  {
    name: "ScaleUpOneMetricInvalid",
    current: 3,
    metrics: { utilisation: null, requestsPerProcess: 20 },
    settings: { targets: { utilisation: 50, requestsPerProcess: 15 } },
    expected: 4,
  },
  {
    name: "ScaleUpOneMetricEmpty",
    current: 3,
    metrics: { utilisation: 40, requestsPerProcess: null },
    settings: { targets: { utilisation: 30, requestsPerProcess: 15 } },
    min: 2,
    max: 6,
    expected: 4,
  },
  {
    name: "ScaleUpBothMetricsEmpty",
    current: 3,
    metrics: {},
    settings: { targets: { utilisation: 50, requestsPerProcess: 15 } },
    expected: 3,
  },
  {
    name: "NoScaleDownOneMetricInvalid",
    current: 5,
    metrics: { utilisation: 28, requestsPerProcess: null },
    settings: { targets: { utilisation: 50, requestsPerProcess: 15 } },
    min: 2,
    expected: 5,
  },
  {
    name: "NoScaleDownOneMetricEmpty",
    current: 5,
    metrics: { utilisation: 28 },
    settings: { targets: { utilisation: 50, requestsPerProcess: 15 } },
    min: 2,
    expected: 5,
  },
  {
    name: "several valid metrics: the largest wins (horizontal.go)",
    current: 4,
    metrics: { utilisation: 90, queueTimeP95Ms: 400 },
    settings: { targets: { utilisation: 60, queueTimeP95Ms: 200 } },
    expected: 8,
  },
  {
    name: "several valid metrics, all low: down to the largest (horizontal.go)",
    current: 10,
    metrics: { utilisation: 30, queueTimeP95Ms: 40 },
    settings: { targets: { utilisation: 60, queueTimeP95Ms: 200 } },
    expected: 5,
  },
];

function decideMetricCase(c: MetricCase) {
  const config = targetTrackingSchema.parse({
    backend: "target-tracking",
    minProcesses: c.min ?? 1,
    maxProcesses: c.max ?? 1000,
    postScaleWaitSeconds: 0,
    scaleDownStabilizationSeconds: 0,
    ...c.settings,
  });
  const reading: Reading = {
    backend: "hpa",
    value: c.value ?? null,
    unit: "count",
    ok: true,
    ...(c.metrics ? { metrics: c.metrics } : {}),
  };
  return decideTargetTracking({ config, state: emptyDecisionState(), reading, current: c.current, now: T0 });
}

describe("HPA's replica calculator and controller cases", () => {
  it.each(replicaCalculator)("$name: $current → $expected", (c) => {
    expect(decideMetricCase(c).target).toBe(c.expected);
  });

  it("says which metric is missing when it holds", () => {
    const d = decideMetricCase(replicaCalculator.find((c) => c.name === "NoScaleDownOneMetricInvalid")!);
    expect(d.reason).toBe(
      "utilisation 28 per process against a target of 50 recommends 3, but requestsPerProcess is missing: holding rather than scaling down",
    );
    // The hold keeps no recommendation: a missing metric is no low one for the window.
    expect(d.state.recommendations).toEqual([]);
  });
});

it("tallies what docs/backends.md says: 80 cases of HPA's tests and 7 of its code, one differing", () => {
  const all = [...scalingWithRules, ...selectPolicy, ...stabilization, ...replicaCalculator];
  const ofCode = all.filter((c) => c.name.endsWith("(horizontal.go)"));
  expect([all.length - ofCode.length, ofCode.length]).toEqual([80, 7]);
  expect(all.filter((c) => "differs" in c && c.differs).map((c) => c.name)).toEqual([
    "scaleUp with default behavior",
  ]);
});

describe("a step-limited scale-down over simulated minutes (the recommendations, not the count scaled to, are stabilized)", () => {
  /** A formation whose load wants 2 processes from now on: 200 in total, 100 per process. */
  const wantsTwo: Reading = { backend: "queue", value: 200, unit: "jobs", ok: true };
  const settings = (scaleDown: Rules) =>
    targetTrackingSchema.parse({
      backend: "target-tracking",
      targetValue: 100,
      valueIs: "total",
      minProcesses: 1,
      maxProcesses: 100,
      behavior: { scaleDown },
    });

  /** The platform at 100 processes, ticking every `intervalSeconds`, under one scale-down policy. */
  const from100 = (policy: Policy, intervalSeconds = 60) =>
    followDecisions(decideTargetTracking, settings({ policies: [policy] }), {
      current: 100,
      intervalSeconds,
    });
  /** The decisions expected, in the log's words: a number is a scale down to it. */
  const steps = (...expected: (number | string)[]) =>
    expected.map((step) => (typeof step === "number" ? `down:${step}` : step));

  it("2 processes per 60 s takes a step every minute, not every 300 s", () => {
    const platform = from100({ type: "Pods", value: 2, periodSeconds: 60 });
    for (let minute = 0; minute < 10; minute++) platform.tick(wantsTwo);
    expect(platform.log).toEqual(steps(98, 96, 94, 92, 90, 88, 86, 84, 82, 80));
  });

  it("the shorthand maxScaleDownStep 2 (2 per scale) with the default window: a step every minute too", () => {
    const legacy = targetTrackingSchema.parse({
      backend: "target-tracking",
      targetValue: 100,
      valueIs: "total",
      minProcesses: 1,
      maxProcesses: 100,
      maxScaleDownStep: 2,
    });
    const platform = followDecisions(decideTargetTracking, legacy, { current: 100, intervalSeconds: 60 });
    for (let minute = 0; minute < 6; minute++) platform.tick(wantsTwo);
    expect(platform.log).toEqual(steps(98, 96, 94, 92, 90, 88));
  });

  it("50% per 60 s goes from 100 to 2 in 6 minutes, as HPA does", () => {
    const platform = from100({ type: "Percent", value: 50, periodSeconds: 60 });
    for (let minute = 0; minute < 8; minute++) platform.tick(wantsTwo);
    expect(platform.log).toEqual(steps(50, 25, 12, 6, 3, 2, "hold", "hold"));
  });

  it("after a burst, waits out the window, then steps as the policy allows", () => {
    const platform = from100({ type: "Percent", value: 50, periodSeconds: 60 });
    platform.tick({ ...wantsTwo, value: 20_000 }); // recommends 200: held at the maximum
    for (let minute = 1; minute < 12; minute++) platform.tick(wantsTwo);
    // The 100 of minute 0 expires at minute 5; then 50% a minute.
    expect(platform.log).toEqual(
      steps("above-max", "hold", "hold", "hold", "hold", 50, 25, 12, 6, 3, 2, "hold"),
    );
  });

  it("two steps within one period count together (the count at the period's start)", () => {
    // Ticks every 30 s, 4 processes per 60 s: a step of 4, then none until that one is 60 s old.
    const platform = from100({ type: "Pods", value: 4, periodSeconds: 60 }, 30);
    for (let i = 0; i < 5; i++) platform.tick(wantsTwo);
    expect(platform.log).toEqual(steps(96, "hold", 92, "hold", 88));
  });
});
