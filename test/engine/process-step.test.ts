import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import type { ProcessConfig } from "../../src/config/schema.js";
import { MAX_SCALE_RECORDS } from "../../src/decide/decision-state.js";
import { decodeProfile, encodeProfile } from "../../src/decide/prewarm-profile.js";
import { emptyProcessRecord, type ProcessRecord } from "../../src/engine/process-record.js";
import { planStep, settleStep, trackNotices, type StepInput } from "../../src/engine/process-step.js";
import type { Reading } from "../../src/measure/index.js";
import { ScaleError } from "../../src/scale/index.js";

/** The pure step's pause and manual-override rules, minute by minute, without any I/O. */

const T0 = Date.parse("2026-06-01T12:00:00Z");
const MINUTE = 60_000;

function processConfig(extra: Record<string, unknown> = {}, decision: Record<string, unknown> = {}) {
  return parseConfig({
    processes: {
      web: {
        measurement: { backend: "response-time", url: "https://example.com/heartbeat" },
        decision: {
          minMeasurement: 100,
          maxMeasurement: 300,
          failsToScaleUp: 1,
          passesToScaleDown: 1,
          minProcesses: 1,
          maxProcesses: 5,
          postScaleWaitSeconds: 0,
          ...decision,
        },
        scaling: { backend: "heroku", app: "dancing-forest-1234" },
        notification: {
          backends: ["memory"],
          notifyOn: ["scale", "pause", "resume", "manual-scale", "fail-safe"],
        },
        ...extra,
      },
    },
  }).processes.web!;
}

const ms = (value: number): Reading => ({ backend: "response-time", value, unit: "ms", ok: true });
const down: Reading = {
  backend: "response-time",
  value: null,
  unit: "ms",
  ok: false,
  error: "heartbeat answered HTTP 503",
};

/**
 * A process on a platform whose count is `count`: each minute plans, scales when told to (the
 * platform then runs the target), settles and tracks notices, as the tick does.
 */
class Process {
  record: ProcessRecord = emptyProcessRecord();
  minute = 0;
  constructor(
    readonly config: ProcessConfig,
    public count = 2,
  ) {}

  step(reading: Reading | null = ms(200), outcome?: "unclear") {
    const now = DateTime.fromMillis(T0 + this.minute++ * MINUTE, { zone: "UTC" });
    const input: StepInput = { config: this.config, record: this.record, reading, current: this.count, now };
    const planned = planStep(input);
    const decision = planned.decision!;
    let result = null;
    if (decision.action !== "hold") {
      if (outcome === "unclear") {
        this.count = decision.target; // applied, but no answer came
        result = { error: new ScaleError("timeout", "timeout", "no answer") };
      } else {
        this.count = decision.target;
        result = { to: decision.target };
      }
    }
    const settled = settleStep(planned, input, result);
    const notices = trackNotices(settled, input);
    this.record = notices.record;
    return {
      decision,
      kinds: notices.signals.map((s) => s.kind),
      signals: notices.signals,
      warnings: settled.warnings,
    };
  }
}

const pausedAt = (since: number, more: Partial<NonNullable<ProcessRecord["paused"]>> = {}) => ({
  since,
  by: "cli",
  ...more,
});

describe("the step's manual override", () => {
  it("the first minute ever is not a manual change; the count seen is kept every minute", () => {
    const web = new Process(processConfig());
    expect(web.step().kinds).toEqual([]);
    expect(web.record.lastSeenCount).toBe(2);
    web.step(ms(400)); // scales 2 -> 3
    expect(web.count).toBe(3);
    expect(web.record.lastSeenCount).toBe(3);
    expect(web.step().kinds).toEqual([]);
  });

  it("a count changed by hand is notified and held for manualOverrideMinutes, then decided again", () => {
    const web = new Process(processConfig({ manualOverrideMinutes: 3 }));
    web.step();
    web.count = 4; // heroku ps:scale web=4
    const found = web.step(ms(50)); // the policy would scale down
    expect(found.kinds).toEqual(["manual-scale"]);
    expect(found.signals[0]).toMatchObject({ from: 2, to: 4, until: T0 + 4 * MINUTE });
    expect(found.decision).toMatchObject({ action: "hold", target: 4 });
    expect(found.decision.reason).toMatch(
      /^manual override: holding the 4 set by hand until 2026-06-01 12:04 UTC; the policy would scale down to 3/,
    );
    expect(web.record.override).toEqual({ since: T0 + MINUTE, until: T0 + 4 * MINUTE, count: 4 });
    expect(web.step(ms(50)).decision.action).toBe("hold");
    expect(web.step(ms(50)).decision.action).toBe("hold");
    const after = web.step(ms(50));
    expect(after.decision).toMatchObject({ action: "down", target: 3 });
    expect(web.record.override).toBeUndefined();
    expect(web.count).toBe(3);
  });

  it("holds the count set by hand even outside the bounds, and corrects it once the override ends", () => {
    const web = new Process(processConfig({ manualOverrideMinutes: 1 }));
    web.step();
    web.count = 9; // above maxProcesses 5
    expect(web.step().decision).toMatchObject({ action: "hold", target: 9, bounds: { max: 5 } });
    expect(web.step().decision).toMatchObject({ action: "down", target: 5 });
  });

  it("with manualOverrideMinutes 0 takes the new count as current, without a hold", () => {
    const web = new Process(processConfig({ manualOverrideMinutes: 0 }));
    web.step();
    web.count = 9;
    const found = web.step();
    expect(found.kinds).toEqual(["manual-scale", "scale"]);
    expect(found.signals[0]).toMatchObject({ from: 2, to: 9, until: undefined });
    expect(found.decision).toMatchObject({ action: "down", target: 5 });
    expect(web.record.override).toBeUndefined();
  });

  it("a count read after our own unclear scale is not a manual change", () => {
    const web = new Process(processConfig());
    web.step();
    web.step(ms(400), "unclear"); // 2 -> 3, applied, no answer
    expect(web.record.pendingScale).toMatchObject({ from: 2, to: 3 });
    const next = web.step();
    expect(next.kinds).toEqual(["scale"]); // found applied
    expect(web.record).toMatchObject({ lastSeenCount: 3 });
    expect(web.record.override).toBeUndefined();
  });

  it("the fail-safe still scales out during an override, which ends it", () => {
    const web = new Process(processConfig({}, { failSafe: { processes: 4 } }));
    web.step();
    web.count = 1;
    expect(web.step().kinds).toEqual(["manual-scale"]);
    const fire = web.step(down);
    expect(fire.decision).toMatchObject({ action: "up", target: 4 });
    expect(fire.decision.reason).toMatch(/fail-safe: the app is down .* \(this ends the manual override\)/);
    expect(fire.kinds).toEqual(["scale", "fail-safe"]);
    expect(web.record.override).toBeUndefined();
    expect(web.count).toBe(4);
  });

  it("the fail-safe reaches a count set by hand below the minimum, and holds one already above its target", () => {
    const below = new Process(processConfig({}, { minProcesses: 2, failSafe: { processes: 3 } }), 2);
    below.step();
    below.count = 0;
    below.step(); // the override holds 0, below the minimum
    expect(below.count).toBe(0);
    expect(below.step(down).decision).toMatchObject({ action: "up", target: 3 });

    const above = new Process(processConfig({}, { failSafe: { processes: 3 } }), 2);
    above.step();
    above.count = 5;
    above.step();
    const held = above.step(down);
    expect(held.decision).toMatchObject({ action: "hold", target: 5 });
    expect(held.decision.reason).toMatch(/already at 5 \(manual override/);
    expect(above.record.override).toBeDefined();
  });
});

describe("the step's pause", () => {
  it("announces the pause once, measures and records readings, but never scales, not even for the fail-safe", () => {
    const web = new Process(processConfig({}, { failSafe: {} }));
    web.step();
    web.record = { ...web.record, paused: pausedAt(T0) };
    const first = web.step(ms(400));
    expect(first.kinds).toEqual(["pause"]);
    expect(first.decision).toMatchObject({ action: "hold", target: 2 });
    expect(first.decision.reason).toMatch(/^paused; the policy would scale up to 3/);
    expect(web.record.paused).toMatchObject({ announced: true });
    expect(web.record.history.at(-1)).toMatchObject({ value: 400 });
    const failing = web.step(down);
    expect(failing.kinds).toEqual([]);
    expect(failing.decision.action).toBe("hold");
    expect(web.count).toBe(2);
  });

  it("with a count, scales there once whatever the bounds, then holds it, a count set by hand included", () => {
    const web = new Process(processConfig());
    web.step();
    web.record = { ...web.record, paused: pausedAt(T0, { processes: 0 }) };
    const first = web.step();
    expect(first.kinds).toEqual(["pause", "scale"]);
    expect(first.decision).toMatchObject({ action: "down", target: 0 });
    expect(web.count).toBe(0);
    expect(web.record.paused).toMatchObject({ processes: 0, applied: true });
    expect(web.step(ms(400)).decision).toMatchObject({ action: "hold", target: 0 });
    web.count = 2;
    const manual = web.step();
    expect(manual.kinds).toEqual(["manual-scale"]);
    expect(manual.signals[0]).toMatchObject({ until: undefined });
    expect(manual.decision).toMatchObject({ action: "hold", target: 2 });
    expect(web.record.override).toBeUndefined();
  });

  it("a count already in place is applied without a scale", () => {
    const web = new Process(processConfig());
    web.step();
    web.record = { ...web.record, paused: pausedAt(T0, { processes: 2 }) };
    expect(web.step().decision.action).toBe("hold");
    expect(web.record.paused).toMatchObject({ applied: true });
  });

  it("ends by itself at its time, announced as a resume, and decides in that same minute", () => {
    const web = new Process(processConfig());
    web.step();
    web.record = { ...web.record, paused: pausedAt(T0, { until: T0 + 3 * MINUTE }) };
    expect(web.step(ms(400)).kinds).toEqual(["pause"]); // minute 1
    expect(web.step(ms(400)).kinds).toEqual([]); // minute 2
    const ended = web.step(ms(400)); // minute 3: the pause is over
    expect(ended.kinds).toEqual(["resume", "scale"]);
    expect(ended.signals[0]).toMatchObject({ kind: "resume", since: T0, by: "expired" });
    expect(web.record.paused).toBeUndefined();
    expect(web.count).toBe(3);
  });

  it("announces a resume asked for, then a new pause, in that order", () => {
    const web = new Process(processConfig());
    web.step();
    web.record = { ...web.record, resumed: { since: T0, by: "api" }, paused: pausedAt(T0 + MINUTE) };
    const step = web.step();
    expect(step.kinds).toEqual(["resume", "pause"]);
    expect(web.record.resumed).toBeUndefined();
  });

  it("a record with nothing new stays the same object (the simulator's long replays)", () => {
    const web = new Process(processConfig());
    web.step();
    const before = web.record;
    const now = DateTime.fromMillis(T0 + 5 * MINUTE, { zone: "UTC" });
    const planned = planStep({ config: web.config, record: before, reading: null, current: 2, now });
    expect(planned.record).toBe(before);
  });
});

describe("the step's scale records: only what the rules read, at most MAX_SCALE_RECORDS", () => {
  /** Up, then down, every minute: the worst case for the state document's size. */
  const flap = (web: Process, minutes: number) => {
    const warnings: string[][] = [];
    for (let i = 0; i < minutes; i++) warnings.push(web.step(ms(web.count > 2 ? 50 : 400)).warnings);
    return warnings;
  };

  it("a process flapping every minute for 1,000 minutes keeps a bounded record, and says when the cap is hit", () => {
    const web = new Process(processConfig());
    const warnings = flap(web, 1000);
    expect(web.count).toBe(2);
    expect(web.record.scales).toHaveLength(MAX_SCALE_RECORDS);
    expect(web.record.scales.at(-1)!.at).toBe(T0 + 999 * MINUTE);
    expect(JSON.stringify(web.record).length).toBeLessThan(500);
    // 15 minutes of too-rapid window hold 15 scales: past the cap, each scale says so.
    expect(warnings.slice(0, MAX_SCALE_RECORDS).flat()).toEqual([]);
    expect(warnings[MAX_SCALE_RECORDS]).toHaveLength(1);
    expect(warnings[999]).toEqual([
      `the newest ${MAX_SCALE_RECORDS} scale records are kept, the most a process keeps: the too-rapid and scaling-policy rules see back to 2026-06-02 04:33 UTC (every scale is in the history)`,
    ]);
  });

  it("drops records once no rule reads them: the too-rapid window, or target tracking's longest policy period", () => {
    const threshold = new Process(processConfig());
    flap(threshold, 3);
    expect(threshold.record.scales).toHaveLength(3);
    threshold.minute += 15; // the too-rapid window (tooRapidPeriodMinutes 15) has passed the newest
    threshold.step(ms(200));
    expect(threshold.record.scales).toEqual([]);

    const tracking = new Process(
      processConfig({
        decision: {
          backend: "target-tracking",
          targetValue: 200,
          behavior: { scaleDown: { policies: [{ type: "Pods", value: 1, periodSeconds: 1800 }] } },
          maxProcesses: 5,
          postScaleWaitSeconds: 0,
        },
      }),
    );
    tracking.step(ms(400)); // 2 -> 4
    expect(tracking.record.scales).toHaveLength(1);
    tracking.minute += 20;
    tracking.step(ms(200));
    expect(tracking.record.scales).toHaveLength(1); // still within the policy's period
    tracking.minute += 10;
    tracking.step(ms(200));
    expect(tracking.record.scales).toEqual([]);
  });

  it("the too-rapid count still fires within the cap", () => {
    const web = new Process(
      processConfig({ notification: { backends: ["memory"], notifyOn: ["too-rapid"] } }),
    );
    const steps = Array.from({ length: 40 }, () => web.step(ms(web.count > 2 ? 50 : 400)));
    expect(steps.slice(0, 6).flatMap((s) => s.kinds)).toEqual([]);
    // The 7th scale is the 4th up within 15 minutes, more than tooRapidNumScales (3): it starts,
    // and with only the newest 7 records kept it stays open, never taken for resolved.
    expect(steps[6]!.signals).toMatchObject([{ kind: "too-rapid", phase: "started" }]);
    expect(steps.flatMap((s) => s.signals).filter((s) => s.phase === "resolved")).toEqual([]);
    expect(web.record.notices?.["too-rapid"]).toMatchObject({ since: T0 + 6 * MINUTE });
  });
});

describe("pre-warming in the step", () => {
  // T0 is Monday 12:00 UTC: slot 13 of the week is the hour from 13:00.
  const profile = encodeProfile(Array.from({ length: 168 }, (_, slot) => (slot === 13 ? 5 : NaN)));
  const prewarming = () => {
    const process = new Process(processConfig({}, { prewarm: { period: "week" } }));
    process.record = { ...emptyProcessRecord(), prewarm: { profile, slot: 12 } };
    return process;
  };

  it("raises the count ahead of the usual rise, the reason saying so, and keeps the profile through the scale", () => {
    const process = prewarming();
    const decisions = Array.from({ length: 61 }, () => process.step().decision);
    expect(decisions.slice(0, 55).every((d) => d.action === "hold" && d.target === 2)).toBe(true);
    expect(decisions[55]).toMatchObject({
      action: "up",
      target: 5,
      reason: "pre-warm: 5 processes ahead of the usual mon 13:00 rise (the policy: within 100-300)",
    });
    expect(process.count).toBe(5);
    // The hour from 12:00 ended (before the window) at 2: learnt; 13:00 is being watched.
    expect(decodeProfile(process.record.prewarm!.profile)!.slice(12, 14)).toEqual([2, 5]);
    expect(process.record.prewarm!.slot).toBe(13);
    expect(process.record.scales).toHaveLength(1);
  });

  it("does not override a pause", () => {
    const process = prewarming();
    process.record = { ...process.record, paused: { since: T0, announced: true } };
    const decisions = Array.from({ length: 60 }, () => process.step().decision);
    expect(decisions.every((d) => d.action === "hold")).toBe(true);
    expect(decisions[55]!.reason).toMatch(/^paused; the policy would scale up to 5: pre-warm: 5 processes/);
  });
});

describe("the step's scale-down held for jobs in progress", () => {
  const jobs = (value: number, busy: number): Reading => ({
    backend: "sidekiq-queue",
    value,
    unit: "jobs",
    ok: true,
    busy,
    holdScaleDownWhileBusy: true,
  });

  it("is a lasting condition: notified when it starts, not every minute, resolved once no scale-down is held", () => {
    const worker = new Process(
      processConfig({
        notification: { backends: ["memory"], notifyOn: ["scale-down-held-busy"], resolveAfterMinutes: 0 },
      }),
    );
    const held = worker.step(jobs(0, 2));
    expect(held.decision).toMatchObject({ action: "hold", conditions: ["scale-down-held-busy"] });
    expect(held.signals).toMatchObject([{ kind: "scale-down-held-busy", phase: "started" }]);
    expect(worker.step(jobs(0, 1)).kinds).toEqual([]);
    expect(worker.count).toBe(2);
    const free = worker.step(jobs(0, 0)); // scales down to 1: nothing held any more
    expect(worker.count).toBe(1);
    expect(free.signals).toMatchObject([{ kind: "scale-down-held-busy", phase: "resolved" }]);
  });
});
