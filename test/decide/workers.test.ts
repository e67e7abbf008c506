import { describe, expect, it } from "vitest";
import { emptyDecisionState } from "../../src/decide/decision-state.js";
import { decide, decisionSchema, type DecisionConfig } from "../../src/decide/registry.js";
import type { Reading } from "../../src/measure/types.js";
import { afterScale, followDecisions, MINUTE_MS, T0 } from "../helpers/decide.js";

/** 10 jobs per worker, no stabilization and no cool-downs, so only the guards hold. */
const config = (overrides: Record<string, unknown> = {}): DecisionConfig =>
  decisionSchema.parse({
    backend: "target-tracking",
    targetValue: 10,
    valueIs: "total",
    scaleDownStabilizationSeconds: 0,
    postScaleWaitSeconds: 0,
    maxProcesses: 10,
    ...overrides,
  });

/** A queue reading: `value` jobs waiting, `busy` in progress. */
const queue = (value: number, busy: number, holdScaleDownWhileBusy = true): Reading => ({
  backend: "sidekiq-queue",
  value,
  unit: "jobs",
  ok: true,
  busy,
  holdScaleDownWhileBusy,
});

const once = (
  cfg: DecisionConfig,
  reading: Reading,
  current: number,
  state = emptyDecisionState(),
  now = T0,
) => decide({ config: cfg, state, reading, current, now });

describe("scale-down held while jobs are in progress", () => {
  it("holds a scale-down while any job runs, and says so", () => {
    const held = once(config(), queue(0, 2), 4);
    expect(held).toMatchObject({ action: "hold", target: 4, conditions: ["scale-down-held-busy"] });
    expect(held.reason).toMatch(
      /^scale-down-held-busy: 2 jobs in progress; the policy would scale down to 1: /,
    );
    expect(held.state.history).toHaveLength(1); // the reading is recorded: the same rule applies next tick
    expect(once(config(), queue(0, 0), 4)).toMatchObject({ action: "down", target: 1 });
  });

  it("never holds a scale-up, and lets an app that drains on SIGTERM opt out", () => {
    expect(once(config(), queue(80, 3), 4)).toMatchObject({ action: "up", target: 8 });
    expect(once(config(), queue(0, 3, false), 4)).toMatchObject({ action: "down", target: 1 });
  });

  it("does not hold a move back within the bounds, nor a reading without a busy count", () => {
    expect(once(config({ maxProcesses: 3 }), queue(0, 5), 6)).toMatchObject({ action: "down", target: 3 });
    const heartbeat: Reading = { backend: "response-time", value: 0, unit: "ms", ok: true };
    expect(once(config(), heartbeat, 4)).toMatchObject({ action: "down", target: 1 });
  });
});

describe("scale to zero and back", () => {
  it("wakes a worker at zero on the first waiting job", () => {
    // Streaks would wait for 3 readings above 20 jobs: one job is a pass.
    const streaks = (overrides: Record<string, unknown> = {}) =>
      decisionSchema.parse({
        backend: "consecutive-threshold",
        minMeasurement: 5,
        maxMeasurement: 20,
        minProcesses: 0,
        ...overrides,
      });
    const woken = once(streaks(), queue(1, 0), 0);
    expect(woken).toMatchObject({ action: "up", target: 1, conditions: [] });
    expect(woken.reason).toBe("activation: the queue reads 1 jobs with no process running");
    expect(once(streaks({ increment: 2 }), queue(1, 0), 0)).toMatchObject({ action: "up", target: 2 });
    expect(once(streaks(), queue(0, 0), 0)).toMatchObject({ action: "hold", target: 0 });
    // Target tracking recommends 1 for a job by itself.
    expect(once(config({ minProcesses: 0 }), queue(1, 0), 0)).toMatchObject({ action: "up", target: 1 });
  });

  it("scales the last worker away only after the queue and the busy count read 0 for idleMinutesBeforeZero", () => {
    const platform = followDecisions(decide, config({ minProcesses: 0 }), {
      current: 3,
      intervalSeconds: 60,
    });
    platform.tick(queue(0, 1)); // idle queue, one job running: held
    for (let minute = 0; minute < 10; minute++) platform.tick(queue(0, 0));
    platform.tick(queue(0, 0));
    expect(platform.log).toEqual([
      "scale-down-held-busy",
      "down:1",
      ...Array<string>(9).fill("hold"),
      "down:0",
    ]);
    expect(platform.current).toBe(0);
    platform.tick(queue(0, 0));
    platform.tick(queue(3, 0)); // a job: back to 1
    expect(platform.log.slice(-2)).toEqual(["hold", "up:1"]);
    expect(platform.state.idleSince).toBeUndefined();
  });

  it("starts the idle wait afresh when a job comes or runs", () => {
    const cfg = config({ minProcesses: 0, idleMinutesBeforeZero: 5 });
    const idleSince = T0.toMillis() - 4 * MINUTE_MS;
    const waiting = once(cfg, queue(0, 0), 1, { ...emptyDecisionState(), idleSince });
    expect(waiting).toMatchObject({ action: "hold", target: 1, state: { idleSince } });
    expect(waiting.reason).toMatch(/holding: idle for 4 of the 5 minutes before scaling to zero$/);
    const later = once(cfg, queue(0, 0), 1, waiting.state, T0.plus({ minutes: 1 }));
    expect(later).toMatchObject({ action: "down", target: 0 });
    const busy = once(cfg, queue(0, 1), 1, waiting.state);
    expect(busy.state.idleSince).toBeUndefined();
    expect(once(cfg, queue(0, 0), 1, busy.state).state.idleSince).toBe(T0.toMillis());
  });

  it("keeps no idle time while the minimum is above 0", () => {
    expect(once(config(), queue(0, 0), 1).state).not.toHaveProperty("idleSince");
    const state = afterScale(2, 1, T0.minus({ hours: 1 }), { ...emptyDecisionState(), idleSince: 1 });
    expect(once(config(), queue(0, 0), 1, state).state).not.toHaveProperty("idleSince");
  });
});
