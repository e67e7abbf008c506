import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "./clock.js";
import { parseConfig } from "./config/load.js";
import { startHerokuApi } from "./local/heroku-api.js";
import { startTargetApp } from "./local/target-app.js";
import { FileStateStore } from "./state/file.js";
import { runTick } from "./tick.js";

/**
 * `npm start`: the real autoscaler against a local world, no account and no network. A target
 * app whose latency grows with load per process, a Heroku-compatible API that owns the process
 * count, the embedded file store, and ticks one simulated minute apart (a fraction of a second
 * in real time) while the load rises into a spike and falls back.
 */
const APP = "demo-app";
const SERVICE_MS = 40; // one request's own time on an idle process
const CAPACITY = 100; // requests per minute one process serves before it saturates
const TICK_REAL_MS = 300;

/** Load in requests per minute at a simulated minute: quiet, a ramp into a spike, quiet again. */
function loadAt(minute: number): number {
  if (minute < 6) return 60;
  if (minute < 12) return 60 + (minute - 5) * 45;
  if (minute < 24) return 360;
  if (minute < 30) return 360 - (minute - 23) * 50;
  return 50;
}

/** A queueing-flavoured latency: service time stretched by utilisation, saturating at 2 s. */
function latencyFor(load: number, processes: number): number {
  const utilisation = load / (CAPACITY * Math.max(processes, 0.01));
  return utilisation >= 0.95 ? 2000 : Math.round(SERVICE_MS / (1 - utilisation));
}

export async function runDemo(minutes = 45): Promise<number> {
  const apiKey = `demo-${randomUUID()}`;
  const heroku = await startHerokuApi({ apiKey, apps: { [APP]: { web: 1 } } });
  let minute = 0;
  const target = await startTargetApp({
    latencyMs: () => latencyFor(loadAt(minute), heroku.quantity(APP, "web") ?? 0),
  });
  const dir = await mkdtemp(join(tmpdir(), "autoscalebot-demo-"));
  const clock = new ManualClock(Date.parse("2026-01-05T08:00:00Z"));
  const store = new FileStateStore({ dir, keyPrefix: "demo", clock });
  const config = parseConfig(
    {
      processes: {
        web: {
          measurement: { backend: "response-time", url: `${target.url}/heartbeat`, timeoutMs: 1500 },
          decision: {
            backend: "consecutive-threshold",
            minMeasurement: 60,
            maxMeasurement: 150,
            failsToScaleUp: 2,
            passesToScaleDown: 3,
            minProcesses: 1,
            maxProcesses: 5,
            postScaleWaitSeconds: 60,
          },
          scaling: { backend: "heroku", app: APP, processType: "web" },
          notification: { backends: ["memory"], notifyOn: ["scale"] },
        },
      },
    },
    "demo",
  );
  const env = { HEROKU_API_KEY: apiKey, HEROKU_API_URL: heroku.url };

  let stopped = false;
  const stop = () => (stopped = true);
  process.once("SIGINT", stop).once("SIGTERM", stop);
  console.log(`local Heroku API ${heroku.url}, target app ${target.url}, state in ${dir}`);
  console.log("time   load/min  latency   processes  decision");
  let processMinutes = 0;
  let scales = 0;
  try {
    for (; minute < minutes && !stopped; minute++) {
      const report = await runTick(config, { clock, store, env });
      const web = report.processes[0];
      const processes = heroku.quantity(APP, "web") ?? 0;
      processMinutes += processes;
      if (web?.scaled) scales++;
      const time = new Date(clock.now()).toISOString().slice(11, 16);
      const latency = web?.reading?.value === null || !web?.reading ? "-" : `${web.reading.value} ms`;
      const decision = web?.scaled
        ? `scaled ${web.scaled.from} -> ${web.scaled.to}: ${web.decision?.reason}`
        : (web?.decision?.reason ?? web?.error?.message ?? report.error ?? "");
      console.log(
        `${time}  ${String(loadAt(minute)).padStart(8)}  ${latency.padStart(7)}   ${String(processes).padStart(9)}  ${decision}`,
      );
      clock.advance(60_000);
      await new Promise((resolve) => setTimeout(resolve, TICK_REAL_MS));
    }
    console.log(
      `\n${minute} simulated minutes: ${scales} scale events, ${(processMinutes / 60).toFixed(2)} process-hours`,
    );
    return 0;
  } finally {
    process.off("SIGINT", stop).off("SIGTERM", stop);
    await Promise.all([target.close(), heroku.close()]);
    await rm(dir, { recursive: true, force: true });
  }
}
