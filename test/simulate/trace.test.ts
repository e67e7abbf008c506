import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DateTime } from "luxon";
import { describe, expect, it, vi } from "vitest";
import {
  bundledTrace,
  compressTrace,
  parseTimestamp,
  parseTrace,
  sliceTrace,
  traceNotes,
  TraceError,
  type Trace,
} from "../../src/simulate/trace.js";

const SHARED = fileURLToPath(new URL("../../../shared/traces/nasa-1995-07.csv", import.meta.url));
const at = (iso: string) => Date.parse(iso);

describe("the NASA format of ../shared/traces", () => {
  const text = [
    "minute_start_edt,epoch_s,requests,note",
    "1995-07-01T00:00:00-04:00,804571200,42,",
    "1995-07-01T00:01:00-04:00,804571260,61,",
    "1995-07-01T00:02:00-04:00,804571320,57,",
  ].join("\n");

  it("reads one row a minute by epoch_s, in the trace's zone", () => {
    const trace = parseTrace(text, "nasa.csv");
    expect([...trace.requests]).toEqual([42, 61, 57]);
    expect(trace.startMs[0]).toBe(804_571_200_000);
    expect(trace.startMs[2]! - trace.startMs[0]!).toBe(120_000);
    expect(trace).toMatchObject({ intervalSeconds: 60, gaps: [], zone: "America/New_York", speedup: 1 });
  });
});

describe("a generic timestamp,value CSV", () => {
  it("5-minute counts are spread over their minutes", () => {
    const trace = parseTrace(
      "timestamp,value\n2026-03-02T00:00:00Z,50\n2026-03-02T00:05:00Z,100\n2026-03-02T00:10:00Z,25\n",
      "five.csv",
    );
    expect(trace.intervalSeconds).toBe(300);
    expect([...trace.requests]).toEqual([
      ...Array<number>(5).fill(10),
      ...Array<number>(5).fill(20),
      ...Array<number>(5).fill(5),
    ]);
    expect(trace.startMs[0]).toBe(at("2026-03-02T00:00:00Z"));
    expect(trace.gaps).toEqual([]);
  });

  it("a missing sample is a gap, reported and not invented", () => {
    const trace = parseTrace(
      "2026-03-02T00:00:00Z,50\n2026-03-02T00:05:00Z,50\n2026-03-02T00:20:00Z,50\n2026-03-02T00:25:00Z,50\n",
      "gap.csv",
    );
    expect(trace.requests.length).toBe(20); // 00:00-00:09 and 00:20-00:29
    expect(trace.gaps).toEqual([{ startMs: at("2026-03-02T00:10:00Z"), minutes: 10 }]);
    expect(trace.startMs[10]).toBe(at("2026-03-02T00:20:00Z"));
    expect(traceNotes(trace)).toEqual([
      "gap: no data for 10 min from 2026-03-02 00:10 (not simulated, not billed)",
    ]);
  });

  it("an empty value is a gap too", () => {
    const trace = parseTrace("0,60\n60,\n120,60\n180,60\n", "empty.csv");
    expect(trace.gaps).toEqual([{ startMs: 60_000, minutes: 1 }]);
    expect([...trace.requests]).toEqual([60, 60, 60]);
  });

  it("rates per minute or per second, and samples shorter than a minute", () => {
    const perMinute = parseTrace("0,100\n300,200\n", "r.csv", { valueIs: "per-minute" });
    expect([...perMinute.requests]).toEqual([...Array<number>(5).fill(100), ...Array<number>(5).fill(200)]);
    const perSecond = parseTrace("0,2\n30,4\n60,6\n90,8\n", "s.csv", { valueIs: "per-second" });
    expect([...perSecond.requests]).toEqual([180, 420]);
    const counts = parseTrace("0,2\n30,4\n60,6\n90,8\n", "c.csv");
    expect([...counts.requests]).toEqual([6, 14]);
  });

  it("timestamps: epoch seconds or ms, ISO with an offset, or local time in a zone", () => {
    expect(parseTimestamp("1700000000")).toBe(1_700_000_000_000);
    expect(parseTimestamp("1700000000000")).toBe(1_700_000_000_000);
    expect(parseTimestamp("2026-03-02T10:00:00+01:00")).toBe(at("2026-03-02T09:00:00Z"));
    expect(parseTimestamp("2026-03-02 10:00:00", "Europe/Berlin")).toBe(at("2026-03-02T09:00:00Z"));
    expect(parseTimestamp("yesterday")).toBeNull();
  });

  it("bad rows are errors that name their line", () => {
    expect(() => parseTrace("timestamp,value\nnot-a-time,3\n", "bad.csv")).toThrow(
      new TraceError("bad.csv", 'line 2: not a timestamp: "not-a-time"'),
    );
    expect(() => parseTrace("0,1\n60,-3\n", "neg.csv")).toThrow(/line 2: not a request count >= 0/);
    expect(() => parseTrace("0,1\n0,2\n", "dup.csv")).toThrow(/two rows at/);
    expect(() => parseTrace("", "none.csv")).toThrow(/no rows/);
  });

  it("rows out of order are sorted, and said so", () => {
    const trace = parseTrace("60,2\n0,1\n120,3\n", "unsorted.csv");
    expect([...trace.requests]).toEqual([1, 2, 3]);
    expect(trace.warnings).toEqual(["rows were not in time order: sorted"]);
  });
});

describe("the bundled day and time compression", () => {
  it("is the NASA launch day, with its spike and its logging gap of zeros", () => {
    const trace = bundledTrace();
    expect(trace.requests.length).toBe(1440);
    expect(Math.max(...trace.requests)).toBe(405);
    expect(trace.zeroRuns).toEqual([{ startMs: at("1995-07-13T23:49:00Z"), minutes: 22 }]);
    expect(traceNotes(trace)).toEqual([
      "22 minutes of zero requests from 1995-07-13 19:49: kept as no traffic (a logging gap?)",
    ]);
  });

  it.skipIf(!existsSync(SHARED))("equals 1995-07-13 of ../shared/traces/nasa-1995-07.csv", () => {
    const shared = parseTrace(readFileSync(SHARED, "utf8"), "nasa-1995-07.csv");
    const day = sliceTrace(shared, at("1995-07-13T04:00:00Z"), at("1995-07-14T04:00:00Z"));
    const bundled = bundledTrace();
    expect([...day.requests]).toEqual([...bundled.requests]);
    expect([...day.startMs]).toEqual([...bundled.startMs]);
  });

  it("compresses N trace minutes into one simulated minute, averaging the rate", () => {
    const trace = parseTrace("0,1\n60,3\n120,5\n180,7\n240,9\n", "five.csv");
    const fast = compressTrace(trace, 2);
    expect([...fast.requests]).toEqual([2, 6, 9]);
    expect([...fast.startMs]).toEqual([0, 60_000, 120_000]); // the simulated clock
    expect([...fast.traceMs]).toEqual([0, 120_000, 240_000]); // the trace time each stands for
    expect(fast.speedup).toBe(2);
    expect(() => compressTrace(trace, 0)).toThrow(/speedup/);
  });

  it("slices by trace time", () => {
    const trace = parseTrace("0,1\n60,3\n120,5\n180,7\n", "four.csv");
    expect([...sliceTrace(trace, 60_000, 180_000).requests]).toEqual([3, 5]);
    expect(() => sliceTrace(trace, 600_000)).toThrow(/no minute/);
  });
});

describe("zone-less timestamps", () => {
  const NY = "America/New_York";
  /** `minutes` rows a minute apart from a wall-clock time, as written by a local-time export. */
  const localRows = (from: string, minutes: number) => {
    const start = Date.parse(`${from}Z`);
    return Array.from(
      { length: minutes },
      (_, i) => `${new Date(start + i * 60_000).toISOString().slice(0, 19)},1`,
    );
  };

  it("a bare date is its midnight in the zone, not an offset of -13", () => {
    expect(parseTimestamp("1995-07-13", NY)).toBe(at("1995-07-13T04:00:00Z"));
    expect(parseTimestamp("1995-07-13")).toBe(at("1995-07-13T00:00:00Z"));
    expect(parseTimestamp("1995-07-13T09:30", NY)).toBe(at("1995-07-13T13:30:00Z"));
    expect(parseTimestamp("1995-07-13T09:30:15.250", NY)).toBe(at("1995-07-13T13:30:15.250Z"));
    expect(parseTimestamp("1995-07-13T09:30-13:00")).toBe(at("1995-07-13T22:30:00Z"));
    expect(parseTimestamp("2026-02-30", NY)).toBeNull();
    expect(parseTimestamp("2026-03-02T24:30", NY)).toBeNull();
    const daily = parseTrace("2023-01-01,1440\n2023-01-02,1440\n", "daily.csv", { zone: NY });
    expect(daily.startMs[0]).toBe(at("2023-01-01T05:00:00Z"));
    expect(daily.requests.length).toBe(2 * 1440);
  });

  it("read field by field, as luxon reads them, without a DateTime per row", () => {
    // Across the spring-forward night: 02:00-02:59 on 03-08 does not exist, and is not written.
    const rows = [...localRows("2026-03-07T12:00:00", 14 * 60), ...localRows("2026-03-08T03:00:00", 21 * 60)];
    const fromIso = vi.spyOn(DateTime, "fromISO");
    let trace: Trace;
    try {
      trace = parseTrace(rows.join("\n"), "local.csv", { zone: NY });
      expect(fromIso).not.toHaveBeenCalled();
    } finally {
      fromIso.mockRestore();
    }
    expect(trace.requests.length).toBe(35 * 60);
    expect(trace.gaps).toEqual([]);
    expect(trace.startMs[0]).toBe(at("2026-03-07T17:00:00Z"));
    expect(trace.startMs[35 * 60 - 1]).toBe(at("2026-03-09T03:59:00Z"));
    for (const zone of [NY, "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"])
      for (const wall of ["2026-01-15T08:45:00", "2026-07-01T23:59:59.999", "2026-10-04T01:30:00"]) {
        const expected = DateTime.fromISO(wall, { zone }).toMillis();
        expect(parseTimestamp(wall, zone), `${wall} in ${zone}`).toBe(expected);
      }
  });

  it("the hour the clock repeats in autumn: the second pass takes the later offset", () => {
    // 00:00-02:59 local on 2023-11-05, 01:00-01:59 twice (EDT, then EST): 240 rows, 240 minutes.
    const rows = [...localRows("2023-11-05T00:00:00", 120), ...localRows("2023-11-05T01:00:00", 120)];
    const trace = parseTrace(["timestamp,value", ...rows].join("\n"), "fall.csv", { zone: NY });
    expect(trace.requests.length).toBe(240);
    expect(trace.gaps).toEqual([]);
    expect(trace.warnings).toEqual([]);
    expect(trace.startMs[0]).toBe(at("2023-11-05T04:00:00Z"));
    expect(trace.startMs[239]).toBe(at("2023-11-05T07:59:00Z"));
    // Hourly rows: 01:00 twice.
    const hourly = parseTrace(
      "2023-11-05 00:00,60\n2023-11-05 01:00,60\n2023-11-05 01:00,60\n2023-11-05 02:00,60\n",
      "hourly.csv",
      { zone: NY, valueIs: "count" },
    );
    expect(hourly.requests.length).toBe(4 * 60);
    expect(hourly.gaps).toEqual([]);
    // Newest first: the first pass read is the later one; sorted, and said so.
    const newestFirst = parseTrace([...rows].reverse().join("\n"), "desc.csv", { zone: NY });
    expect([...newestFirst.startMs]).toEqual([...trace.startMs]);
    expect(newestFirst.warnings).toEqual(["rows were not in time order: sorted"]);
  });

  it("a third pass over the repeated hour is an error that names it", () => {
    const rows = ["2023-11-05T01:00:00,1", "2023-11-05T01:00:00,1", "2023-11-05T01:00:00,1"];
    expect(() => parseTrace(rows.join("\n"), "three.csv", { zone: NY })).toThrow(
      /two rows at 2023-11-05T06:00:00.000Z, in the hour the clock repeats in America\/New_York when summer time ends: write the timestamps as epoch seconds or with their offset/,
    );
  });
});
