import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { trackConditions, type Notices } from "../../src/notify/conditions.js";
import { eventFactory } from "../../src/notify/event-factory.js";
import type { AutoscaleEvent } from "../../src/notify/events.js";
import { tooRapidReason } from "../../src/notify/rules.js";

const MINUTE = 60_000;
const T0 = Date.parse("2026-11-23T12:00:00Z");
const factory = eventFactory("web", "tick", DateTime.fromMillis(T0));
const aboveMax: AutoscaleEvent = {
  kind: "above-max",
  process: "web",
  tickId: "t",
  at: "",
  message: "needs more",
};

/** Runs the tracker over minutes with the condition active or not; returns the phases sent per minute. */
function run(activeByMinute: boolean[], repeatAfterMinutes = 60, resolveAfterMinutes = 0) {
  let notices: Notices = {};
  return activeByMinute.map((active, minute) => {
    const result = trackConditions({
      active: active ? [aboveMax] : [],
      evaluated: ["above-max"],
      notices,
      now: T0 + minute * MINUTE,
      repeatAfterMs: repeatAfterMinutes * MINUTE,
      resolveAfterMs: () => resolveAfterMinutes * MINUTE,
      resolved: factory.resolved,
    });
    notices = result.notices;
    return result.events.map((e) => e.phase).join(",");
  });
}

describe("lasting conditions", () => {
  it("send when they start, at most every repeatAfterMinutes, and once when they end", () => {
    const phases = run([...Array<boolean>(125).fill(true), false, false]);
    expect(phases.filter(Boolean)).toEqual(["started", "repeated", "repeated", "resolved"]);
    expect(phases[0]).toBe("started");
    expect(phases[60]).toBe("repeated");
    expect(phases[120]).toBe("repeated");
    expect(phases[125]).toBe("resolved");
  });

  it("resolve only after staying away resolveAfterMinutes, so an intermittent condition does not flap", () => {
    // Active three minutes in four, as above-max is for an app that stays overloaded at its maximum.
    const flapping = Array.from({ length: 40 }, (_, minute) => minute % 4 !== 3);
    expect(run([...flapping, false, false, false, false, false, false], 60, 5).filter(Boolean)).toEqual([
      "started",
      "resolved",
    ]);
    const phases = run([true, false, false, false, false, true], 60, 5);
    expect(phases).toEqual(["started", "", "", "", "", ""]); // back within 5 minutes: still the same condition
  });

  it("start afresh after they resolved", () => {
    expect(run([true, false, true], 60)).toEqual(["started", "resolved", "started"]);
  });

  it("are not resolved by a tick that could not see them", () => {
    const started = trackConditions({
      active: [aboveMax],
      evaluated: ["above-max"],
      notices: {},
      now: T0,
      repeatAfterMs: MINUTE,
      resolveAfterMs: () => 0,
      resolved: factory.resolved,
    });
    const blind = trackConditions({
      active: [],
      evaluated: ["scale-failed"],
      notices: started.notices,
      now: T0 + MINUTE,
      repeatAfterMs: MINUTE,
      resolveAfterMs: () => 0,
      resolved: factory.resolved,
    });
    expect(blind.events).toEqual([]);
    expect(blind.notices).toEqual(started.notices);
  });

  it("say what resolved and since when", () => {
    const result = trackConditions({
      active: [],
      evaluated: ["above-max"],
      notices: { "above-max": { since: T0 - 30 * MINUTE, lastSentAt: T0 - 30 * MINUTE } },
      now: T0,
      repeatAfterMs: MINUTE,
      resolveAfterMs: () => 0,
      resolved: factory.resolved,
    });
    expect(result.events).toEqual([
      expect.objectContaining({
        kind: "above-max",
        phase: "resolved",
        message: "resolved: no longer needs more than the maximum (since 2026-11-23T11:30:00.000Z)",
      }),
    ]);
    expect(result.notices).toEqual({});
  });
});

describe("too-rapid rules", () => {
  const scale = (minutesAgo: number, from: number, to: number) => ({
    at: T0 - minutesAgo * MINUTE,
    from,
    to,
  });
  const settings = { tooRapidNumScales: 2, tooRapidPeriodMinutes: 10 };

  it("fires on more than tooRapidNumScales scales in one direction within the period", () => {
    expect(tooRapidReason(settings, [scale(9, 1, 2), scale(5, 2, 3)], T0)).toBeNull();
    expect(tooRapidReason(settings, [scale(9, 1, 2), scale(5, 2, 3), scale(1, 3, 4)], T0)).toBe(
      "3 scales up within 10 min (more than 2)",
    );
    expect(tooRapidReason(settings, [scale(10, 1, 2), scale(5, 2, 3), scale(1, 3, 4)], T0)).toBeNull(); // 10 min ago is outside
    expect(tooRapidReason(settings, [scale(9, 1, 2), scale(5, 2, 1), scale(1, 1, 2)], T0)).toBeNull(); // flapping is 2 up, 1 down
    expect(tooRapidReason({ ...settings, tooRapidNumScales: 0 }, [scale(1, 2, 1)], T0)).toBe(
      "1 scale down within 10 min (more than 0)",
    );
  });

  it("fires on a net change above scaleDiffThreshold within scaleDiffPeriodMinutes (seed 000)", () => {
    const diff = {
      tooRapidNumScales: 100,
      tooRapidPeriodMinutes: 1,
      scaleDiffThreshold: 10,
      scaleDiffPeriodMinutes: 30,
    };
    expect(tooRapidReason(diff, [scale(29, 2, 7), scale(10, 7, 12)], T0)).toBeNull(); // +10 is not more than 10
    expect(tooRapidReason(diff, [scale(29, 2, 7), scale(10, 7, 13)], T0)).toBe(
      "a net change of +11 processes within 30 min (more than 10)",
    );
    expect(tooRapidReason(diff, [scale(29, 14, 7), scale(10, 7, 2)], T0)).toBe(
      "a net change of -12 processes within 30 min (more than 10)",
    );
    expect(tooRapidReason(diff, [scale(31, 2, 7), scale(10, 7, 13)], T0)).toBeNull(); // the first is outside
    const anyChange = { ...diff, scaleDiffThreshold: 0 };
    expect(tooRapidReason(anyChange, [scale(5, 2, 3)], T0)).toBe(
      "a net change of +1 process within 30 min (more than 0)",
    );
    expect(tooRapidReason(anyChange, [scale(5, 3, 2)], T0)).toBe(
      "a net change of -1 process within 30 min (more than 0)",
    );
  });
});
