import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { encodeProfile } from "../../src/decide/index.js";
import { emptyProcessRecord, type ProcessRecord } from "../../src/engine/process-record.js";
import { decodeState, encodeState } from "../../src/engine/state-document.js";
import { settingsOf } from "../../src/simulate/compare.js";
import type { ProcessReport } from "../../src/engine/report.js";
import type { Reading } from "../../src/measure/index.js";
import { initialProcesses, replayPolicy, type ReplayedMinute } from "../../src/simulate/replay.js";
import { bundledTrace, sliceTrace } from "../../src/simulate/trace.js";
import { APP, startWorld, type World } from "../helpers/world.js";

/**
 * The tick and the simulator share one per-process step (src/engine/process-step.ts). Here the
 * same readings go through both: real ticks against the local Heroku API, Upstash and an app
 * that answers each minute's reading as JSON (the app-json backend reads it back exactly) or
 * fails, and the simulator's replay of those readings. Every minute's count, decision and
 * stored record must be the same.
 */
let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());

const trace = sliceTrace(
  bundledTrace(),
  Date.parse("1995-07-13T12:00:00Z"),
  Date.parse("1995-07-13T15:00:00Z"),
);

function policy(process: Record<string, unknown>): Config {
  return parseConfig({
    timezone: "America/New_York",
    keyPrefix: `equivalence-${Math.random().toString(36).slice(2, 8)}`,
    simulation: { rateMultiplier: 100, noise: { seed: 7, stddevMs: 20 } },
    processes: {
      web: {
        measurement: { backend: "response-time", url: "https://example.com/heartbeat" },
        scaling: { backend: "heroku", app: APP, processType: "web" },
        notification: { backends: ["memory"], notifyOn: ["scale", "above-max", "below-min", "too-rapid"] },
        ...process,
      },
    },
  });
}

/** The same config, measured by reading the minute's value from the target app's JSON. */
function asTicked(config: Config): Config {
  const web = config.processes.web!;
  const measurement = {
    backend: "app-json",
    url: `${world.targets.web!.url}/load`,
    path: "value",
    unit: "ms",
  };
  return parseConfig({ ...config, processes: { web: { ...web, measurement } } });
}

/**
 * The readings are the model's (a realistic morning, overload and failed heartbeats included),
 * served by the app to real ticks; the simulator then replays the readings the ticks measured.
 */
async function compareThroughTicks(
  config: Config,
  initialRecord?: ProcessRecord,
): Promise<{ minutes: number; scales: number; reasons: string[] }> {
  const settings = settingsOf(config);
  const modelled: (Reading | null)[] = [];
  replayPolicy("model", config, "web", trace, settings, {
    onMinute: (m) => modelled.push(m.reading),
    ...(initialRecord ? { initialRecord } : {}),
  });
  expect(modelled.some((r) => r && !r.ok)).toBe(true); // failures are part of the check

  const ticked = asTicked(config);
  world.heroku.setQuantity(APP, "web", initialProcesses(config, "web", trace, settings));
  if (initialRecord) {
    const lock = (await world.storeFor(config.keyPrefix).acquireLock(10_000))!;
    await lock.save(encodeState({ web: initialRecord }, trace.startMs[0]! - 60_000));
    await lock.release();
  }
  const ticks: { current: number; report: ProcessReport; record: unknown }[] = [];
  for (const [i, reading] of modelled.entries()) {
    const value = reading?.value ?? 0;
    world.targets.web!.set(reading && !reading.ok ? { status: 503 } : { status: 200, body: { value } });
    world.clock.set(trace.startMs[i]!);
    const current = world.heroku.quantity(APP, "web")!;
    const report = (await world.tick(ticked)).processes[0]!;
    ticks.push({ current, report, record: decodeState(await world.store.load()).state.processes.web });
  }

  const replayed: ReplayedMinute[] = [];
  replayPolicy("replay", config, "web", trace, settings, {
    readingAt: (i) => ticks[i]!.report.reading!,
    onMinute: (m) => replayed.push(m),
    ...(initialRecord ? { initialRecord } : {}),
  });
  expect(replayed).toHaveLength(ticks.length);
  let scales = 0;
  for (const [i, minute] of replayed.entries()) {
    const tick = ticks[i]!;
    const { decision } = minute;
    expect({ minute: i, current: tick.current, reading: tick.report.reading }).toEqual({
      minute: i,
      current: minute.current,
      reading: minute.reading,
    });
    expect(tick.report.decision).toEqual({
      action: decision.action,
      target: decision.target,
      reason: decision.reason,
      min: decision.bounds.min,
      max: decision.bounds.max,
    });
    expect(tick.record).toEqual(minute.record);
    if (decision.action !== "hold") scales++;
  }
  return { minutes: replayed.length, scales, reasons: replayed.map((m) => m.decision.reason) };
}

/** Consecutive thresholds as two of the cases decide: one fail up, three passes down, a 120 s cool-down. */
const thresholds = {
  minMeasurement: 110,
  maxMeasurement: 200,
  failsToScaleUp: 1,
  passesToScaleDown: 3,
  maxProcesses: 40,
  postScaleWaitSeconds: 120,
};

describe("the tick and the simulator take the same steps", () => {
  it("consecutive thresholds with time-of-day bounds, measured every minute", async () => {
    const config = policy({
      decision: { ...thresholds, minProcesses: { "0:00": 2, "9:30": 5 } },
    });
    const { minutes, scales } = await compareThroughTicks(config);
    expect(minutes).toBe(180);
    expect(scales).toBeGreaterThan(5);
  }, 120_000);

  it("target tracking with a schedule, measured every other minute", async () => {
    const config = policy({
      intervalSeconds: 120,
      decision: {
        backend: "target-tracking",
        targetValue: 150,
        minProcesses: 2,
        maxProcesses: 40,
        schedule: [
          { cron: "0 8 * * *", processes: 4 },
          { cron: "15 10 * * *", processes: 8 },
        ],
      },
    });
    const { scales } = await compareThroughTicks(config);
    expect(scales).toBeGreaterThan(3);
  }, 120_000);

  it("consecutive thresholds with pre-warming, from a profile learnt on earlier Thursdays", async () => {
    const config = policy({
      decision: { ...thresholds, minProcesses: 2, prewarm: { period: "week", leadMinutes: 10 } },
    });
    // 1995-07-13 is a Thursday: 09:00 and 10:00 in New York are slots 81 and 82 of the week.
    const profile = encodeProfile(
      Array.from({ length: 168 }, (_, slot) => ({ 81: 36, 82: 40 })[slot] ?? NaN),
    );
    const initialRecord: ProcessRecord = { ...emptyProcessRecord(), prewarm: { profile, slot: 80 } };
    const { reasons, minutes } = await compareThroughTicks(config, initialRecord);
    expect(minutes).toBe(180);
    expect(
      reasons.filter((r) => r.startsWith("pre-warm: 36 processes ahead of the usual thu 09:00 rise")),
    ).not.toEqual([]);
  }, 120_000);
});
