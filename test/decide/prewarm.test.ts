import fc from "fast-check";
import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { decision, type Bounds } from "../../src/decide/common.js";
import { emptyDecisionState, decisionStateSchema } from "../../src/decide/decision-state.js";
import {
  decodeProfile,
  encodeProfile,
  observe,
  prewarmSchema,
  prewarmStateSchema,
  profileCounts,
  slotOf,
  type Prewarm,
  type PrewarmState,
} from "../../src/decide/prewarm-profile.js";
import { observeDecision, prewarmFloor, withPrewarm } from "../../src/decide/prewarm.js";

/** Pre-warming's profile and floor (src/decide/prewarm*.ts) on hand-made weeks, in New York's zone. */
const ZONE = "America/New_York";
const at = (iso: string) => DateTime.fromISO(iso, { zone: ZONE });
const settings = (input: Partial<Prewarm> = {}): Prewarm => prewarmSchema.parse(input);
const WEEK = settings({ period: "week" });

/** A profile of the week with `counts` at the given slots, the rest never seen. */
function profile(counts: Record<number, number>, slots = 168): PrewarmState {
  return { profile: encodeProfile(Array.from({ length: slots }, (_, i) => counts[i] ?? NaN)), slot: 0 };
}

/** The state after one tick a minute from `from` for `minutes`, the count each minute from `countAt`. */
function watch(
  state: PrewarmState | undefined,
  from: DateTime,
  minutes: number,
  countAt: (now: DateTime) => number,
  config = WEEK,
): PrewarmState | undefined {
  let record = { ...emptyDecisionState(), ...(state ? { prewarm: state } : {}) };
  for (let i = 0; i < minutes; i++) {
    const now = from.plus({ minutes: i });
    record = observeDecision(record, config, countAt(now), now);
  }
  return record.prewarm;
}

const MONDAY_9 = 9; // slot of Monday 09:00
const bounds: Bounds = { min: 2, max: 20 };
const policyAt = (target: number, current = target) =>
  decision(
    target === current ? "hold" : target > current ? "up" : "down",
    target,
    "the policy's reason",
    bounds,
    {
      ...emptyDecisionState(),
    },
  );

describe("the hour of the week", () => {
  it("is read on the wall clock of the configured zone, on both sides of a DST change", () => {
    expect(slotOf(at("2026-01-12T09:30"), "week")).toBe(MONDAY_9); // winter, UTC-5
    expect(slotOf(at("2026-07-13T09:30"), "week")).toBe(MONDAY_9); // summer, UTC-4
    expect(slotOf(at("2026-07-12T23:59"), "week")).toBe(167); // Sunday's last hour
    expect(slotOf(at("2026-07-13T09:30"), "day")).toBe(9);
    // The same instant is another hour of the week in another zone.
    const instant = at("2026-07-13T09:30").setZone("Asia/Tokyo");
    expect(slotOf(instant, "week")).toBe(22); // Monday 22:30 in Tokyo
  });
});

describe("the profile", () => {
  it("learns the count each hour ended at, before the window of the next one", () => {
    // Monday 09:00-10:00: 4 processes until 09:30, then 10; pre-warming's window (from 09:55)
    // sets 14, which is not learned: it is the next hour's floor.
    const state = watch(undefined, at("2026-01-12T09:00"), 61, (now) =>
      now.hour === 10 ? 3 : now.minute >= 55 ? 14 : now.minute >= 30 ? 10 : 4,
    );
    const counts = profileCounts(state!.profile);
    expect(counts).toHaveLength(168);
    expect(counts[MONDAY_9]).toBe(10);
    expect(counts.filter((c) => !Number.isNaN(c))).toEqual([10]);
    expect(state!.slot).toBe(10);
    expect(state!.count).toBeUndefined(); // 10:00 is in the window of the 10:00 rise
  });

  it("weighs the latest week by `weight`, rounding towards it so a steady count is reached", () => {
    let state: PrewarmState | undefined = profile({ [MONDAY_9]: 12 });
    const weeks: number[] = [];
    for (let week = 0; week < 4; week++) {
      const monday = at("2026-01-12T09:00").plus({ weeks: week });
      state = watch(state, monday, 61, () => 8);
      weeks.push(profileCounts(state!.profile)[MONDAY_9]!);
    }
    expect(weeks).toEqual([10, 9, 8, 8]); // 12 → 10 → 9 → 8.5 → 8 (down: floor), then steady
    const up = watch(profile({ [MONDAY_9]: 8 }), at("2026-01-12T09:00"), 61, () => 11);
    expect(profileCounts(up!.profile)[MONDAY_9]).toBe(10); // 9.5, rounded up towards 11
    const latest = watch(
      profile({ [MONDAY_9]: 8 }),
      at("2026-01-12T09:00"),
      61,
      () => 11,
      settings({ period: "week", weight: 1 }),
    );
    expect(profileCounts(latest!.profile)[MONDAY_9]).toBe(11);
  });

  it("learns across the hour the clock skips in spring and the one it repeats in autumn", () => {
    // 2026-03-08: New York skips from 01:59 to 03:00 (Sunday: slots 145 → 147).
    const spring = watch(undefined, at("2026-03-08T01:00"), 70, () => 5);
    expect(profileCounts(spring!.profile)[145]).toBe(5);
    expect(spring!.slot).toBe(147);
    // 2026-11-01: 01:00-01:59 runs twice; the hour ends (to the profile) when 02:00 begins.
    const autumn = watch(undefined, at("2026-11-01T00:00").plus({ hours: 1 }), 121, (now) =>
      now.offset === -240 ? 3 : 6,
    );
    expect(profileCounts(autumn!.profile)[145]).toBe(6); // its second run ended at 6
    expect(autumn!.slot).toBe(146);
  });

  it("does not learn an hour's end from a tick hours before it (the autoscaler was stopped)", () => {
    const before = watch(undefined, at("2026-01-12T09:00"), 40, () => 7);
    const after = watch(before, at("2026-01-12T14:00"), 1, () => 2);
    expect(profileCounts(after!.profile).every(Number.isNaN)).toBe(true);
    expect(after!.slot).toBe(14);
  });

  it("starts afresh when the period changes, and keeps the same object when nothing is new", () => {
    const weekly = watch(undefined, at("2026-01-12T09:00"), 61, () => 4)!;
    const daily = observe(weekly, settings({ period: "day" }), 11, 4);
    expect(profileCounts(daily.profile)).toHaveLength(24);
    expect(observe(daily, settings({ period: "day" }), 11, 4)).toBe(daily);
    expect(observe(daily, settings({ period: "day" }), 11, null)).toBe(daily);
  });

  it("stays small: one base-36 digit an hour below 36 processes, two below 1,296; a malformed one is dropped alone", () => {
    const week = (count: number) =>
      profile(Object.fromEntries(Array.from({ length: 168 }, (_, i) => [i, count])));
    expect(week(35).profile).toHaveLength(168);
    expect(week(99).profile).toHaveLength(336);
    expect(week(1295).profile).toHaveLength(336);
    expect(week(10_000).profile).toHaveLength(504);
    expect(profile({ 9: 6 }, 24).profile).toBe("_________6______________");
    const counts = [0, 7, 35, 36, 1295, 1296, 10_000, NaN];
    expect(decodeProfile(encodeProfile([...counts, ...Array<number>(160).fill(NaN)]))!.slice(0, 8)).toEqual(
      counts,
    );
    const record = { ...emptyDecisionState(), prewarm: { ...week(99), slot: 167, count: 99 } };
    expect(JSON.stringify(record.prewarm).length).toBeLessThanOrEqual(380);
    expect(decisionStateSchema.parse(JSON.parse(JSON.stringify(record)))).toEqual(record);
    for (const profile of ["1,2,x", "a".repeat(100), "0_".repeat(168), ""]) {
      expect(decisionStateSchema.parse({ ...record, prewarm: { profile, slot: 3 } }).prewarm).toBeUndefined();
    }
    expect(prewarmStateSchema.parse({ profile: "_".repeat(24), slot: 5 })).toEqual({
      profile: "_".repeat(24),
      slot: 5,
    });
  });
});

describe("the floor", () => {
  const usual = profile({ [MONDAY_9]: 12 });

  it("rises leadMinutes ahead of the usual rise and holds as long after it began", () => {
    const targets = ["08:54", "08:55", "08:59", "09:00", "09:04", "09:05"].map(
      (time) => withPrewarm(policyAt(4), WEEK, usual, 4, at(`2026-01-19T${time}`)).target,
    );
    expect(targets).toEqual([4, 12, 12, 12, 12, 4]);
    const ahead = withPrewarm(policyAt(4), WEEK, usual, 4, at("2026-01-19T08:55"));
    expect(ahead.action).toBe("up");
    expect(ahead.reason).toBe(
      "pre-warm: 12 processes ahead of the usual mon 09:00 rise (the policy: the policy's reason)",
    );
    const through = withPrewarm(policyAt(4), WEEK, usual, 12, at("2026-01-19T09:02"));
    expect(through.action).toBe("hold");
    expect(through.reason).toMatch(/^pre-warm: 12 processes through the usual mon 09:00 rise/);
    // Another Monday of the year, in summer time: the same wall-clock hour.
    expect(withPrewarm(policyAt(4), WEEK, usual, 4, at("2026-07-13T08:56")).target).toBe(12);
    // Tuesday 09:00 was never seen.
    expect(withPrewarm(policyAt(4), WEEK, usual, 4, at("2026-01-20T08:56")).target).toBe(4);
  });

  it("with a daily profile, every day's usual hour", () => {
    const daily = profile({ 9: 6 }, 24);
    const config = settings({ period: "day", leadMinutes: 10 });
    const raised = withPrewarm(policyAt(2), config, daily, 2, at("2026-01-24T08:50"));
    expect(raised.target).toBe(6);
    expect(raised.reason).toMatch(/^pre-warm: 6 processes ahead of the usual 09:00 rise/);
  });

  it("in forecast mode only says what it would do", () => {
    const forecast = withPrewarm(
      policyAt(4),
      settings({ period: "week", mode: "forecast" }),
      usual,
      4,
      at("2026-01-19T08:57"),
    );
    expect(forecast.target).toBe(4);
    expect(forecast.action).toBe("hold");
    expect(forecast.reason).toBe(
      "the policy's reason; pre-warm would hold 12 processes ahead of the usual mon 09:00 rise",
    );
  });

  it("off, or disabled, raises nothing and drops the profile", () => {
    expect(withPrewarm(policyAt(4), undefined, usual, 4, at("2026-01-19T08:57")).target).toBe(4);
    const disabled = settings({ period: "week", enabled: false });
    expect(withPrewarm(policyAt(4), disabled, usual, 4, at("2026-01-19T08:57")).target).toBe(4);
    const record = { ...emptyDecisionState(), prewarm: usual };
    expect(observeDecision(record, disabled, 4, at("2026-01-19T08:57"))).toEqual(emptyDecisionState());
    const none = emptyDecisionState();
    expect(observeDecision(none, undefined, 4, at("2026-01-19T08:57"))).toBe(none);
  });

  it("never lowers the policy's decision, and never goes above the maximum", () => {
    const time = fc.integer({ min: 0, max: 7 * 24 * 60 - 1 });
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }), {
          minLength: 168,
          maxLength: 168,
        }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 40 }),
        time,
        fc.integer({ min: 1, max: 20 }),
        (slots, target, current, max, minute, leadMinutes) => {
          const state = { profile: encodeProfile(slots.map((c) => c ?? NaN)), slot: 0 };
          const policy = { ...policyAt(target, current), bounds: { min: 0, max } };
          const now = at("2026-03-02T00:00").plus({ minutes: minute }); // the week of a DST change
          const made = withPrewarm(policy, settings({ period: "week", leadMinutes }), state, current, now);
          expect(made.target).toBeGreaterThanOrEqual(target);
          expect(made.target).toBeLessThanOrEqual(Math.max(target, max));
          expect(made.action).toBe(made.target > current ? "up" : made.target < current ? "down" : "hold");
          if (made.target === target) expect(made).toBe(policy);
        },
      ),
    );
  });
});

describe("the hour the floor is for", () => {
  // Every hour of the week seen, each its own count, so the floor names the slot it read.
  const everyHour: PrewarmState = {
    profile: encodeProfile(Array.from({ length: 168 }, (_, i) => i)),
    slot: 0,
  };

  it.each([
    ["America/New_York", "2026-03-08T00:00"], // skips 2:00-3:00
    ["America/New_York", "2026-11-01T00:00"], // repeats 1:00-2:00
    ["Asia/Kathmandu", "2026-03-08T00:00"], // UTC+5:45
    ["Australia/Lord_Howe", "2026-04-05T00:00"], // a half-hour DST change
    ["Australia/Lord_Howe", "2026-10-04T00:00"],
  ])("is the hour luxon's plus and startOf name, every minute of a day in %s from %s", (zone, start) => {
    const config = settings({ period: "week", leadMinutes: 20 });
    const from = DateTime.fromISO(start, { zone });
    for (let minute = 0; minute < 1440; minute++) {
      const now = from.plus({ minutes: minute });
      const found = prewarmFloor(config, everyHour, now);
      const inWindow = now.minute >= 40 || now.minute < 20;
      if (!inWindow) {
        expect(found).toBeNull();
        continue;
      }
      const hour = (now.minute >= 40 ? now.plus({ minutes: 20 }) : now).startOf("hour");
      expect(found, now.toISO()!).toEqual({
        floor: slotOf(hour, "week"),
        hour: { weekday: hour.weekday, hour: hour.hour },
        ahead: now.minute >= 40,
      });
    }
  });
});
