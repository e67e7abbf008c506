import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { settingsOf } from "../../src/simulate/compare.js";
import { formatReport, type SimulationReport } from "../../src/simulate/report.js";
import type { Summary } from "../../src/simulate/summary.js";

const model = settingsOf(
  parseConfig({
    processes: {
      web: {
        measurement: { backend: "response-time", url: "https://example.com/heartbeat" },
        scaling: { backend: "heroku", app: "sim-app" },
      },
    },
    simulation: {},
  }),
);

function reportOf(counts: number): SimulationReport {
  const summary: Summary = {
    label: "policy",
    kind: "policy",
    description: "consecutive-threshold on response-time",
    minutes: counts,
    requests: 100,
    processHours: 0.1,
    cost: 0.01,
    meanProcesses: 1,
    maxProcesses: 1,
    sloMs: model.sloMs,
    sloMetric: model.sloMetric,
    minutesOverSlo: 0,
    worst: null,
    lateRequests: 0,
    lateShare: 0,
    droppedRequests: 0,
    droppedShare: 0,
    scales: 0,
    scaleUps: 0,
    scaleDowns: 0,
    flaps: 0,
    failedReadings: counts,
    failSafes: counts,
    aboveMax: counts,
    backlogAtEnd: counts,
    vsOracle: null,
  };
  return {
    process: "web",
    trace: {
      source: "t.csv",
      minutes: counts,
      from: "2026-01-01 00:00",
      to: "2026-01-01 00:01",
      zone: "UTC",
      speedup: 1,
      intervalSeconds: 60,
      rateMultiplier: 1,
      peakPerMinute: 100,
      medianPerMinute: 100,
      notes: [],
    },
    model,
    results: [summary],
  };
}

describe("the simulator's text report", () => {
  it("says 1 minute, 1 failed heartbeat, once as 1 time, 1 request", () => {
    const text = formatReport(reportOf(1));
    expect(text).toContain("trace: t.csv, 1 minute from");
    expect(text).toContain(
      "(0 up, 0 down, max 1; 1 failed heartbeat; fail-safe 1 time; held at the maximum 1 time; 1 request still queued at the end)",
    );
  });

  it("says the plural for other counts", () => {
    const text = formatReport(reportOf(2));
    expect(text).toContain("trace: t.csv, 2 minutes from");
    expect(text).toContain(
      "2 failed heartbeats; fail-safe 2 times; held at the maximum 2 times; 2 requests still queued at the end)",
    );
  });
});
