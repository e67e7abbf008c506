import { loadConfigFile } from "../config/load.js";
import { compare, settingsOf } from "../simulate/compare.js";
import type { Summary } from "../simulate/summary.js";
import type { Trace } from "../simulate/trace.js";

/**
 * Issue 10's goals, measured: the recommended web policy (examples/recommended-web.json)
 * against the oracle and the seeds' default policy (src/simulate/examples/seeds-default.json:
 * 200/1000 ms on the heartbeat, 3 fails up, 5 passes down, +1, within the same bounds) on the
 * bench's trace, under the model in the recommended config's `simulation` block. Each figure is
 * printed beside its goal, with whether it holds.
 */
const RECOMMENDED = new URL("../../examples/recommended-web.json", import.meta.url).pathname;
const SEEDS_DEFAULT = new URL("../../src/simulate/examples/seeds-default.json", import.meta.url).pathname;
const DAY_MINUTES = 1440;

/** The slowest policy of the speed table: its best round and its median round (minutes simulated per second). */
export interface SlowestPolicy {
  name: string;
  perSecond: number;
  medianPerSecond: number;
}

/** Issue 10's speed goal: at least this many minutes simulated per second, for each policy. */
const MINUTES_PER_SECOND_GOAL = 100_000;

export async function printGoals(trace: Trace, slowest: SlowestPolicy): Promise<void> {
  const config = await loadConfigFile(RECOMMENDED);
  const { summaries } = compare(
    [
      { label: "recommended-web", config },
      { label: "seeds-default", config: await loadConfigFile(SEEDS_DEFAULT) },
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
  const rate = (n: number) => Math.round(n).toLocaleString("en-US");
  // The best round: the policy's own speed, what a round loses to the machine left out (the
  // median beside it says how much that was).
  rows.push([
    `minutes simulated/s, slowest: ${slowest.name} ${rate(slowest.perSecond)} (median ${rate(slowest.medianPerSecond)})`,
    `>= ${rate(MINUTES_PER_SECOND_GOAL)}`,
    slowest.perSecond >= MINUTES_PER_SECOND_GOAL,
  ]);
  console.log(`\ngoals: examples/recommended-web.json on ${trace.source}, and the speed table above`);
  for (const [figure, goal, holds] of rows)
    console.log(`  ${figure.padEnd(76)} goal ${goal.padEnd(10)} ${holds ? "holds" : "MISSED"}`);
}
