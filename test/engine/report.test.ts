import { describe, expect, it } from "vitest";
import { formatReport, type TickReport } from "../../src/engine/report.js";

const report = (value: number): TickReport => ({
  tickId: "t1",
  startedAt: "2026-06-01T12:00:00.000Z",
  finishedAt: "2026-06-01T12:00:00.100Z",
  durationMs: 100,
  dryRun: false,
  store: "file",
  warnings: [],
  processes: [
    {
      process: "worker",
      status: "held",
      reading: { backend: "sidekiq-queue", value, unit: "jobs", ok: true },
      current: 1,
      decision: null,
      notified: [],
      warnings: [],
    },
  ],
});

describe("the tick's human summary", () => {
  it("says 1 job and 2 jobs", () => {
    expect(formatReport(report(1))).toContain("worker: held | 1 job | processes 1");
    expect(formatReport(report(2))).toContain("worker: held | 2 jobs | processes 1");
  });
});
