import { DateTime } from "luxon";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { boundSchema, changePoints, resolveBound, type Bound } from "../../src/decide/bounds.js";
import {
  consecutiveThresholdSchema,
  decideConsecutiveThreshold,
} from "../../src/decide/consecutive-threshold.js";
import { emptyDecisionState } from "../../src/decide/decision-state.js";
import type { Reading } from "../../src/measure/types.js";

const NEW_YORK = "America/New_York";
const BERLIN = "Europe/Berlin";

/** A UTC instant seen in `zone`. */
const instant = (isoUtc: string, zone: string) => DateTime.fromISO(isoUtc, { zone: "utc" }).setZone(zone);
const local = (iso: string, zone: string) => DateTime.fromISO(iso, { zone });
const hm = (time: string) => {
  const [hour, minute] = time.split(":").map(Number) as [number, number];
  return { weekday: 1, hour, minute };
};

const SEED_MIN: Bound = { "0:00": 1, "8:00": 3, "18:00": 1 };
const SEED_MAX: Bound = { "0:00": 2, "9:00": 5, "17:00": 2 };

describe("resolveBound: fixed integers", () => {
  it.each([0, 1, 3, 50])("%d holds at every time of day", (bound) => {
    for (const time of ["0:00", "7:59", "8:00", "12:30", "23:59"])
      expect(resolveBound(bound, hm(time))).toBe(bound);
  });
});

describe("resolveBound: time-of-day maps", () => {
  it.each<[string, number]>([
    ["0:00", 1],
    ["0:01", 1],
    ["7:59", 1],
    ["8:00", 3],
    ["8:01", 3],
    ["12:00", 3],
    ["17:59", 3],
    ["18:00", 1],
    ["23:59", 1],
  ])("seed minProcesses at %s is %d", (time, expected) => {
    expect(resolveBound(SEED_MIN, hm(time))).toBe(expected);
  });

  it.each<[string, number]>([
    ["0:00", 2],
    ["8:59", 2],
    ["9:00", 5],
    ["16:59", 5],
    ["17:00", 2],
    ["23:59", 2],
  ])("seed maxProcesses at %s is %d", (time, expected) => {
    expect(resolveBound(SEED_MAX, hm(time))).toBe(expected);
  });

  it.each<[string, number]>([
    ["0:00", 2],
    ["3:00", 2],
    ["7:59", 2],
    ["8:00", 4],
    ["17:59", 4],
    ["18:00", 2],
    ["23:59", 2],
  ])(
    "wraps around midnight: without a 0:00 key, %s takes the last entry of the day before (%d)",
    (time, expected) => {
      expect(resolveBound({ "8:00": 4, "18:00": 2 }, hm(time))).toBe(expected);
    },
  );

  it("does not depend on the order of the keys", () => {
    const unsorted: Bound = { "18:00": 1, "0:00": 1, "8:00": 3 };
    const reversed: Bound = { "18:00": 1, "8:00": 3, "0:00": 1 };
    for (let minute = 0; minute < 24 * 60; minute += 1) {
      const at = { weekday: 3, hour: Math.floor(minute / 60), minute: minute % 60 };
      const expected = resolveBound(SEED_MIN, at);
      expect(resolveBound(unsorted, at)).toBe(expected);
      expect(resolveBound(reversed, at)).toBe(expected);
    }
  });

  it("sorts keys by time, not as strings (10:00 after 9:00, 2:00 before 10:00)", () => {
    const bound: Bound = { "10:00": 3, "9:00": 2, "2:00": 1 };
    expect(resolveBound(bound, hm("1:59"))).toBe(3);
    expect(resolveBound(bound, hm("2:00"))).toBe(1);
    expect(resolveBound(bound, hm("9:30"))).toBe(2);
    expect(resolveBound(bound, hm("10:00"))).toBe(3);
  });

  it.each(["0:00", "12:00", "23:59"])("a single key (%s) holds all day", (key) => {
    for (const time of ["0:00", "11:59", "12:00", "23:59"])
      expect(resolveBound({ [key]: 4 }, hm(time))).toBe(4);
  });

  it('reads "9:00" and "09:00" as the same time', () => {
    const short: Bound = { "0:00": 2, "9:00": 5 };
    const padded: Bound = { "00:00": 2, "09:00": 5 };
    for (const time of ["0:00", "8:59", "9:00", "23:59"]) {
      expect(resolveBound(padded, hm(time))).toBe(resolveBound(short, hm(time)));
    }
    expect(resolveBound(padded, hm("8:59"))).toBe(2);
    expect(resolveBound(padded, hm("9:00"))).toBe(5);
  });

  it("uses minutes, not just hours", () => {
    const bound: Bound = { "0:00": 1, "8:30": 2, "8:45": 3 };
    expect(resolveBound(bound, hm("8:29"))).toBe(1);
    expect(resolveBound(bound, hm("8:30"))).toBe(2);
    expect(resolveBound(bound, hm("8:44"))).toBe(2);
    expect(resolveBound(bound, hm("8:45"))).toBe(3);
  });

  it("accepts a luxon DateTime (its wall clock in its own zone)", () => {
    expect(resolveBound(SEED_MIN, local("2026-06-01T07:59", NEW_YORK))).toBe(1);
    expect(resolveBound(SEED_MIN, local("2026-06-01T08:00", NEW_YORK))).toBe(3);
    expect(resolveBound(SEED_MIN, local("2026-06-01T08:00:59.999", NEW_YORK))).toBe(3);
    // The same instant in UTC is 12:00, in Berlin 14:00: the zone of the DateTime is what counts.
    const noonUtc = instant("2026-06-01T12:00:00Z", "utc");
    expect(resolveBound(SEED_MIN, noonUtc.setZone(NEW_YORK))).toBe(3);
    expect(resolveBound(SEED_MIN, noonUtc.setZone("Asia/Tokyo"))).toBe(1); // 21:00 there
  });
});

describe("boundSchema", () => {
  it.each<[unknown]>([
    [0],
    [3],
    [{ "0:00": 1 }],
    [{ "9:00": 1 }],
    [{ "09:00": 1 }],
    [{ "23:59": 1 }],
    [{ "00:00": 0, "19:30": 2 }],
  ])("accepts %j", (value) => {
    expect(boundSchema.safeParse(value).success).toBe(true);
  });

  it.each<[unknown]>([
    [-1],
    [2.5],
    ["3"],
    [{}],
    [{ "25:00": 1 }],
    [{ "24:00": 1 }],
    [{ "9:60": 1 }],
    [{ "9:5": 1 }],
    [{ "09:00:00": 1 }],
    [{ noon: 1 }],
    [{ "9:00": -1 }],
    [{ "9:00": 1.5 }],
    [null],
  ])("rejects %j", (value) => {
    expect(boundSchema.safeParse(value).success).toBe(false);
  });
});

describe("changePoints", () => {
  const minutesOfMonday = (points: ReturnType<typeof changePoints>) =>
    points
      .filter((p) => p.weekday === 1)
      .map((p) => p.hour * 60 + p.minute)
      .sort((a, b) => a - b);
  it("always includes midnight and every key of every map, de-duplicated, on every weekday", () => {
    expect(minutesOfMonday(changePoints(1, 3))).toEqual([0]);
    expect(minutesOfMonday(changePoints(SEED_MIN, SEED_MAX))).toEqual([0, 8 * 60, 9 * 60, 17 * 60, 18 * 60]);
    expect(minutesOfMonday(changePoints({ "9:00": 1 }, { "09:00": 2, "2:30": 1 }))).toEqual([0, 150, 540]);
    expect(changePoints(SEED_MIN, SEED_MAX)).toHaveLength(7 * 5);
  });
});

describe("resolveBound across DST changes", () => {
  const morning: Bound = { "0:00": 1, "8:00": 3 };

  describe("America/New_York, spring forward 2026-03-08 (2:00 EST → 3:00 EDT)", () => {
    it("the same UTC instant resolves differently before and after the change", () => {
      // 12:30 UTC is 07:30 EST the day before and 08:30 EDT the day after.
      const before = instant("2026-03-07T12:30:00Z", NEW_YORK);
      const after = instant("2026-03-09T12:30:00Z", NEW_YORK);
      expect([before.hour, before.minute, before.offset]).toEqual([7, 30, -300]);
      expect([after.hour, after.minute, after.offset]).toEqual([8, 30, -240]);
      expect(resolveBound(morning, before)).toBe(1);
      expect(resolveBound(morning, after)).toBe(3);
    });

    it("8:00 local falls at 13:00 UTC before and 12:00 UTC on the change day", () => {
      expect(resolveBound(morning, instant("2026-03-07T12:59:00Z", NEW_YORK))).toBe(1);
      expect(resolveBound(morning, instant("2026-03-07T13:00:00Z", NEW_YORK))).toBe(3);
      expect(resolveBound(morning, instant("2026-03-08T11:59:00Z", NEW_YORK))).toBe(1);
      expect(resolveBound(morning, instant("2026-03-08T12:00:00Z", NEW_YORK))).toBe(3);
    });

    it("a key inside the skipped hour (2:30) takes effect at 3:00 local", () => {
      const bound: Bound = { "0:00": 1, "2:30": 2, "8:00": 3 };
      const lastEst = instant("2026-03-08T06:59:00Z", NEW_YORK);
      const firstEdt = instant("2026-03-08T07:00:00Z", NEW_YORK);
      expect([lastEst.hour, lastEst.minute]).toEqual([1, 59]);
      expect([firstEdt.hour, firstEdt.minute]).toEqual([3, 0]);
      expect(resolveBound(bound, lastEst)).toBe(1);
      expect(resolveBound(bound, firstEdt)).toBe(2);
      // Asking luxon for 2:30 local on that day gives 3:30 EDT, which is past the key too.
      const skipped = local("2026-03-08T02:30", NEW_YORK);
      expect(skipped.hour).toBe(3);
      expect(resolveBound(bound, skipped)).toBe(2);
      // On an ordinary day the key takes effect at 2:30.
      expect(resolveBound(bound, local("2026-03-09T02:29", NEW_YORK))).toBe(1);
      expect(resolveBound(bound, local("2026-03-09T02:30", NEW_YORK))).toBe(2);
    });
  });

  describe("America/New_York, fall back 2026-11-01 (2:00 EDT → 1:00 EST)", () => {
    const bound: Bound = { "0:00": 1, "1:30": 2, "8:00": 3 };

    it("the same UTC instant resolves differently before and after the change", () => {
      // 12:30 UTC is 08:30 EDT the day before and 07:30 EST the day after.
      const before = instant("2026-10-31T12:30:00Z", NEW_YORK);
      const after = instant("2026-11-02T12:30:00Z", NEW_YORK);
      expect([before.hour, after.hour]).toEqual([8, 7]);
      expect(resolveBound(morning, before)).toBe(3);
      expect(resolveBound(morning, after)).toBe(1);
    });

    it("during the repeated hour both instants resolve by wall clock", () => {
      const first115 = instant("2026-11-01T05:15:00Z", NEW_YORK); // 01:15 EDT
      const first130 = instant("2026-11-01T05:30:00Z", NEW_YORK); // 01:30 EDT
      const second115 = instant("2026-11-01T06:15:00Z", NEW_YORK); // 01:15 EST
      const second130 = instant("2026-11-01T06:30:00Z", NEW_YORK); // 01:30 EST
      expect([first115.hour, first115.minute, first115.offset]).toEqual([1, 15, -240]);
      expect([second115.hour, second115.minute, second115.offset]).toEqual([1, 15, -300]);
      expect(resolveBound(bound, first115)).toBe(1);
      expect(resolveBound(bound, first130)).toBe(2);
      // The clock goes back to 1:00: the 1:30 entry stops, and takes effect again at the second 1:30.
      expect(resolveBound(bound, second115)).toBe(1);
      expect(resolveBound(bound, second130)).toBe(2);
    });

    it("8:00 local falls at 12:00 UTC before and 13:00 UTC on the change day", () => {
      expect(resolveBound(morning, instant("2026-10-31T11:59:00Z", NEW_YORK))).toBe(1);
      expect(resolveBound(morning, instant("2026-10-31T12:00:00Z", NEW_YORK))).toBe(3);
      expect(resolveBound(morning, instant("2026-11-01T12:59:00Z", NEW_YORK))).toBe(1);
      expect(resolveBound(morning, instant("2026-11-01T13:00:00Z", NEW_YORK))).toBe(3);
    });
  });

  describe("Europe/Berlin, spring forward 2026-03-29 (2:00 CET → 3:00 CEST)", () => {
    it("the same UTC instant resolves differently before and after the change", () => {
      const before = instant("2026-03-28T06:30:00Z", BERLIN); // 07:30 CET
      const after = instant("2026-03-30T06:30:00Z", BERLIN); // 08:30 CEST
      expect([before.hour, after.hour]).toEqual([7, 8]);
      expect(resolveBound(morning, before)).toBe(1);
      expect(resolveBound(morning, after)).toBe(3);
    });

    it("a key inside the skipped hour (2:30) takes effect at 3:00 local", () => {
      const bound: Bound = { "0:00": 1, "2:30": 2 };
      const lastCet = instant("2026-03-29T00:59:00Z", BERLIN); // 01:59 CET
      const firstCest = instant("2026-03-29T01:00:00Z", BERLIN); // 03:00 CEST
      expect([lastCet.hour, firstCest.hour, firstCest.minute]).toEqual([1, 3, 0]);
      expect(resolveBound(bound, lastCet)).toBe(1);
      expect(resolveBound(bound, firstCest)).toBe(2);
    });
  });

  describe("Europe/Berlin, fall back 2026-10-25 (3:00 CEST → 2:00 CET)", () => {
    it("the same UTC instant resolves differently before and after the change", () => {
      const before = instant("2026-10-24T06:30:00Z", BERLIN); // 08:30 CEST
      const after = instant("2026-10-26T06:30:00Z", BERLIN); // 07:30 CET
      expect([before.hour, after.hour]).toEqual([8, 7]);
      expect(resolveBound(morning, before)).toBe(3);
      expect(resolveBound(morning, after)).toBe(1);
    });

    it("during the repeated hour both instants resolve by wall clock", () => {
      const bound: Bound = { "0:00": 1, "2:30": 2, "3:00": 3 };
      const firstTwo15 = instant("2026-10-25T00:15:00Z", BERLIN); // 02:15 CEST
      const firstTwo45 = instant("2026-10-25T00:45:00Z", BERLIN); // 02:45 CEST
      const secondTwo15 = instant("2026-10-25T01:15:00Z", BERLIN); // 02:15 CET
      const secondTwo45 = instant("2026-10-25T01:45:00Z", BERLIN); // 02:45 CET
      const three = instant("2026-10-25T02:00:00Z", BERLIN); // 03:00 CET
      expect([firstTwo15.hour, firstTwo15.offset, secondTwo15.hour, secondTwo15.offset]).toEqual([
        2, 120, 2, 60,
      ]);
      expect(resolveBound(bound, firstTwo15)).toBe(1);
      expect(resolveBound(bound, firstTwo45)).toBe(2);
      expect(resolveBound(bound, secondTwo15)).toBe(1);
      expect(resolveBound(bound, secondTwo45)).toBe(2);
      expect(resolveBound(bound, three)).toBe(3);
    });
  });
});

describe("time-of-day bounds through decideConsecutiveThreshold (America/New_York)", () => {
  const config = consecutiveThresholdSchema.parse({
    backend: "consecutive-threshold",
    minProcesses: { "0:00": 1, "8:00": 3, "18:00": 1 },
  });
  const ok: Reading = { backend: "response-time", value: 800, unit: "ms", ok: true };
  const decideAt = (now: DateTime, current: number) =>
    decideConsecutiveThreshold({ config, state: emptyDecisionState(), reading: ok, current, now });

  it("holds at 1 at 07:59 local and scales up to 3 (past the increment) at 08:00 local", () => {
    const before = decideAt(local("2026-06-10T07:59", NEW_YORK), 1);
    expect(before).toMatchObject({ action: "hold", target: 1, bounds: { min: 1, max: 3 } });
    const at8 = decideAt(local("2026-06-10T08:00", NEW_YORK), 1);
    expect(at8).toMatchObject({ action: "up", target: 3, bounds: { min: 3, max: 3 } });
    expect(at8.reason).toBe("1 is below the minimum of 3");
  });

  it("does not force a scale down at 18:00: the lower minimum only allows one", () => {
    const d = decideAt(local("2026-06-10T18:00", NEW_YORK), 3);
    expect(d).toMatchObject({ action: "hold", target: 3, bounds: { min: 1, max: 3 } });
  });

  it("follows the local clock on the spring-forward day (08:00 EDT is 12:00 UTC)", () => {
    expect(decideAt(instant("2026-03-08T11:59:00Z", NEW_YORK), 1).action).toBe("hold");
    expect(decideAt(instant("2026-03-08T12:00:00Z", NEW_YORK), 1)).toMatchObject({ action: "up", target: 3 });
  });

  it("scales up at 12:30 UTC after the spring change but not before it", () => {
    expect(decideAt(instant("2026-03-07T12:30:00Z", NEW_YORK), 1).action).toBe("hold"); // 07:30 EST
    expect(decideAt(instant("2026-03-09T12:30:00Z", NEW_YORK), 1)).toMatchObject({ action: "up", target: 3 }); // 08:30 EDT
  });

  it("follows the local clock on the fall-back day (08:00 EST is 13:00 UTC)", () => {
    expect(decideAt(instant("2026-11-01T12:59:00Z", NEW_YORK), 1).action).toBe("hold");
    expect(decideAt(instant("2026-11-01T13:00:00Z", NEW_YORK), 1)).toMatchObject({ action: "up", target: 3 });
  });

  it("reads the wall clock of `now`'s own zone: the same instant decides differently per zone", () => {
    const utc = instant("2026-06-10T07:30:00Z", "utc");
    expect(decideAt(utc.setZone(NEW_YORK), 1).action).toBe("hold"); // 03:30 EDT
    expect(decideAt(utc.setZone("Asia/Kolkata"), 1)).toMatchObject({ action: "up", target: 3 }); // 13:00 IST
  });
});

describe("resolveBound: a bound of every day needs no weekday", () => {
  /** The week's search, rule by rule, as resolveBound makes it for rules with days. */
  function searchWeek(entries: [string, number][], hour: number, minute: number): number {
    const minuteOf = (key: string) => Number(key.split(":")[0]) * 60 + Number(key.split(":")[1]);
    for (const latest of [hour * 60 + minute, 24 * 60]) {
      let found: [string, number] | undefined;
      for (const entry of entries)
        if (minuteOf(entry[0]) <= latest && (!found || minuteOf(entry[0]) >= minuteOf(found[0])))
          found = entry;
      if (found) return found[1];
    }
    throw new Error("no rules");
  }
  const time = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }));
  const key = ([h, m]: [number, number]) => `${h}:${String(m).padStart(2, "0")}`;

  it("resolves a time-of-day map, and the same rules with every day named, as the week's search does", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(time, fc.integer({ min: 0, max: 50 })), {
          minLength: 1,
          maxLength: 6,
          selector: ([t]) => key(t),
        }),
        fc.integer({ min: 1, max: 7 }),
        time,
        (raw, weekday, [hour, minute]) => {
          const entries = raw.map(([t, value]): [string, number] => [key(t), value]);
          const expected = searchWeek(entries, hour, minute);
          const at = { weekday, hour, minute };
          expect(resolveBound(Object.fromEntries(entries), at)).toBe(expected);
          const rules = entries.map(([from, value]) => ({ from, value }));
          expect(resolveBound(rules, at)).toBe(expected);
          // Rules naming their days take the week's search: away from Sunday's own rule (and the Monday after it) it agrees.
          const days: ("mon" | "tue" | "wed" | "thu" | "fri" | "sat")[] = [
            "mon",
            "tue",
            "wed",
            "thu",
            "fri",
            "sat",
          ];
          const named = rules.map((rule) => ({ ...rule, days }));
          const sunday = { days: ["sun" as const], from: "0:00", value: 1000 };
          const week = resolveBound([...named, sunday], at);
          if (weekday !== 7 && weekday !== 1) expect(week).toBe(expected);
        },
      ),
    );
  });
});
