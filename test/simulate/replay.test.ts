import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { baselineRuns } from "../../src/simulate/baselines.js";
import { compare, settingsOf, variant } from "../../src/simulate/compare.js";
import { heartbeatReading } from "../../src/simulate/model.js";
import { formationModel, heartbeatOptions, replayPolicy } from "../../src/simulate/replay.js";
import { defaultSimulation, type SimulationInput } from "../../src/simulate/schema.js";
import { countFlaps, summarize } from "../../src/simulate/summary.js";
import { bundledTrace, sliceTrace, type Trace } from "../../src/simulate/trace.js";
import { traceOf as traceAt } from "../helpers/trace.js";

const T0 = Date.parse("2026-01-05T00:00:00Z");

/** A trace from per-minute counts, starting at `start`. */
const traceOf = (requests: number[], start = T0): Trace => traceAt(requests, start);

function configWith(decision: Record<string, unknown>, simulation: SimulationInput = {}, timezone = "UTC") {
  return parseConfig({
    timezone,
    simulation,
    processes: {
      web: {
        measurement: { backend: "response-time", url: "https://example.com/heartbeat", timeoutMs: 5000 },
        decision,
        scaling: { backend: "heroku", app: "sim-app" },
      },
    },
  });
}

const THRESHOLD = {
  minMeasurement: 130,
  maxMeasurement: 250,
  failsToScaleUp: 1,
  passesToScaleDown: 3,
  minProcesses: 1,
  maxProcesses: 6,
  postScaleWaitSeconds: 60,
};

describe("a replay through the real decision backend", () => {
  // Without random waiting the heartbeat reads the service time until a backlog builds: the
  // decisions below follow from the load alone.
  const settings = defaultSimulation({ capacityPerProcess: 1200, bootSeconds: 30, queueing: "fluid" });
  const spike = traceOf([
    ...Array<number>(10).fill(600),
    ...Array<number>(20).fill(4000),
    ...Array<number>(30).fill(600),
  ]);

  it("scales up on a spike and back down after it", () => {
    const run = replayPolicy("threshold", configWith(THRESHOLD, {}), "web", spike, settings);
    expect(run.processes[0]).toBe(1);
    const during = Math.max(...run.processes.subarray(10, 30));
    expect(during).toBeGreaterThanOrEqual(4);
    expect(run.processes[59]).toBeLessThanOrEqual(2);
    const ups = run.scales.filter((s) => s.to > s.from);
    const downs = run.scales.filter((s) => s.to < s.from);
    expect(ups.length).toBeGreaterThan(0);
    expect(downs.length).toBeGreaterThan(0);
    expect(ups[0]!.at).toBeLessThan(downs[0]!.at);
    // The reasons are the decision backend's own.
    expect(ups[0]!.reason).toMatch(/fails? in a row/);
    expect(downs[0]!.reason).toMatch(/passes in a row/);
    // The first reading after the spike starts sees the minute before: the scale comes a minute late.
    expect(ups[0]!.at).toBe(spike.startMs[11]);
  });

  it("with random waiting the heartbeat is one request: noisy, but the spike still scales up and down", () => {
    const run = replayPolicy("threshold", configWith(THRESHOLD), "web", spike, defaultSimulation());
    expect(Math.max(...run.processes.subarray(10, 30))).toBeGreaterThanOrEqual(4);
    expect(run.processes[59]).toBeLessThanOrEqual(3);
    // Some readings below the spike are slow too: a request that met a busy process.
    const quiet = [...run.readingMs.subarray(0, 10)];
    expect(Math.max(...quiet) - Math.min(...quiet)).toBeGreaterThan(5);
  });

  it("the same seed gives the same numbers, another seed others", () => {
    const noisy = (seed: number) => {
      const config = configWith(THRESHOLD, { capacityPerProcess: 1200, noise: { seed, stddevMs: 40 } });
      return JSON.stringify(
        compare([{ label: "p", config }], "web", bundledTrace(), settingsOf(config)).report,
      );
    };
    expect(noisy(7)).toBe(noisy(7));
    expect(noisy(8)).not.toBe(noisy(7));
  });

  it("cool-downs, the fail-safe and the bounds are the decision's", () => {
    const config = configWith({ ...THRESHOLD, failSafe: { maxMs: 1000 }, maxProcesses: 5 });
    const run = replayPolicy("fail-safe", config, "web", spike, settings);
    // The spike overloads a single process at once: the fail-safe scales straight to the maximum.
    expect(run.scales[0]).toMatchObject({ from: 1, to: 5 });
    expect(run.scales[0]!.reason).toMatch(/^fail-safe/);
    expect(run.failSafes).toBeGreaterThan(0);
    expect(Math.max(...run.processes)).toBe(5);
  });

  it("a process measured every 3 minutes reads every third minute", () => {
    const config = parseConfig({
      processes: {
        web: {
          measurement: { backend: "response-time", url: "https://example.com/heartbeat" },
          decision: THRESHOLD,
          scaling: { backend: "heroku", app: "sim-app" },
          intervalSeconds: 180,
        },
      },
    });
    const run = replayPolicy("slow", config, "web", traceOf(Array<number>(9).fill(600)), settings);
    expect([...run.readingMs].map((v) => !Number.isNaN(v))).toEqual([
      true,
      false,
      false,
      true,
      false,
      false,
      true,
      false,
      false,
    ]);
  });

  it("a schedule gives the same decisions as scheduleAt called every minute", () => {
    const config = configWith(
      {
        ...THRESHOLD,
        maxProcesses: 40,
        schedule: [
          { cron: "0 7 * * *", processes: 8, mode: "floor" },
          { cron: "30 12 * * *", processes: 12, mode: "exact" },
          { cron: "0 14 * * *", processes: 2 },
        ],
      },
      {},
      "America/New_York",
    );
    const s = defaultSimulation({ rateMultiplier: 100, noise: { seed: 3, stddevMs: 30 } });
    const fast = replayPolicy("fast", config, "web", bundledTrace(), s);
    const exact = replayPolicy("fast", config, "web", bundledTrace(), s, { exactSchedule: true });
    expect(fast.scales.length).toBeGreaterThan(5);
    expect(fast.scales).toEqual(exact.scales);
    expect([...fast.processes]).toEqual([...exact.processes]);
    // 12:30 EDT pins 12 processes.
    const pinned = bundledTrace().startMs.indexOf(Date.parse("1995-07-13T16:45:00Z"));
    expect(fast.processes[pinned]).toBe(12);
  });

  it("a gap is skipped: not billed, the backlog dropped", () => {
    const gapped = traceOf([600, 600, 600]);
    gapped.startMs[2] = T0 + 60 * 60_000; // an hour later
    const run = replayPolicy("gap", configWith(THRESHOLD), "web", gapped, settings);
    expect(run.minutes).toBe(3);
    const summary = summarize(run, settings, { zone: "UTC", traceZone: "UTC" });
    expect(summary.processHours).toBeCloseTo(3 / 60, 2);
  });

  it("after a gap the heartbeat sees the new load on the processes there are, not the minute before the gap", () => {
    // Overloaded at the end of the first stretch, quiet six hours later.
    const gapped = traceOf([...Array<number>(5).fill(600), ...Array<number>(5).fill(4000), 600, 600]);
    gapped.startMs[10] = T0 + 6 * 3600_000;
    gapped.startMs[11] = T0 + 6 * 3600_000 + 60_000;
    const config = configWith({ ...THRESHOLD, maxProcesses: 3 });
    const run = replayPolicy("gap", config, "web", gapped, settings);
    expect(run.p95Ms[9]).toBeGreaterThan(5000); // still overloaded at 3
    expect(run.processes[9]).toBe(3);
    // A minute at the new load on the 3 processes, from empty queues, with that minute's draws.
    const before = formationModel(settings, 3);
    before.warmUp(600, gapped.startMs[10]);
    expect(run.readingMs[10]).toBe(
      heartbeatReading(
        before.probe(gapped.startMs[10], settings.noise.stddevMs),
        heartbeatOptions(config.processes.web!, settings),
      ).value,
    );
    expect(run.readingMs[10]).toBeLessThan(THRESHOLD.minMeasurement);
    expect(run.scales.filter((s) => s.at >= gapped.startMs[10]!)).toEqual([]);
  });

  it("an initialProcesses outside the bounds starts within them, without a scale", () => {
    for (const [initialProcesses, start] of [
      [10, 6],
      [0, 2],
    ] as const) {
      const config = configWith({ ...THRESHOLD, minProcesses: 2 }, { initialProcesses });
      const run = replayPolicy("clamped", config, "web", spike, settingsOf(config));
      expect(run.processes[0]).toBe(start);
      expect(run.scales.filter((s) => s.at === spike.startMs[0])).toEqual([]);
    }
  });
});

describe("baselines, by hand", () => {
  // Fluid queue, 1200 a minute per process, 100 ms of service; SLO p95 500 ms.
  const settings = defaultSimulation({ capacityPerProcess: 1200, queueing: "fluid", bootSeconds: 0 });
  const trace = traceOf([600, 1200, 1800, 600]);
  const config = configWith(THRESHOLD);
  const zones = { zone: "UTC", traceZone: "UTC" };

  it("static at peak: 2 processes; static at median: 1, overloaded at the peak and the minute after", () => {
    const [, peak, median] = baselineRuns(trace, settings, config, "web").map((r) =>
      summarize(r, settings, zones),
    );
    expect(peak).toMatchObject({
      label: "static peak",
      description: "2 processes: p95 <= 500 ms at the busiest minute",
      processHours: 0.13, // 8 process-minutes
      cost: 0,
      minutesOverSlo: 0,
      lateRequests: 0,
      droppedRequests: 0,
      scales: 0,
    });
    // 1800 against 1200: 600 queued, waits rising 0.5 ms per ms (p95 28.6 s); then 600 queued drain through the last minute.
    expect(median).toMatchObject({ label: "static median", processHours: 0.07, minutesOverSlo: 2 });
    expect(median!.worst).toMatchObject({ latencyMs: 28_600, processes: 1, requests: 1800 });
    // The queue holds at most what it serves within the router's 30 s (29.9 s of waiting: 598
    // requests): the last 2 of minute 3 are dropped. Waits above 400 ms: all but the first 0.8 s
    // of minute 3 (less the dropped), and minute 4 from 29.9 s falling 0.5 ms per ms: its first 59 s.
    expect(median!.droppedRequests).toBe(2);
    expect(median!.lateRequests).toBe(Math.round(1800 * (59.2 / 60) - 2 + 600 * (59 / 60)));
    expect(median!.backlogAtEnd).toBe(0);
  });

  it("the oracle: the fewest processes each minute, each started a boot time ahead", () => {
    // 600 and 1200 fit one process (no random waiting here), 1800 needs two.
    const oracle = (bootSeconds: number) => {
      const s = { ...settings, bootSeconds };
      const [run] = baselineRuns(trace, s, config, "web");
      return { run: run!, summary: summarize(run!, s, zones) };
    };
    const now = oracle(0);
    expect(now.run).toMatchObject({ label: "oracle", kind: "baseline" });
    expect([...now.run.processes]).toEqual([1, 1, 2, 1]);
    expect(now.summary).toMatchObject({ minutesOverSlo: 0, lateRequests: 0, droppedRequests: 0, scales: 2 });
    // Booting 60 s: the second process is billed from the minute before it serves.
    expect([...oracle(60).run.processes]).toEqual([1, 2, 2, 1]);
    expect(oracle(60).summary.processHours).toBe(0.1);
    // Booting 30 s: for the second half of that minute; 90 s: from a minute and a half before.
    expect([...oracle(30).run.processes]).toEqual([1, 1.5, 2, 1]);
    expect([...oracle(90).run.processes]).toEqual([1.5, 2, 2, 1]);
    // Every row's cost as a multiple of the oracle's.
    const { summaries } = compare([{ label: "p", config }], "web", trace, settings);
    const floor = summaries.find((r) => r.label === "oracle")!;
    expect(floor.vsOracle).toBe(1);
    const peak = summaries.find((r) => r.label === "static peak")!;
    expect(peak.vsOracle).toBeCloseTo(peak.processHours / floor.processHours, 2);
  });

  it("the oracle through random waiting stays within the SLO every minute, below every static count", () => {
    const s = defaultSimulation({ rateMultiplier: 100, noise: { seed: 1, stddevMs: 20 } });
    const day = sliceTrace(
      bundledTrace(),
      Date.parse("1995-07-13T12:00:00Z"),
      Date.parse("1995-07-13T16:00:00Z"),
    );
    const runs = baselineRuns(day, s, configWith(THRESHOLD, {}, "America/New_York"), "web");
    const [oracle, peak] = runs.map((r) => summarize(r, s, zones));
    expect(oracle).toMatchObject({ label: "oracle", kind: "baseline", minutesOverSlo: 0 });
    expect(Math.max(...runs[0]!.p95Ms)).toBeLessThanOrEqual(500);
    expect(oracle!.processHours).toBeLessThan(peak!.processHours);
    expect(oracle!.scales).toBeGreaterThan(0);
  });

  it("a static baseline no count of processes sizes is left out and said so", () => {
    const unattainable = { ...settings, sloMs: 90 }; // below the service time (the schema refuses it)
    const notes: string[] = [];
    expect(baselineRuns(trace, unattainable, config, "web", notes)).toEqual([]);
    expect(notes).toEqual([
      "oracle: not attainable: no count up to 10,000 processes meets p95 <= 90 ms at the busiest minute",
      "static peak: not attainable: no count up to 10,000 processes meets p95 <= 90 ms at the busiest minute (1,800/min)",
      "static median: not attainable: no count up to 10,000 processes meets p95 <= 90 ms at the median minute (1,200/min)",
    ]);
    const { report } = compare([{ label: "p", config }], "web", trace, unattainable);
    expect(report.results.map((r) => r.label)).toEqual(["p"]);
    expect(report.trace.notes).toEqual(notes);
  });

  it("the schedule baseline follows the crons in the config's zone", () => {
    const scheduled = configWith(THRESHOLD, {
      schedule: [
        { cron: "0 7 * * *", processes: 3, mode: "exact" },
        { cron: "0 22 * * *", processes: 1, mode: "exact" },
      ],
    });
    const around7 = traceOf([600, 600, 600, 600], Date.parse("2026-01-05T06:58:00Z"));
    const runs = baselineRuns(around7, settingsOf(scheduled), scheduled, "web");
    const schedule = runs.find((r) => r.label === "schedule")!;
    expect([...schedule.processes]).toEqual([1, 1, 3, 3]);
    expect(schedule.scales).toEqual([
      { at: Date.parse("2026-01-05T07:00:00Z"), from: 1, to: 3, reason: "schedule" },
    ]);
  });

  it("flapping: a scale in the other direction within 10 minutes", () => {
    const m = 60_000;
    const scales = [
      { at: 0, from: 1, to: 2, reason: "" },
      { at: 5 * m, from: 2, to: 1, reason: "" }, // flap
      { at: 20 * m, from: 1, to: 2, reason: "" },
      { at: 25 * m, from: 2, to: 3, reason: "" },
      { at: 35 * m, from: 3, to: 2, reason: "" }, // flap (exactly 10 minutes)
    ];
    expect(countFlaps(scales)).toBe(2);
  });
});

describe("policy variants", () => {
  const settings = defaultSimulation({ capacityPerProcess: 1200, bootSeconds: 30 });
  const config = configWith(THRESHOLD, { capacityPerProcess: 1200 });

  it("merge into the decision and are checked by the schema", () => {
    const fast = variant(config, "web", { passesToScaleDown: 1 }, "fast");
    expect(fast.processes.web!.decision).toMatchObject({ ...THRESHOLD, passesToScaleDown: 1 });
    expect(() => variant(config, "web", { passesToScaleDown: 0 }, "bad")).toThrow(
      /--policy bad[\s\S]*passesToScaleDown/,
    );
  });

  it("postScaleWaitSeconds alone replaces the per-direction cool-downs, which would win over it", () => {
    const cooled = configWith({ ...THRESHOLD, scaleUpCooldownSeconds: 30, scaleDownCooldownSeconds: 600 });
    const wait = variant(cooled, "web", { postScaleWaitSeconds: 120 }, "wait").processes.web!.decision;
    expect(wait.postScaleWaitSeconds).toBe(120);
    expect(wait).not.toHaveProperty("scaleUpCooldownSeconds");
    expect(wait).not.toHaveProperty("scaleDownCooldownSeconds");
    const up = variant(cooled, "web", { postScaleWaitSeconds: 120, scaleUpCooldownSeconds: 10 }, "up");
    expect(up.processes.web!.decision).toMatchObject({
      postScaleWaitSeconds: 120,
      scaleUpCooldownSeconds: 10,
      scaleDownCooldownSeconds: 600,
    });
    // It changes the replay: a scale down comes sooner after the scale before.
    const spiky = traceOf([
      ...Array<number>(5).fill(600),
      ...Array<number>(10).fill(4000),
      ...Array<number>(30).fill(600),
    ]);
    const downAfter = (config: typeof cooled) => {
      const scales = replayPolicy("x", config, "web", spiky, settings).scales;
      return scales.flatMap((s, i) => (i > 0 && s.to < s.from ? [(s.at - scales[i - 1]!.at) / 60_000] : []));
    };
    expect(Math.min(...downAfter(cooled))).toBeGreaterThanOrEqual(10);
    expect(
      Math.min(...downAfter(variant(cooled, "web", { postScaleWaitSeconds: 60 }, "short"))),
    ).toBeLessThan(10);
  });

  it("naming another backend keeps only the shared settings; null removes one", () => {
    const tracking = variant(config, "web", { backend: "target-tracking", targetValue: 150 }, "tt");
    expect(tracking.processes.web!.decision).toMatchObject({
      backend: "target-tracking",
      targetValue: 150,
      maxProcesses: 6,
      postScaleWaitSeconds: 60,
    });
    expect(tracking.processes.web!.decision).not.toHaveProperty("minMeasurement");
    const safe = variant(config, "web", { failSafe: {} }, "safe");
    expect(
      variant(safe, "web", { failSafe: null }, "unsafe").processes.web!.decision.failSafe,
    ).toBeUndefined();
  });
});
