import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { DateTime } from "luxon";
import { MINUTE_MS } from "./model.js";
import { NASA_1995_07_13 } from "./traces/nasa-1995-07-13.js";
import { WallClock } from "./zone.js";
import { plural } from "../kit/plural.js";

/**
 * A request-rate trace, one entry per minute. Minutes the source does not cover are gaps: they
 * are reported and left out (the replay neither bills nor simulates them), never invented.
 */
export interface Trace {
  source: string;
  /** Each minute's start on the simulated clock (epoch ms): the trace's own time unless compressed. */
  startMs: Float64Array;
  /** The trace time each minute stands for (its first trace minute, when compressed). */
  traceMs: Float64Array;
  /** Requests in each minute. */
  requests: Float64Array;
  /** The source's sample interval in seconds. */
  intervalSeconds: number;
  /** Trace minutes with no data, on the trace's own clock. */
  gaps: Gap[];
  /**
   * Runs of at least ZERO_RUN_MINUTES minutes without a request, on the trace's own clock:
   * kept as no traffic, but reported (they are often a logging gap, not a quiet site).
   */
  zeroRuns: Gap[];
  /** Zone the trace's own wall clock is in, for display (the NASA trace: America/New_York). */
  zone: string;
  /** Trace minutes per simulated minute (1: real time). */
  speedup: number;
  warnings: string[];
  /**
   * The service time the trace itself measured (`autoscalebot trace` writes a `service_p50_ms`
   * column): the median of its minutes' p50s, over the minutes that served a request. Absent
   * when the file has no such column.
   */
  serviceTimeMs?: number;
}

export interface Gap {
  startMs: number;
  minutes: number;
}

/** How a generic trace's values count requests. */
export type ValueIs = "count" | "per-minute" | "per-second";

export interface ReadOptions {
  /** Zone of timestamps written without an offset (default UTC). */
  zone?: string;
  /** `count` (default): requests in the interval that starts at the timestamp; or a rate. */
  valueIs?: ValueIs;
}

export class TraceError extends Error {
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = "TraceError";
  }
}

/** Runs of zero traffic at least this long are reported (they are often a logging gap, not a quiet site). */
export const ZERO_RUN_MINUTES = 10;

function splitLines(text: string): { line: string; number: number }[] {
  const lines: { line: string; number: number }[] = [];
  const raw = text.split("\n");
  for (let i = 0; i < raw.length; i++) {
    const line = raw[i]!.replace(/\r$/, "").trim();
    if (line !== "" && !line.startsWith("#")) lines.push({ line, number: i + 1 });
  }
  return lines;
}

/** An offset at the end of a time (not the day of a bare date: `1995-07-13` has none). */
const OFFSET = /T\d\d.*(Z|[+-]\d\d(:?\d\d)?)$/i;
/** A wall-clock time without an offset, read field by field (luxon only for other ISO forms). */
const WALL = /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?)?$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** What a timestamp's text is: an instant (epoch, or with an offset), a wall-clock time, or not a time. */
type Parsed = { instant: number } | { wall: number } | null;

function parseText(text: string): Parsed {
  const trimmed = text.trim().replace(/^"|"$/g, "");
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const n = Number(trimmed);
    return { instant: n >= 1e11 ? n : n * 1000 };
  }
  const iso = trimmed.replace(" ", "T");
  if (OFFSET.test(iso)) {
    const ms = Date.parse(iso);
    if (!Number.isNaN(ms)) return { instant: ms };
    const parsed = DateTime.fromISO(iso, { zone: "UTC" });
    return parsed.isValid ? { instant: parsed.toMillis() } : null;
  }
  const m = WALL.exec(iso);
  if (m) {
    const year = Number(m[1]);
    const month = Number(m[2]);
    const day = Number(m[3]);
    const hour = m[4] === undefined ? 0 : Number(m[4]);
    const minute = m[5] === undefined ? 0 : Number(m[5]);
    const second = m[6] === undefined ? 0 : Number(m[6]);
    const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, "0"));
    const days = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1];
    if (days === undefined || day < 1 || day > days || hour > 23 || minute > 59 || second > 59) return null;
    return { wall: Date.UTC(year, month - 1, day, hour, minute, second, ms) };
  }
  // Other ISO 8601 forms (basic, ordinal, week dates): luxon reads the wall clock, in UTC.
  const parsed = DateTime.fromISO(iso, { zone: "UTC" });
  return parsed.isValid ? { wall: parsed.toMillis() } : null;
}

const clocks = new Map<string, WallClock>();

/** The wall clock of a zone, one per zone name (its offsets cached per hour). */
function wallClock(zone: string): WallClock {
  let clock = clocks.get(zone);
  if (!clock) {
    clock = new WallClock(zone);
    clocks.set(zone, clock);
  }
  return clock;
}

/**
 * Epoch ms from a timestamp: epoch seconds or ms (told apart by magnitude), or ISO 8601 with
 * an offset, or without one in `zone` (a bare date is its midnight there). A wall-clock time
 * the clock repeats (the hour summer time ends) is its first instant; a skipped one moves forward.
 */
export function parseTimestamp(text: string, zone = "UTC"): number | null {
  const parsed = parseText(text);
  if (parsed === null || "instant" in parsed) return parsed?.instant ?? null;
  const clock = wallClock(zone);
  return clock.isValid ? clock.instants(parsed.wall).earlier : null;
}

const HOUR_MS = 60 * MINUTE_MS;

const isNumeric = (text: string | undefined): boolean =>
  text !== undefined && text.trim() !== "" && Number.isFinite(Number(text));

/**
 * Parses a trace: the NASA format of ../shared/traces (`minute_start_edt,epoch_s,requests,note`,
 * one row a minute) or a generic `timestamp,value` CSV at any fixed interval (a header line is
 * optional), resampled to minutes.
 */
export function parseTrace(text: string, source: string, options: ReadOptions = {}): Trace {
  const lines = splitLines(text);
  if (lines.length === 0) throw new TraceError(source, "no rows");
  const header = lines[0]!.line.split(",").map((h) => h.trim().toLowerCase());
  if (header.includes("epoch_s") && header.includes("requests")) {
    return resample(
      readColumns(lines.slice(1), source, header.indexOf("epoch_s"), header.indexOf("requests"), "UTC"),
      {
        source,
        zone: "America/New_York",
        valueIs: "count",
      },
    );
  }
  const hasHeader = !isNumeric(lines[0]!.line.split(",")[1]);
  const rows = readColumns(hasHeader ? lines.slice(1) : lines, source, 0, 1, options.zone ?? "UTC");
  const trace = resample(rows, { source, zone: options.zone ?? "UTC", valueIs: options.valueIs ?? "count" });
  const service = hasHeader ? header.indexOf(SERVICE_P50) : -1;
  if (service < 0) return trace;
  const serviceTimeMs = medianColumn(lines.slice(1), service, header.indexOf("requests"));
  return serviceTimeMs === null ? trace : { ...trace, serviceTimeMs };
}

/** The column of `autoscalebot trace` that holds each minute's service-time p50. */
export const SERVICE_P50 = "service_p50_ms";

/**
 * The median of a column's values over the rows that have one (and, when the file counts
 * requests, served at least one): a minute without requests has no service time to report.
 */
function medianColumn(lines: { line: string }[], column: number, requestsColumn: number): number | null {
  const values: number[] = [];
  for (const { line } of lines) {
    const fields = line.split(",");
    if (requestsColumn >= 0 && !(Number(fields[requestsColumn]) > 0)) continue;
    const text = fields[column]?.trim();
    if (!text) continue;
    const value = Number(text);
    if (Number.isFinite(value) && value >= 0) values.push(value);
  }
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

interface Sample {
  ms: number;
  /** null: the row is there but says nothing (an empty value): a gap. */
  value: number | null;
  /** A wall-clock time the clock repeats (summer time ends): its second instant, until resolved. */
  later?: number;
  /** The row's time is in an hour the clock repeats. */
  repeated?: boolean;
}

function readColumns(
  lines: { line: string; number: number }[],
  source: string,
  timeColumn: number,
  valueColumn: number,
  zone: string,
): Sample[] {
  const samples: Sample[] = [];
  const clock = wallClock(zone);
  let repeats = false;
  for (const { line, number } of lines) {
    const fields = line.split(",");
    const time = fields[timeColumn];
    const parsed = time === undefined ? null : parseText(time);
    if (parsed === null)
      throw new TraceError(source, `line ${number}: not a timestamp: ${JSON.stringify(time ?? "")}`);
    let sample: Sample;
    if ("instant" in parsed) sample = { ms: parsed.instant, value: null };
    else {
      if (!clock.isValid) throw new TraceError(source, `not a time zone: ${JSON.stringify(zone)}`);
      const { earlier, later } = clock.instants(parsed.wall);
      sample = later === earlier ? { ms: earlier, value: null } : { ms: earlier, value: null, later };
      if (later !== earlier) repeats = true;
    }
    samples.push(sample);
    const raw = (fields[valueColumn] ?? "").trim();
    if (raw === "") continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0)
      throw new TraceError(source, `line ${number}: not a request count >= 0: ${JSON.stringify(raw)}`);
    sample.value = value;
  }
  if (samples.length === 0) throw new TraceError(source, "no rows");
  if (repeats) resolveRepeats(samples);
  return samples;
}

/**
 * Rows in the hour the clock repeats when summer time ends (01:00-01:59 twice in New York),
 * written without an offset: read in the file's order, the first pass is the earlier instant
 * and the second, where the time goes back by up to the change, the later one (mirrored for a
 * file newest first). An hour written once is taken as its first pass.
 */
function resolveRepeats(samples: Sample[]): void {
  let rising = 0;
  for (let i = 1; i < samples.length; i++) rising += Math.sign(samples[i]!.ms - samples[i - 1]!.ms);
  const ascending = rising >= 0;
  for (let i = 0; i < samples.length; i++) {
    if (samples[i]!.later === undefined) continue;
    let pass = 0;
    let previous = samples[i]!.ms;
    for (let j = i; j < samples.length; j++) {
      const sample = samples[j]!;
      const later = sample.later;
      if (later === undefined) break;
      const diff = sample.ms - previous; // on the first instants: the wall clock's steps
      if (Math.abs(diff) >= HOUR_MS * 24) break; // another year's repeat
      if (j > i && (ascending ? diff <= 0 : diff >= 0)) pass++;
      previous = sample.ms;
      sample.repeated = true;
      sample.later = undefined;
      const secondPass = pass > 0;
      if (secondPass === ascending) sample.ms = later; // newest first: the first pass read is the later
      i = j;
    }
  }
}

/** Spreads each sample's requests over the minutes its interval covers; minutes not wholly covered are gaps. */
function resample(samples: Sample[], meta: { source: string; zone: string; valueIs: ValueIs }): Trace {
  const warnings: string[] = [];
  for (let i = 1; i < samples.length; i++) {
    if (samples[i]!.ms < samples[i - 1]!.ms) {
      samples.sort((a, b) => a.ms - b.ms);
      warnings.push("rows were not in time order: sorted");
      break;
    }
  }
  const diffs: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const diff = samples[i]!.ms - samples[i - 1]!.ms;
    if (diff === 0) {
      const at = new Date(samples[i]!.ms).toISOString();
      const repeated = samples[i]!.repeated || samples[i - 1]!.repeated;
      throw new TraceError(
        meta.source,
        repeated
          ? `two rows at ${at}, in the hour the clock repeats in ${meta.zone} when summer time ends: write the timestamps as epoch seconds or with their offset`
          : `two rows at ${at}`,
      );
    }
    diffs.push(diff);
  }
  diffs.sort((a, b) => a - b);
  // The fixed interval: the median spacing (a gap widens a few spacings, never the median).
  const interval = diffs.length > 0 ? diffs[Math.floor(diffs.length / 2)]! : MINUTE_MS;
  if (interval < 1000)
    throw new TraceError(meta.source, `an interval of ${interval} ms: expected 1 s or more`);
  const perSample =
    meta.valueIs === "count" ? 1 : meta.valueIs === "per-minute" ? interval / MINUTE_MS : interval / 1000;

  const firstMinute = Math.floor(samples[0]!.ms / MINUTE_MS);
  const lastMinute = Math.floor((samples[samples.length - 1]!.ms + interval - 1) / MINUTE_MS);
  const span = lastMinute - firstMinute + 1;
  const counts = new Float64Array(span);
  const covered = new Float64Array(span);
  for (const { ms, value } of samples) {
    if (value === null) continue;
    const end = ms + interval;
    const requests = value * perSample;
    for (let t = ms; t < end;) {
      const minute = Math.floor(t / MINUTE_MS);
      const next = Math.min(end, (minute + 1) * MINUTE_MS);
      const share = (next - t) / interval;
      counts[minute - firstMinute]! += requests * share;
      covered[minute - firstMinute]! += next - t;
      t = next;
    }
  }

  const valid = (i: number) => covered[i]! >= MINUTE_MS - 1e-6;
  let first = 0;
  while (first < span && !valid(first)) first++;
  let last = span - 1;
  while (last >= first && !valid(last)) last--;
  if (first > last)
    throw new TraceError(
      meta.source,
      "no whole minute covered: is the interval longer than the rows' spacing?",
    );
  const startMs: number[] = [];
  const requests: number[] = [];
  const gaps: Gap[] = [];
  for (let i = first; i <= last; i++) {
    if (valid(i)) {
      startMs.push((firstMinute + i) * MINUTE_MS);
      requests.push(counts[i]!);
      continue;
    }
    const gapStart = i;
    while (i <= last && !valid(i)) i++;
    gaps.push({ startMs: (firstMinute + gapStart) * MINUTE_MS, minutes: i - gapStart });
    i--;
  }
  const times = Float64Array.from(startMs);
  const values = Float64Array.from(requests);
  return {
    source: meta.source,
    startMs: times,
    traceMs: times.slice(),
    requests: values,
    intervalSeconds: interval / 1000,
    gaps,
    zeroRuns: zeroRuns(times, values),
    zone: meta.zone,
    speedup: 1,
    warnings,
  };
}

/** Runs of zero requests long enough to look like a logging gap. */
function zeroRuns(traceMs: Float64Array, requests: Float64Array): Gap[] {
  const runs: Gap[] = [];
  for (let i = 0; i < requests.length; i++) {
    if (requests[i] !== 0) continue;
    const start = i;
    while (i + 1 < requests.length && requests[i + 1] === 0 && traceMs[i + 1]! - traceMs[i]! === MINUTE_MS)
      i++;
    const minutes = i - start + 1;
    if (minutes >= ZERO_RUN_MINUTES) runs.push({ startMs: traceMs[start]!, minutes });
  }
  return runs;
}

/** What a reader of the figures should know about the trace: gaps, zero runs, reordering. */
export function traceNotes(trace: Trace): string[] {
  const notes = [...trace.warnings];
  for (const gap of trace.gaps)
    notes.push(
      `gap: no data for ${gap.minutes} min from ${formatTime(gap.startMs, trace.zone)} (not simulated, not billed)`,
    );
  for (const run of trace.zeroRuns)
    notes.push(
      `${plural(run.minutes, "minute")} of zero requests from ${formatTime(run.startMs, trace.zone)}: kept as no traffic (a logging gap?)`,
    );
  return notes;
}

export function formatTime(ms: number, zone: string): string {
  return DateTime.fromMillis(ms, { zone }).toFormat("yyyy-MM-dd HH:mm");
}

export async function readTraceFile(path: string, options: ReadOptions = {}): Promise<Trace> {
  if (path === "bundled" || path === NASA_1995_07_13.name) return bundledTrace();
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new TraceError(
      path,
      `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  const trace = parseTrace(text, basename(path), options);
  return trace;
}

/** The day shipped in the repository (src/simulate/traces/): the NASA launch day, 1995-07-13 EDT. */
export function bundledTrace(): Trace {
  const values = Float64Array.from(NASA_1995_07_13.requestsPerMinute.trim().split(/[,\n]/), Number);
  const start = NASA_1995_07_13.firstEpochSeconds * 1000;
  const startMs = Float64Array.from(values, (_, i) => start + i * MINUTE_MS);
  return {
    source: NASA_1995_07_13.name,
    startMs,
    traceMs: startMs.slice(),
    requests: values,
    intervalSeconds: 60,
    gaps: [],
    zeroRuns: zeroRuns(startMs, values),
    zone: NASA_1995_07_13.zone,
    speedup: 1,
    warnings: [],
  };
}

/** The minutes from `fromMs` (inclusive) to `toMs` (exclusive), on the trace's own clock. */
export function sliceTrace(trace: Trace, fromMs = -Infinity, toMs = Infinity): Trace {
  let first = 0;
  while (first < trace.traceMs.length && trace.traceMs[first]! < fromMs) first++;
  let end = first;
  while (end < trace.traceMs.length && trace.traceMs[end]! < toMs) end++;
  if (end === first) throw new TraceError(trace.source, "no minute in the range asked for");
  const lo = trace.traceMs[first]!;
  const hi = trace.traceMs[end - 1]!;
  return {
    ...trace,
    startMs: trace.startMs.slice(first, end),
    traceMs: trace.traceMs.slice(first, end),
    requests: trace.requests.slice(first, end),
    gaps: trace.gaps.filter((g) => g.startMs > lo && g.startMs < hi),
    zeroRuns: trace.zeroRuns.filter((r) => r.startMs >= lo && r.startMs <= hi),
  };
}

/**
 * Time compressed `speedup` times: each simulated minute carries the mean rate of `speedup`
 * consecutive trace minutes, so the day's shape passes that many times faster while the rate
 * (and so the load per process) stays that of the trace. The policy's clock, cool-downs and the
 * boot delay keep running at real speed: it shows whether the policy keeps up with traffic that
 * changes `speedup` times faster. A group never spans a gap; the simulated clock runs from the
 * trace's first minute.
 */
export function compressTrace(trace: Trace, speedup: number): Trace {
  if (!Number.isInteger(speedup) || speedup < 1)
    throw new TraceError(trace.source, "speedup must be an integer >= 1");
  if (speedup === 1) return trace;
  const startMs: number[] = [];
  const traceMs: number[] = [];
  const requests: number[] = [];
  const origin = trace.traceMs[0]!;
  let i = 0;
  while (i < trace.requests.length) {
    let sum = 0;
    let n = 0;
    const groupStart = trace.traceMs[i]!;
    while (
      i < trace.requests.length &&
      n < speedup &&
      (n === 0 || trace.traceMs[i]! - trace.traceMs[i - 1]! === MINUTE_MS)
    ) {
      sum += trace.requests[i]!;
      n++;
      i++;
    }
    const simulated = origin + Math.floor((groupStart - origin) / speedup / MINUTE_MS) * MINUTE_MS;
    const previous = startMs[startMs.length - 1];
    startMs.push(previous !== undefined && simulated <= previous ? previous + MINUTE_MS : simulated);
    traceMs.push(groupStart);
    requests.push(sum / n);
  }
  return {
    ...trace,
    startMs: Float64Array.from(startMs),
    traceMs: Float64Array.from(traceMs),
    requests: Float64Array.from(requests),
    speedup: trace.speedup * speedup,
  };
}
