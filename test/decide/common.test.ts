import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config/load.js";
import { boundSchema, resolveBound } from "../../src/decide/bounds.js";
import { boundsAt } from "../../src/decide/common.js";
import {
  consecutiveThresholdSchema,
  decideConsecutiveThreshold,
} from "../../src/decide/consecutive-threshold.js";
import { scheduleAt, scheduleSchema } from "../../src/decide/schedule.js";
import { emptyDecisionState, recordScale, type DecisionState } from "../../src/decide/decision-state.js";
import type { Reading } from "../../src/measure/types.js";

const at = (iso: string, zone = "UTC") => DateTime.fromISO(iso, { zone });
const ms = (value: number): Reading => ({ backend: "response-time", value, unit: "ms", ok: true });
const down = (error = "heartbeat answered HTTP 503"): Reading => ({
  backend: "response-time",
  value: null,
  unit: "ms",
  ok: false,
  error,
});

function decide(
  settings: Record<string, unknown>,
  reading: Reading,
  current: number,
  now: DateTime,
  state: DecisionState = emptyDecisionState(),
) {
  const config = consecutiveThresholdSchema.parse({ backend: "consecutive-threshold", ...settings });
  return decideConsecutiveThreshold({ config, state, reading, current, now });
}

describe("weekday rules for min/max", () => {
  const weekend = boundSchema.parse([
    { from: "0:00", value: 2 },
    { days: ["mon", "tue", "wed", "thu", "fri"], from: "8:00", value: 4 },
    { days: ["mon", "tue", "wed", "thu", "fri"], from: "18:00", value: 2 },
    { days: ["sat", "sun"], from: "0:00", value: 1 },
  ]);
  it.each([
    ["2026-11-23T07:59", 2], // Monday before 8
    ["2026-11-23T08:00", 4],
    ["2026-11-23T17:59", 4],
    ["2026-11-23T18:00", 2],
    ["2026-11-28T12:00", 1], // Saturday: the weekend rule started at 0:00, after the daily 0:00 (later in the list wins a tie)
    ["2026-11-29T23:59", 1], // Sunday night
  ])("at %s the bound is %i", (iso, expected) => {
    expect(resolveBound(weekend, at(iso))).toBe(expected);
  });

  it("a rule on one day holds until the next rule, across days", () => {
    const fridayOnly = boundSchema.parse([
      { days: ["fri"], from: "20:00", value: 5 },
      { days: ["mon"], from: "6:00", value: 1 },
    ]);
    expect(resolveBound(fridayOnly, at("2026-11-28T12:00"))).toBe(5); // Saturday: Friday's rule still holds
    expect(resolveBound(fridayOnly, at("2026-11-30T05:59"))).toBe(5); // Monday before 6
    expect(resolveBound(fridayOnly, at("2026-11-30T06:00"))).toBe(1);
    expect(resolveBound(fridayOnly, at("2026-11-27T19:59"))).toBe(1); // Friday before 20:00
  });

  it("is wall-clock time across a DST change", () => {
    const rules = boundSchema.parse([
      { from: "0:00", value: 1 },
      { days: ["sun"], from: "8:00", value: 3 },
    ]);
    // 2026-03-08 is a Sunday; New York springs forward at 2:00. 8:00 EDT is 12:00 UTC, not 13:00.
    expect(resolveBound(rules, at("2026-03-08T12:00:00Z").setZone("America/New_York"))).toBe(3);
    expect(resolveBound(rules, at("2026-03-08T11:59:00Z").setZone("America/New_York"))).toBe(1);
  });

  it("config errors name the rule's path", () => {
    const input = {
      processes: {
        web: {
          measurement: { backend: "response-time", url: "https://example.com/" },
          decision: { minProcesses: [{ days: ["someday"], from: "8:00", value: 1 }] },
          scaling: { backend: "heroku", app: "dancing-forest-1234" },
        },
      },
    };
    expect(() => parseConfig(input)).toThrow(ConfigError);
    try {
      parseConfig(input);
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        expect.stringMatching(/^processes\.web\.decision\.minProcesses\.0\.days\.0: /) as unknown,
      ]);
    }
  });

  it("min above max on one weekday is reported with the day", () => {
    const result = consecutiveThresholdSchema.safeParse({
      backend: "consecutive-threshold",
      minProcesses: [
        { from: "0:00", value: 1 },
        { days: ["sat"], from: "10:00", value: 4 },
      ],
      maxProcesses: 3,
    });
    expect(result.error!.issues.map((i) => i.message)).toEqual([
      "minProcesses (4) is above maxProcesses (3) from sat 10:00",
    ]);
  });
});

describe("schedule (the tutorial's 7am → 3, 10pm → 2, 3am → 1)", () => {
  const tutorial = [
    { cron: "0 7 * * *", processes: 3, mode: "exact" },
    { cron: "0 22 * * *", processes: 2, mode: "exact" },
    { cron: "0 3 * * *", processes: 1, mode: "exact" },
  ];
  it.each([
    ["2026-11-23T06:59", 1],
    ["2026-11-23T07:00", 3],
    ["2026-11-23T21:59", 3],
    ["2026-11-23T22:00", 2],
    ["2026-11-24T02:59", 2],
    ["2026-11-24T03:00", 1],
  ])("at %s it pins %i processes", (iso, expected) => {
    const config = { minProcesses: 1, maxProcesses: 3, schedule: scheduleSchema.parse(tutorial) };
    expect(boundsAt(config, at(iso))).toEqual({ min: expected, max: expected });
  });

  it("scales to the pinned count at once, whatever the readings", () => {
    const decision = decide({ schedule: tutorial, maxProcesses: 3 }, ms(10), 1, at("2026-11-23T07:00"));
    expect(decision).toMatchObject({ action: "up", target: 3 });
  });

  it("a floor raises the minimum but autoscaling goes on above it, never above max", () => {
    const schedule = scheduleSchema.parse([
      { cron: "0 9 * * 1-5", processes: 2 },
      { cron: "0 18 * * 1-5", processes: 0 },
    ]);
    const config = { minProcesses: 1, maxProcesses: 4, schedule };
    expect(boundsAt(config, at("2026-11-23T10:00"))).toEqual({ min: 2, max: 4 });
    expect(boundsAt(config, at("2026-11-23T19:00"))).toEqual({ min: 1, max: 4 });
    expect(boundsAt({ ...config, maxProcesses: 1 }, at("2026-11-23T10:00"))).toEqual({ min: 1, max: 1 });
  });

  it("fires in the configured zone, DST included", () => {
    const schedule = scheduleSchema.parse([
      { cron: "0 7 * * *", processes: 3 },
      { cron: "0 22 * * *", processes: 1 },
    ]);
    // 7:00 in New York is 12:00 UTC in winter and 11:00 UTC in summer.
    expect(scheduleAt(schedule, at("2026-01-15T11:30:00Z").setZone("America/New_York")).processes).toBe(1);
    expect(scheduleAt(schedule, at("2026-07-15T11:30:00Z").setZone("America/New_York")).processes).toBe(3);
  });

  it("an entry in the hour a DST change skips takes effect when the clock jumps past it", () => {
    // Berlin springs forward on 2026-03-29 from 2:00 to 3:00: 2:30 never happens that day.
    const schedule = scheduleSchema.parse([
      { cron: "30 2 * * *", processes: 1, mode: "exact" },
      { cron: "0 22 * * *", processes: 3, mode: "exact" },
    ]);
    const berlin = (iso: string) => DateTime.fromISO(iso, { zone: "Europe/Berlin" });
    expect(scheduleAt(schedule, berlin("2026-03-29T01:59")).processes).toBe(3);
    expect(scheduleAt(schedule, berlin("2026-03-29T03:00")).processes).toBe(1);
    // and on the day the clock falls back, 2:30 happens twice; it is in force from the first.
    expect(scheduleAt(schedule, berlin("2026-10-25T02:30")).processes).toBe(1);
  });

  it("rejects a bad cron expression by path", () => {
    const result = consecutiveThresholdSchema.safeParse({
      backend: "consecutive-threshold",
      schedule: [{ cron: "61 7 * * *", processes: 1 }],
    });
    expect(result.error!.issues[0]).toMatchObject({ path: ["schedule", 0, "cron"] });
    expect(result.error!.issues[0]!.message).toMatch(/^invalid cron expression/);
  });

  it("wants exactly five fields, and names the five-field form of a macro", () => {
    const messages = (cron: string) =>
      consecutiveThresholdSchema
        .safeParse({ backend: "consecutive-threshold", schedule: [{ cron, processes: 1 }] })
        .error?.issues.map((issue) => issue.message);
    const five = "invalid cron expression: expected five fields (minute hour day-of-month month day-of-week)";
    expect(messages("0 0 7 * * *")).toEqual([`${five}, got 6`]);
    expect(messages("0 7 * *")).toEqual([`${five}, got 4`]);
    expect(messages("every day")).toEqual([`${five}, got 2`]);
    expect(messages("")).toEqual([`${five}, got 0`]);
    expect(messages("@daily")).toEqual([`${five}, not a macro: write "0 0 * * *" for @daily`]);
    expect(messages("@HOURLY")).toEqual([`${five}, not a macro: write "0 * * * *" for @HOURLY`]);
    expect(messages("@reboot")).toEqual([`${five}, not a macro`]);
    expect(messages(" 0  7 * * MON-FRI ")).toBeUndefined();
    expect(messages("0 7 32 * *")).toEqual([expect.stringMatching(/^invalid cron expression: .*32/)]);
  });
});

describe("fail-safe", () => {
  const settings = { failSafe: {}, maxProcesses: 3, failsToScaleUp: 3 };
  it("a down heartbeat scales straight to max, ignoring streaks and cool-downs", () => {
    const justScaled = recordScale(emptyDecisionState(), {
      at: at("2026-11-23T12:00").toMillis(),
      from: 1,
      to: 2,
    });
    const decision = decide(
      { ...settings, postScaleWaitSeconds: 600 },
      down(),
      1,
      at("2026-11-23T12:01"),
      justScaled,
    );
    expect(decision).toMatchObject({ action: "up", target: 3, conditions: ["fail-safe"] });
    expect(decision.reason).toMatch(/^fail-safe: the app is down/);
  });

  it("fires above maxMs, not at it", () => {
    expect(decide(settings, ms(5001), 1, at("2026-11-23T12:00"))).toMatchObject({ action: "up", target: 3 });
    expect(decide(settings, ms(5000), 1, at("2026-11-23T12:00"))).toMatchObject({
      action: "hold",
      conditions: [],
    });
  });

  it("goes to failSafe.processes when set, within the bounds, and holds when already there", () => {
    expect(
      decide({ ...settings, failSafe: { processes: 2 } }, down(), 1, at("2026-11-23T12:00")).target,
    ).toBe(2);
    expect(
      decide({ ...settings, failSafe: { processes: 9 } }, down(), 1, at("2026-11-23T12:00")).target,
    ).toBe(3);
    expect(decide(settings, down(), 3, at("2026-11-23T12:00"))).toMatchObject({
      action: "hold",
      conditions: ["fail-safe"],
    });
  });

  it("is off unless configured", () => {
    expect(decide({}, down(), 1, at("2026-11-23T12:00"))).toMatchObject({ action: "hold" });
  });
});

describe("per-direction cool-downs", () => {
  const scaledAt = at("2026-11-23T12:00");
  const state = (): DecisionState =>
    recordScale(emptyDecisionState(), { at: scaledAt.toMillis(), from: 1, to: 2 });
  const settings = {
    failsToScaleUp: 1,
    passesToScaleDown: 1,
    scaleUpCooldownSeconds: 60,
    scaleDownCooldownSeconds: 600,
  };

  it("scales up again after the up cool-down while down still waits", () => {
    expect(decide(settings, ms(2000), 2, scaledAt.plus({ seconds: 59 }), state())).toMatchObject({
      action: "hold",
    });
    expect(decide(settings, ms(2000), 2, scaledAt.plus({ seconds: 60 }), state())).toMatchObject({
      action: "up",
      target: 3,
    });
    const waiting = decide(settings, ms(10), 2, scaledAt.plus({ seconds: 60 }), state());
    expect(waiting).toMatchObject({ action: "hold" });
    expect(waiting.reason).toBe("cooling down for 540 s before scaling down");
    expect(waiting.state.history).toHaveLength(1); // past the shorter cool-down, readings count
    expect(decide(settings, ms(10), 2, scaledAt.plus({ seconds: 600 }), state())).toMatchObject({
      action: "down",
    });
  });

  it("postScaleWaitSeconds sets both when they are not given", () => {
    const decision = decide(
      { failsToScaleUp: 1, postScaleWaitSeconds: 120 },
      ms(2000),
      2,
      scaledAt.plus({ seconds: 119 }),
      state(),
    );
    expect(decision).toMatchObject({ action: "hold", state: { history: [] } });
  });
});

describe("readings from other backends", () => {
  it("a count the app asks for is honoured within the bounds", () => {
    const asks = (desired: number): Reading => ({
      backend: "app-json",
      value: desired,
      unit: "count",
      ok: true,
      desired,
    });
    expect(decide({ maxProcesses: 5 }, asks(4), 1, at("2026-11-23T12:00"))).toMatchObject({
      action: "up",
      target: 4,
    });
    expect(decide({ maxProcesses: 5 }, asks(9), 5, at("2026-11-23T12:00"))).toMatchObject({
      action: "hold",
      conditions: ["above-max"],
    });
    expect(decide({ maxProcesses: 5 }, asks(0), 3, at("2026-11-23T12:00"))).toMatchObject({
      action: "down",
      target: 1,
    });
  });

  it("a failure that says nothing about load (an unreachable broker) holds and records nothing", () => {
    const unknown: Reading = {
      backend: "sidekiq-queue",
      value: null,
      unit: "jobs",
      ok: false,
      error: "broker unreachable",
      failureMeans: "unknown",
    };
    const decision = decide({ failsToScaleUp: 1 }, unknown, 1, at("2026-11-23T12:00"));
    expect(decision).toMatchObject({ action: "hold", state: { history: [] } });
    expect(decision.reason).toMatch(/holding: the measurement failed/);
  });
});
