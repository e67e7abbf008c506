import { DateTime, IANAZone } from "luxon";
import { describe, expect, it } from "vitest";
import { CachedZone } from "../../src/simulate/zone.js";

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
