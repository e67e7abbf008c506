import { readFile } from "node:fs/promises";
import { parseConfig } from "../config/load.js";
import { compare, settingsOf } from "../simulate/compare.js";
import type { Summary } from "../simulate/summary.js";
import type { Trace } from "../simulate/trace.js";

/**
 * Issue 10's goals, measured: the recommended web policy (examples/recommended-web.json)
 * against the oracle and the seeds' default policy on the bench's trace, under the model in its
 * own `simulation` block. Each figure is printed beside its goal, with whether it holds.
 */
const RECOMMENDED = new URL("../../examples/recommended-web.json", import.meta.url).pathname;
/** The Python autoscalebot's defaults: 200/1000 ms on the heartbeat, 3 fails up, 5 passes down, +1. */
const SEEDS_DEFAULT = {
  backend: "consecutive-threshold",
  minMeasurement: 200,
  maxMeasurement: 1000,
  failsToScaleUp: 3,
  passesToScaleDown: 5,
  increment: 1,
};

interface RawConfig {
  processes: { web: { measurement: Record<string, unknown>; decision: Record<string, unknown> } };
}
const DAY_MINUTES = 1440;

export async function printGoals(trace: Trace): Promise<void> {
  const raw = JSON.parse(await readFile(RECOMMENDED, "utf8")) as RawConfig;
  const config = parseConfig(raw, "examples/recommended-web.json");
  // The seeds' policy reads the heartbeat's response time, within the same bounds and model.
  const { minProcesses, maxProcesses } = raw.processes.web.decision;
  const web = { ...raw.processes.web };
  web.measurement = { backend: "response-time", url: web.measurement.url };
  web.decision = { ...SEEDS_DEFAULT, minProcesses, maxProcesses };
  const seeds = parseConfig({ ...raw, processes: { web } }, "the seeds' default");
  const { summaries } = compare(
    [
      { label: "recommended-web", config },
      { label: "seeds-default", config: seeds },
    ],
    "web",
    trace,
    settingsOf(config),
    { baselines: false },
  );
  const [rec, seed] = summaries as [Summary, Summary];
  const share = (n: number, of: number) => (100 * n) / of;
  const bad = share(rec.lateRequests + rec.droppedRequests, rec.requests);
  const rows: [string, string, boolean][] = [
    [`x oracle's process-hours ${rec.vsOracle!.toFixed(2)}x`, "<= 2.0x", rec.vsOracle! <= 2],
    [
      `minutes over the SLO ${share(rec.minutesOverSlo, rec.minutes).toFixed(2)}%`,
      "<= 0.5%",
      rec.minutesOverSlo <= 0.005 * rec.minutes,
    ],
    [`requests late or dropped ${bad.toFixed(2)}%`, "<= 0.5%", bad <= 0.5],
    [
      `late requests ${rec.lateRequests.toLocaleString("en-US")} vs the seeds' default ${seed.lateRequests.toLocaleString("en-US")}`,
      "fewer",
      rec.lateRequests < seed.lateRequests,
    ],
    [
      `flaps ${rec.flaps} in ${(rec.minutes / DAY_MINUTES).toFixed(1)} days`,
      "<= 1 a day",
      rec.flaps <= rec.minutes / DAY_MINUTES,
    ],
  ];
  console.log(`\ngoals: examples/recommended-web.json on ${trace.source}`);
  for (const [figure, goal, holds] of rows)
    console.log(`  ${figure.padEnd(62)} goal ${goal.padEnd(10)} ${holds ? "holds" : "MISSED"}`);
}
