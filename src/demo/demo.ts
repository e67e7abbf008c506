import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DateTime } from "luxon";
import { startDashboard, type Dashboard } from "../api/server.js";
import type { ApiContext } from "../api/status.js";
import { ManualClock, systemClock } from "../kit/clock.js";
import { parseConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { startTargetApp } from "../local/target-app.js";
import { createMeasurement } from "../measure/index.js";
import type { Reading } from "../measure/index.js";
import { compare, settingsOf } from "../simulate/compare.js";
import { emptyMinute, heartbeatReading } from "../simulate/model.js";
import { formationModel, heartbeatOptions, initialProcesses, RunRecorder } from "../simulate/replay.js";
import { formatTable } from "../simulate/report.js";
import { relateToOracle, summarize } from "../simulate/summary.js";
import { bundledTrace, compressTrace, type Trace } from "../simulate/trace.js";
import { FileStateStore } from "../state/index.js";
import { runTick } from "../engine/tick.js";
import { plural } from "../kit/plural.js";
import type { DemoPlatformName } from "./platform-names.js";
import { startDemoPlatform } from "./platforms.js";

/**
 * `npm start`: the real autoscaler against a local world, no account and no network.
 *
 * - A Heroku-compatible Platform API (src/local/heroku-api.ts) owns the process count, or with
 *   `platform` Render's, Railway's or a webhook platform's stand-in (./platforms.ts).
 * - A load generator replays the bundled trace (NASA, 1995-07-13, the launch day, x100),
 *   `speedup` trace minutes per tick (10: the day in 144 ticks), as real HTTP requests to the
 *   target app; each carries how many modelled requests it stands for, so a few dozen requests
 *   a tick carry thousands.
 * - The target app (src/local/target-app.ts) counts them and runs the simulator's capacity model
 *   (src/simulate/model.ts) on that load and on the count the API holds, new processes booting
 *   for `bootSeconds`: its heartbeat answers as late as the model says (a heartbeat the model
 *   puts past the timeout answers 503 at once, which the policy counts the same way, so the
 *   demo never waits seconds for it).
 * - The real tick (runTick: heartbeat, formation read, decision, PATCH) runs once a simulated
 *   minute with the embedded file store in a temporary directory and a clock moved a minute a
 *   tick, `tickMs` of real time apart.
 *
 * Each tick prints a line; at the end (or on Ctrl-C, which stops after the tick in progress)
 * the simulator's table compares the live run with the simulator's prediction for the same
 * minutes and the baselines. The two agree up to the heartbeat's own few milliseconds on
 * loopback, which can tip a reading that sits on a threshold.
 */
const DEFAULT_SPEEDUP = 10;
const DEFAULT_TICK_MS = 250;
/** At most this many real HTTP requests per tick carry the minute's load. */
const MAX_LOAD_REQUESTS = 24;
const DEFAULT_DASHBOARD_PORT = 8787;

export interface DemoOptions {
  /** Ticks (simulated minutes) to run; default: the whole bundled day. */
  minutes?: number;
  /** Trace minutes per tick (default 10). */
  speedup?: number;
  /** Real time between ticks in ms (default 250). */
  tickMs?: number;
  out?: (line: string) => void;
  /** Registers what stops the demo (default: SIGINT and SIGTERM); returns how to unregister it. */
  onStop?: (stop: () => void) => () => void;
  /**
   * The dashboard's port while the demo runs (default 8787, or a free one when that is taken);
   * `false`: no dashboard.
   */
  dashboardPort?: number | false;
  /** Keep the dashboard up after the last tick, until stopped (the CLI does, on a terminal). */
  keepDashboard?: boolean;
  /** The platform whose local stand-in the tick scales (default heroku). */
  platform?: DemoPlatformName;
}

/** The dashboard over the demo's store, on `port` or, when that is taken, on a free one. */
async function demoDashboard(context: ApiContext, port: number): Promise<Dashboard> {
  try {
    return await startDashboard({ context, env: {}, port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    return startDashboard({ context, env: {}, port: 0 });
  }
}

/** The autoscaler the demo runs: the seeds' consecutive-threshold on the heartbeat, with the fail-safe. */
export function demoConfig(
  targetUrl: string,
  scaling: Record<string, unknown> = { backend: "heroku", app: "demo-app", processType: "web" },
): Config {
  return parseConfig(
    {
      timezone: "America/New_York",
      keyPrefix: "demo",
      simulation: {
        rateMultiplier: 100,
        capacityPerProcess: 1200,
        serviceTimeMs: 100,
        bootSeconds: 60,
        sloMs: 500,
        sloMetric: "p95",
        noise: { seed: 1, stddevMs: 20 },
      },
      processes: {
        web: {
          measurement: { backend: "response-time", url: `${targetUrl}/heartbeat`, timeoutMs: 2000 },
          decision: {
            backend: "consecutive-threshold",
            minMeasurement: 130,
            maxMeasurement: 250,
            failsToScaleUp: 1,
            passesToScaleDown: 5,
            increment: 2,
            minProcesses: 2,
            maxProcesses: 40,
            scaleUpCooldownSeconds: 60,
            scaleDownCooldownSeconds: 120,
            failSafe: { maxMs: 1500 },
          },
          scaling,
          notification: { backends: ["memory"], notifyOn: ["scale"] },
        },
      },
    },
    "demo",
  );
}

/**
 * A signal for one tick that aborts with `stopping`. fetch leaves a listener on the signal it is
 * given, so a signal shared by all ticks gathers thousands over the day; one per tick goes with it.
 */
function follow(stopping: AbortSignal): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  stopping.addEventListener("abort", abort, { once: true });
  return { signal: controller.signal, done: () => stopping.removeEventListener("abort", abort) };
}

const defaultOnStop = (stop: () => void) => {
  process.once("SIGINT", stop).once("SIGTERM", stop);
  return () => void process.off("SIGINT", stop).off("SIGTERM", stop);
};

/** The first `minutes` minutes of a trace. */
function head(trace: Trace, minutes: number): Trace {
  return {
    ...trace,
    startMs: trace.startMs.subarray(0, minutes),
    traceMs: trace.traceMs.subarray(0, minutes),
    requests: trace.requests.subarray(0, minutes),
  };
}

/** Sends a minute's load as a few real requests whose `x-demo-requests` headers add up to it. */
async function sendLoad(url: string, requests: number, signal: AbortSignal): Promise<void> {
  const count = Math.min(MAX_LOAD_REQUESTS, Math.max(1, Math.ceil(requests / 500)));
  const share = Math.floor(requests / count);
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const carries = i === count - 1 ? requests - share * (count - 1) : share;
      const response = await fetch(`${url}/load`, {
        headers: { "x-demo-requests": String(carries) },
        signal,
      });
      await response.arrayBuffer();
    }),
  );
}

const CALIBRATION: Reading = { backend: "response-time", value: 20, unit: "ms", ok: true };

/**
 * The real measurement's own time on loopback (the timer's lateness, the HTTP exchange): the
 * median of a few heartbeats the app delays by 20 ms, less 20. A few milliseconds, but enough
 * to tip a reading that sits on a threshold away from the simulator's.
 */
async function loopbackOverhead(config: Config, calibrate: () => void): Promise<number> {
  calibrate();
  const measurement = createMeasurement(config.processes.web!.measurement, { env: {}, clock: systemClock });
  const extra: number[] = [];
  for (let i = 0; i < 7; i++) {
    const reading = await measurement.measure(AbortSignal.timeout(5000));
    if (reading.ok && reading.value !== null) extra.push(reading.value - CALIBRATION.value!);
  }
  extra.sort((a, b) => a - b);
  return Math.max(0, extra[Math.floor(extra.length / 2)] ?? 0);
}

export async function runDemo(options: DemoOptions = {}): Promise<number> {
  const out = options.out ?? ((line: string) => console.log(line));
  const speedup = options.speedup ?? DEFAULT_SPEEDUP;
  const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
  const day = compressTrace(bundledTrace(), speedup);
  const trace = head(day, Math.min(options.minutes ?? day.requests.length, day.requests.length));

  // The model's state, read by the target app as requests arrive.
  let arrivals = 0;
  /** What a heartbeat costs on loopback besides the app's delay: taken off, so the reading is the model's. */
  let overheadMs = 0;
  let heartbeat: Reading = { backend: "response-time", value: 0, unit: "ms", ok: true };
  const target = await startTargetApp({
    latencyMs: (request) => {
      if (request.url.startsWith("/load")) {
        arrivals += Number(request.headers["x-demo-requests"] ?? 0);
        return 0;
      }
      return heartbeat.ok ? Math.max(0, (heartbeat.value ?? 0) - overheadMs) : 0;
    },
    status: (request) => (request.url.startsWith("/load") || heartbeat.ok ? 200 : 503),
  });
  // The model's settings and the first count do not depend on the platform; its scaling does.
  let config = demoConfig(target.url);
  const settings = settingsOf(config);
  const web = config.processes.web!;
  const initial = initialProcesses(config, "web", trace, settings);
  overheadMs = await loopbackOverhead(config, () => (heartbeat = CALIBRATION)).catch(
    async (error: unknown) => {
      await target.close();
      throw error;
    },
  );
  const platform = await startDemoPlatform(options.platform ?? "heroku", initial).catch(
    async (error: unknown) => {
      await target.close();
      throw error;
    },
  );
  const dir = await mkdtemp(join(tmpdir(), "autoscalebot-demo-"));
  const clock = new ManualClock(trace.startMs[0]!);
  const store = new FileStateStore({ dir, keyPrefix: config.keyPrefix, clock });
  config = demoConfig(target.url, platform.scaling);
  const { env } = platform;

  const model = formationModel(settings, initial);
  const probe = heartbeatOptions(web, settings);
  const recorder = new RunRecorder(
    "live (this run)",
    "policy",
    "consecutive-threshold on response-time, over HTTP",
    trace.requests.length,
  );
  model.warmUp(trace.requests[0]! * settings.rateMultiplier, trace.startMs[0]!);
  const minute = emptyMinute();

  const stopping = new AbortController();
  const unregister = (options.onStop ?? defaultOnStop)(() => stopping.abort());
  const zone = trace.zone;
  const port = options.dashboardPort ?? DEFAULT_DASHBOARD_PORT;
  const dashboard =
    port === false
      ? null
      : await demoDashboard({ config, store, now: () => clock.now() }, port).catch(async (error: unknown) => {
          unregister();
          await Promise.all([target.close(), platform.close()]);
          throw error;
        });
  out(`autoscalebot demo: the real tick against a local world (no account, no network)`);
  out(`  ${platform.describe}, target app ${target.url}, state in ${dir}`);
  // The demo's minutes pass every few hundred ms, so the page refreshes every 2 s, not every minute.
  if (dashboard) out(`  dashboard: ${dashboard.url}#refresh=2 (open it to watch the loop live)`);
  out(
    `  load: ${trace.source} x${settings.rateMultiplier}, ${speedup} trace minutes per tick; ` +
      `model: ${settings.capacityPerProcess} requests/min per process, boot ${settings.bootSeconds} s; Ctrl-C stops`,
  );
  out("");
  out("trace time   load/min  heartbeat  processes  decision");
  let done = 0;
  try {
    for (let i = 0; i < trace.requests.length && !stopping.signal.aborted; i++) {
      const thisTick = follow(stopping.signal);
      const started = performance.now();
      const startMs = trace.startMs[i]!;
      clock.set(startMs);
      heartbeat = heartbeatReading(model.probe(startMs, settings.noise.stddevMs), probe);

      const report = await runTick(config, { clock, store, env });
      const result = report.processes[0];
      const quantity = platform.quantity();
      if (quantity !== model.processes) model.scaleTo(quantity, startMs);
      if (result?.scaled)
        recorder.run.scales.push({ at: startMs, ...result.scaled, reason: result.decision?.reason ?? "" });

      arrivals = 0;
      const load = trace.requests[i]! * settings.rateMultiplier;
      try {
        await sendLoad(target.url, load, thisTick.signal);
      } catch (error) {
        if (stopping.signal.aborted) break;
        throw error;
      }
      model.step(arrivals, startMs, settings.sloMs, minute);
      recorder.record(startMs, trace.traceMs[i]!, minute, result?.reading ?? null);
      done = i + 1;

      const reading = result?.reading;
      const shown = !reading
        ? "-"
        : reading.ok
          ? `${reading.value} ms`
          : reading.error?.includes("HTTP")
            ? "503"
            : "timeout";
      const decision = result?.scaled
        ? `scaled ${result.scaled.from} -> ${result.scaled.to}: ${result.decision?.reason}`
        : (result?.decision?.reason ?? result?.error?.message ?? report.error ?? "");
      const time = DateTime.fromMillis(trace.traceMs[i]!, { zone }).toFormat("MM-dd HH:mm");
      out(
        `${time}  ${Math.round(arrivals).toLocaleString("en-US").padStart(9)}  ${shown.padStart(9)}  ${String(quantity).padStart(9)}  ${decision}`,
      );
      const wait = tickMs - (performance.now() - started);
      if (wait > 0) await sleep(wait, undefined, { signal: thisTick.signal }).catch(() => {});
      thisTick.done();
    }

    if (done > 0) {
      const ran = head(trace, done);
      const zones = { zone: config.timezone, traceZone: zone };
      const live = summarize(recorder.run, settings, zones);
      const predicted = compare([{ label: "simulator (same minutes)", config }], "web", ran, settings);
      out("");
      out(
        `${stopping.signal.aborted ? "stopped after " : ""}${plural(done, "tick")} (${plural(done * speedup, "trace minute")}): ` +
          `SLO ${settings.sloMetric} <= ${settings.sloMs} ms, $${settings.pricePerProcessHour}/process-hour`,
      );
      out("");
      const rows = [live, ...predicted.summaries];
      relateToOracle(rows);
      out(formatTable(rows, settings, zone));
      out("");
      for (const s of predicted.summaries.filter((s) => s.kind === "baseline"))
        out(`${s.label}: ${s.description}`);
    }
    if (dashboard && options.keepDashboard && !stopping.signal.aborted) {
      out("");
      out(`the dashboard stays up at ${dashboard.url}; Ctrl-C stops`);
      await new Promise((resolve) => stopping.signal.addEventListener("abort", resolve, { once: true }));
    }
    return 0;
  } finally {
    unregister();
    await Promise.all([target.close(), platform.close(), dashboard?.close()]);
    await rm(dir, { recursive: true, force: true });
  }
}
