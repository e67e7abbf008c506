import { authorize, failure, json, scrubbedResponse } from "../api/http.js";
import { healthResponse, statusResponse, type ApiContext } from "../api/status.js";
import { steerResponse } from "../api/steer.js";
import { systemClock } from "../kit/clock.js";
import { didYouMean } from "../kit/closest.js";
import { scrubberFor } from "../kit/redact.js";
import { configForFunctions } from "../config/sources.js";
import { tickFailed } from "../engine/report.js";
import { createStateStore, emulatedLocally } from "../state/index.js";
import { runTick, type TickOptions } from "../engine/tick.js";
import type { Env } from "../kit/env.js";

async function tick(env: Env, bundledConfig: unknown, options: TickOptions) {
  const config = configForFunctions(env, bundledConfig);
  // These entry points run only as Netlify functions: files are for local emulation alone.
  const store = createStateStore(env, config.keyPrefix, emulatedLocally(env));
  return runTick(config, { clock: systemClock, store, env }, options);
}

/** The scheduled function: one tick, its report as one JSON log line. */
export async function handleScheduled(env: Env, bundledConfig: unknown): Promise<void> {
  try {
    const report = await tick(env, bundledConfig, {});
    (tickFailed(report) ? console.error : console.log)(JSON.stringify(report));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(JSON.stringify({ error: scrubberFor(env).text(message) }));
  }
}

/** What acts on the autoscaler (a tick, a pause) takes a POST with AUTOSCALE_TRIGGER_TOKEN, never the status token. */
function refuseUnlessTriggered(request: Request, env: Env): Response | null {
  if (request.method !== "POST") return json(405, { error: "use POST" }, { Allow: "POST" });
  return authorize(request, [env.AUTOSCALE_TRIGGER_TOKEN], "AUTOSCALE_TRIGGER_TOKEN");
}

/** `POST /api/tick`: a tick on demand, authenticated by AUTOSCALE_TRIGGER_TOKEN; its answer scrubbed. */
export const handleTrigger = (request: Request, env: Env, bundledConfig: unknown): Promise<Response> =>
  scrubbedResponse(trigger(request, env, bundledConfig), scrubberFor(env, bundledConfig));

async function trigger(request: Request, env: Env, bundledConfig: unknown): Promise<Response> {
  const refused = refuseUnlessTriggered(request, env);
  if (refused) return refused;
  const options = triggerOptions(new URL(request.url).searchParams);
  if (typeof options === "string") return json(400, { error: options });
  try {
    const report = await tick(env, bundledConfig, options);
    // As the CLI's exit code: skipped (409), the store failed (503), a process failed (502).
    const status = report.skipped ? 409 : report.error ? 503 : tickFailed(report) ? 502 : 200;
    return json(status, report);
  } catch (error) {
    return failure(error, scrubberFor(env, bundledConfig));
  }
}

const DRY_RUN = { "1": true, true: true, "0": false, false: false } as const;

/**
 * The trigger's query, strictly: `dryRun` once, exactly 1, true, 0 or false; `process` as often
 * as wanted. Anything else, misspelt or repeated, is refused (a string: why), so a query meant
 * as a dry run can never run a real scale.
 */
function triggerOptions(query: URLSearchParams): TickOptions | string {
  for (const key of new Set(query.keys()))
    if (key !== "dryRun" && key !== "process")
      return `unknown parameter ${JSON.stringify(key)}${didYouMean(key, ["dryRun", "process"])}: expected dryRun and process`;
  const dryRuns = query.getAll("dryRun");
  if (dryRuns.length > 1) return "dryRun given more than once";
  const dryRun = dryRuns[0];
  if (dryRun !== undefined && !Object.hasOwn(DRY_RUN, dryRun))
    return `dryRun expects one of 1, true, 0, false, got ${JSON.stringify(dryRun)}`;
  const processes = query.getAll("process");
  if (processes.some((p) => p === "")) return "process expects a process name";
  return { processes, dryRun: dryRun === undefined ? false : DRY_RUN[dryRun as keyof typeof DRY_RUN] };
}

/** What the other endpoints read: the bundled (or env) config and the Upstash store. */
const functionContext = (env: Env, bundledConfig: unknown) => (): ApiContext => {
  const config = configForFunctions(env, bundledConfig);
  const store = createStateStore(env, config.keyPrefix, emulatedLocally(env));
  return { config, store, now: () => systemClock.now() };
};

/** `POST /api/pause` with `{"process": "web", "minutes"?: N, "processes"?: COUNT}`, the trigger token. */
export const handlePause = async (request: Request, env: Env, bundledConfig: unknown): Promise<Response> =>
  scrubbedResponse(
    refuseUnlessTriggered(request, env) ??
      steerResponse("pause", request, functionContext(env, bundledConfig)),
    scrubberFor(env, bundledConfig),
  );

/** `POST /api/resume` with `{"process": "web"}`, the trigger token. */
export const handleResume = async (request: Request, env: Env, bundledConfig: unknown): Promise<Response> =>
  scrubbedResponse(
    refuseUnlessTriggered(request, env) ??
      steerResponse("resume", request, functionContext(env, bundledConfig)),
    scrubberFor(env, bundledConfig),
  );

/**
 * `GET /api/status?range=1h|24h|7d[&process=NAME]`: the status the dashboard draws, read-only,
 * with AUTOSCALE_STATUS_TOKEN (or the trigger's token); off while neither is set.
 */
export const handleStatus = (request: Request, env: Env, bundledConfig: unknown): Promise<Response> =>
  scrubbedResponse(
    statusResponse(request, env, functionContext(env, bundledConfig)),
    scrubberFor(env, bundledConfig),
  );

/** `GET /api/health`: ok or stale, and the last tick's age; no token. */
export const handleHealth = (request: Request, env: Env, bundledConfig: unknown): Promise<Response> =>
  healthResponse(request, functionContext(env, bundledConfig));
