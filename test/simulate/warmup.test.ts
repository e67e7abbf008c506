import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import type { CliIo } from "../../src/kit/cli-io.js";
import { runSimulate } from "../../src/simulate/cli.js";
import { compare, settingsOf } from "../../src/simulate/compare.js";
import { formatReport } from "../../src/simulate/report.js";
import type { Trace } from "../../src/simulate/trace.js";
import { traceOf } from "../helpers/trace.js";

/**
 * The simulator's warm-up: the first days are replayed (pre-warming learns there) but no row
 * counts them, and the report says so; pre-warming on a trace with a daily rise at 09:00.
 */
const T0 = Date.parse("2026-01-05T00:00:00Z"); // a Monday
const DAY = 1440;

/** `days` days of 600 requests a minute, 6,000 from 09:00 to 12:00 UTC. */
function dailyRise(days: number): Trace {
  const requests = Array.from({ length: days * DAY }, (_, i) => {
    const hour = Math.floor((i % DAY) / 60);
    return hour >= 9 && hour < 12 ? 6000 : 600;
  });
  return traceOf(requests, T0, "daily rise");
}

const config = (decision: Record<string, unknown> = {}, simulation: Record<string, unknown> = {}) =>
  parseConfig({
    timezone: "UTC",
    simulation: { bootSeconds: 60, ...simulation },
    processes: {
      web: {
        measurement: { backend: "response-time", url: "https://example.com/heartbeat", timeoutMs: 5000 },
        decision: {
          minMeasurement: 130,
          maxMeasurement: 250,
          failsToScaleUp: 1,
          passesToScaleDown: 3,
          minProcesses: 1,
          maxProcesses: 10,
          postScaleWaitSeconds: 60,
          ...decision,
        },
        scaling: { backend: "heroku", app: "sim-app" },
      },
    },
  });

describe("the simulator's warm-up", () => {
  const trace = dailyRise(14);

  it("is a week when a policy pre-warms: no row counts it, and the table's header says so", () => {
    const plain = config();
    const policies = [
      { label: "plain", config: plain },
      { label: "prewarm", config: config({ prewarm: {} }) },
    ];
    const { runs, summaries, report } = compare(policies, "web", trace, settingsOf(plain));
    expect(report.trace.warmup).toEqual({ days: 7, minutes: 7 * DAY, countedFrom: "2026-01-12 00:00" });
    for (const summary of summaries) expect(summary.minutes).toBe(7 * DAY);
    // Process-hours are those of the minutes counted.
    const plainRun = runs[0]!;
    const counted = plainRun.processes.slice(7 * DAY).reduce((a, b) => a + b, 0) / 60;
    expect(summaries[0]!.processHours).toBeCloseTo(counted, 2);
    expect(summaries[0]!.scales).toBe(plainRun.scales.filter((s) => s.at >= T0 + 7 * DAY * 60_000).length);
    expect(formatReport(report)).toMatch(
      /^counted from 2026-01-12 00:00: the first 7 days \(10,080 minutes\) are a warm-up, replayed but not in the table\npolicy\s+proc-hours/m,
    );
    // The rise is met by processes started ahead of it: fewer minutes over the SLO, at a cost.
    const [without, withPrewarm] = summaries;
    expect(withPrewarm!.minutesOverSlo).toBeLessThan(without!.minutesOverSlo);
    expect(withPrewarm!.processHours).toBeGreaterThan(without!.processHours);
    const ahead = runs[1]!.scales.filter((s) =>
      /^pre-warm: \d+ processes ahead of the usual 09:00 rise/.test(s.reason),
    );
    expect(ahead).toHaveLength(13); // every day but the first, from 08:55
    expect(ahead.every((s) => new Date(s.at).toISOString().slice(11, 16) === "08:55")).toBe(true);
  });

  it("is none without pre-warming, unless simulation.warmupDays sets one", () => {
    const plain = config();
    const none = compare([{ label: "plain", config: plain }], "web", trace, settingsOf(plain));
    expect(none.report.trace.warmup).toBeUndefined();
    expect(none.summaries[0]!.minutes).toBe(14 * DAY);
    const set = config({}, { warmupDays: 2 });
    const two = compare([{ label: "plain", config: set }], "web", trace, settingsOf(set));
    expect(two.summaries.map((s) => s.minutes)).toEqual(two.summaries.map(() => 12 * DAY));
  });

  it("is dropped, with a note, on a trace no longer than it (pre-warming then has nothing to learn from)", () => {
    const pw = config({ prewarm: {} });
    const day = dailyRise(1);
    const { summaries, report } = compare([{ label: "pw", config: pw }], "web", day, settingsOf(pw));
    expect(report.trace.warmup).toBeUndefined();
    expect(summaries[0]!.minutes).toBe(DAY);
    expect(report.trace.notes).toContain(
      "the trace is not longer than the warm-up of 7 days: no warm-up, every minute counted; pre-warming learns each hour from the same hour a week (or a day) before, so on this trace it has nothing to pre-warm from",
    );
  });

  it("--warmup: a warm-up that leaves nothing to count is bad usage", async () => {
    const err: string[] = [];
    const io: CliIo = { env: {}, out: () => {}, err: (t) => err.push(t), onStop: () => {} };
    const code = await runSimulate(
      ["--trace", "bundled", "--config", "src/simulate/examples/threshold.json", "--warmup", "1"],
      io,
    );
    expect(code).toBe(2);
    expect(err.join("\n")).toMatch(/^a warm-up of 1 day leaves no minute of the trace to count/);
  });
});
