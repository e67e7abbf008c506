import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { SimulatedMoment } from "../../src/simulate/moment.js";
import { CachedZone } from "../../src/simulate/zone.js";

/** The simulator's moments against luxon's DateTimes: every field the decision step reads. */
describe("SimulatedMoment", () => {
  it.each([
    ["America/New_York", "2026-03-07T00:00Z"], // skips 2:00-3:00 on the 8th
    ["America/New_York", "2026-10-31T00:00Z"], // repeats 1:00-2:00 on 1 November
    ["Europe/London", "2026-03-28T00:00Z"],
    ["America/St_Johns", "2026-11-01T00:00Z"], // UTC-3:30, then -2:30
    ["Asia/Kathmandu", "2026-12-31T00:00Z"], // UTC+5:45, across a new year
    ["Australia/Lord_Howe", "2026-04-04T00:00Z"], // a half-hour change
    ["UTC", "2028-02-28T00:00Z"], // a leap day
  ])(
    "has luxon's offset, weekday, hour and minute in %s, every minute of two days from %s",
    (name, start) => {
      const zone = new CachedZone(name);
      const from = Date.parse(start);
      for (let minute = 0; minute < 2 * 1440; minute++) {
        const ms = from + minute * 60_000;
        const moment = new SimulatedMoment(ms, zone);
        const expected = DateTime.fromMillis(ms, { zone: name });
        expect(
          {
            ms: moment.toMillis(),
            offset: moment.offset,
            weekday: moment.weekday,
            hour: moment.hour,
            minute: moment.minute,
          },
          expected.toISO()!,
        ).toEqual({
          ms,
          offset: expected.offset,
          weekday: expected.weekday,
          hour: expected.hour,
          minute: expected.minute,
        });
      }
    },
  );
});
