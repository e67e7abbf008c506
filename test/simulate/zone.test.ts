import { DateTime, IANAZone } from "luxon";
import { describe, expect, it } from "vitest";
import { CachedZone, WallClock } from "../../src/simulate/zone.js";

describe("the replay's cached zone", () => {
  it.each([
    ["America/New_York", "2026-03-08T04:00:00Z"], // spring forward at 2:00 local
    ["America/New_York", "2026-11-01T04:00:00Z"], // fall back at 2:00 local
    ["Australia/Lord_Howe", "2026-04-04T13:00:00Z"], // a half-hour shift at 2:00 local (15:00 UTC)
    ["Asia/Kathmandu", "2026-01-01T00:00:00Z"], // +5:45 all year
  ])("gives %s's offsets and wall clock minute by minute around %s", (name, iso) => {
    const cached = new CachedZone(name);
    const exact = IANAZone.create(name);
    const start = Date.parse(iso);
    for (let minute = 0; minute < 6 * 60; minute++) {
      const ms = start + minute * 60_000;
      expect(cached.offset(ms)).toBe(exact.offset(ms));
      const a = DateTime.fromMillis(ms, { zone: cached });
      const b = DateTime.fromMillis(ms, { zone: exact });
      expect(a.toISO()).toBe(b.toISO());
    }
    expect(cached.equals(exact)).toBe(true);
    expect(DateTime.fromMillis(start, { zone: cached }).zoneName).toBe(name);
  });
});

describe("wall-clock times to instants", () => {
  it.each([
    ["America/New_York", "2026-03-08T00:00:00", 0, 60], // 02:00-02:59 skipped
    ["America/New_York", "2026-11-01T00:00:00", 60, 0], // 01:00-01:59 twice
    ["Australia/Lord_Howe", "2026-04-05T00:00:00", 30, 0], // 01:30-01:59 twice
    ["Australia/Lord_Howe", "2026-10-04T00:00:00", 0, 30], // 02:00-02:29 skipped
    ["Asia/Kathmandu", "2026-01-01T00:00:00", 0, 0],
  ])("%s from %s: minute by minute as luxon, %i repeated and %i skipped", (name, from, repeated, skipped) => {
    const clock = new WallClock(name);
    const start = Date.parse(`${from}Z`);
    let twice = 0;
    let missing = 0;
    for (let minute = 0; minute < 6 * 60; minute++) {
      const wall = start + minute * 60_000;
      const { earlier, later } = clock.instants(wall);
      const text = new Date(wall).toISOString().slice(0, 19);
      const back = (ms: number) =>
        DateTime.fromMillis(ms, { zone: name }).toISO({ includeOffset: false, suppressMilliseconds: true });
      if (back(earlier) !== text) {
        missing++;
        // Skipped: moved forward by the change, as luxon does.
        expect(earlier).toBe(DateTime.fromISO(text, { zone: name }).toMillis());
        continue;
      }
      if (later !== earlier) {
        twice++;
        expect(back(later)).toBe(back(earlier));
        expect(later - earlier).toBeGreaterThan(0);
      }
    }
    expect([twice, missing]).toEqual([repeated, skipped]);
  });
});
