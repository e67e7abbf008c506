import { createHash, timingSafeEqual } from "node:crypto";
import { systemClock } from "../kit/clock.js";
import { ConfigError } from "../config/load.js";
import { configForFunctions } from "../config/sources.js";
import { tickFailed } from "../engine/report.js";
import { createStateStore, emulatedLocally, StateStoreError, StoreConfigError } from "../state/index.js";
import { readStatus, statusRanges, type StatusRange } from "../engine/status.js";
import { decodeState } from "../engine/state-document.js";
import { runTick, UnknownProcessError, type TickOptions } from "../engine/tick.js";
import { LockBusyError, SteerRequestError, steerProcess } from "../engine/steer.js";
import type { Env } from "../kit/env.js";

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store", ...headers },
  });

/** Compares digests, so neither the token's content nor its length leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

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
    console.error(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
  }
}

/**
 * A bearer token that is one of `tokens` (those set), or the refusal: 503 when none is set (the
 * endpoint is off), 401 otherwise. Tokens go in the Authorization header, never in a URL.
 */
function authorize(request: Request, tokens: (string | undefined)[], variable: string): Response | null {
  const expected = tokens.filter((t): t is string => Boolean(t));
  if (expected.length === 0)
    return json(503, { error: `this endpoint is disabled: set ${variable} to enable it` });
  const given = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
  // Every token is compared, so the time taken says nothing of which one matched.
  const matches = given !== undefined && expected.map((t) => sameSecret(given, t)).includes(true);
  if (matches) return null;
  return json(
    401,
    { error: "missing or wrong bearer token" },
    { "WWW-Authenticate": 'Bearer realm="autoscalebot"' },
  );
}

/** What acts on the autoscaler (a tick, a pause) takes a POST with AUTOSCALE_TRIGGER_TOKEN, never the status token. */
function refuseUnlessTriggered(request: Request, env: Env): Response | null {
  if (request.method !== "POST") return json(405, { error: "use POST" }, { Allow: "POST" });
  return authorize(request, [env.AUTOSCALE_TRIGGER_TOKEN], "AUTOSCALE_TRIGGER_TOKEN");
}

/** `POST /api/tick`: a tick on demand, authenticated by AUTOSCALE_TRIGGER_TOKEN. */
export async function handleTrigger(request: Request, env: Env, bundledConfig: unknown): Promise<Response> {
  const refused = refuseUnlessTriggered(request, env);
  if (refused) return refused;

  const query = new URL(request.url).searchParams;
  const dryRun = ["1", "true", "yes"].includes(query.get("dryRun") ?? "");
  try {
    const report = await tick(env, bundledConfig, { processes: query.getAll("process"), dryRun });
    const status = report.skipped ? 409 : report.error ? 503 : 200;
    return json(status, report);
  } catch (error) {
    return failure(error);
  }
}

/** `POST /api/pause` with `{"process": "web", "minutes"?: N, "processes"?: COUNT}`, the trigger token. */
export const handlePause = (request: Request, env: Env, bundledConfig: unknown) =>
  steer("pause", request, env, bundledConfig);

/** `POST /api/resume` with `{"process": "web"}`, the trigger token. */
export const handleResume = (request: Request, env: Env, bundledConfig: unknown) =>
  steer("resume", request, env, bundledConfig);

/** Pause or resume (src/engine/steer.ts): the answer says what it did and the pause now in force. */
async function steer(
  action: "pause" | "resume",
  request: Request,
  env: Env,
  bundledConfig: unknown,
): Promise<Response> {
  const refused = refuseUnlessTriggered(request, env);
  if (refused) return refused;
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
  } catch {
    return json(400, { error: 'expected a JSON body, e.g. {"process": "web"}' });
  }
  try {
    const config = configForFunctions(env, bundledConfig);
    const deps = { store: createStateStore(env, config.keyPrefix, emulatedLocally(env)), clock: systemClock };
    return json(200, await steerProcess(action, config, deps, body, "api"));
  } catch (error) {
    return failure(error);
  }
}

/** What an entry point answers when the request could not be served. */
function failure(error: unknown): Response {
  if (error instanceof ConfigError)
    return json(500, { error: "invalid configuration", problems: error.problems });
  if (error instanceof StoreConfigError) return json(503, { error: error.message });
  if (error instanceof UnknownProcessError) return json(400, { error: error.message });
  if (error instanceof SteerRequestError)
    return json(400, { error: "invalid request body", problems: error.problems });
  if (error instanceof LockBusyError) return json(409, { error: error.message });
  if (error instanceof StateStoreError) return json(503, { error: error.message });
  console.error(error);
  return json(500, { error: "internal error" });
}

/**
 * `GET /api/status?range=1h|24h|7d[&process=NAME]`: the status the dashboard draws, read-only,
 * with AUTOSCALE_STATUS_TOKEN (or the trigger's token).
 */
export async function handleStatus(request: Request, env: Env, bundledConfig: unknown): Promise<Response> {
  if (request.method !== "GET") return json(405, { error: "use GET" }, { Allow: "GET" });
  const refused = authorize(
    request,
    [env.AUTOSCALE_STATUS_TOKEN, env.AUTOSCALE_TRIGGER_TOKEN],
    "AUTOSCALE_STATUS_TOKEN",
  );
  if (refused) return refused;
  const query = new URL(request.url).searchParams;
  const range = query.get("range") ?? "24h";
  if (!Object.hasOwn(statusRanges, range))
    return json(400, { error: `range expects one of ${Object.keys(statusRanges).join(", ")}` });
  try {
    const config = configForFunctions(env, bundledConfig);
    const process = query.get("process") ?? undefined;
    if (process !== undefined && !config.processes[process])
      throw new UnknownProcessError([process], Object.keys(config.processes));
    const store = createStateStore(env, config.keyPrefix, emulatedLocally(env));
    const status = await readStatus(config, store, {
      range: range as StatusRange,
      process,
      now: systemClock.now(),
    });
    return json(200, status);
  } catch (error) {
    return failure(error);
  }
}

/** A tick completes every minute; three minutes without one means the schedule stopped. */
const STALE_AFTER_MS = 3 * 60_000;

/**
 * `GET /api/health`, for any uptime monitor: 200 while the last completed tick is under three
 * minutes old, 503 after. No token, so it says nothing but ok/stale and that tick's age.
 */
export async function handleHealth(request: Request, env: Env, bundledConfig: unknown): Promise<Response> {
  if (request.method !== "GET") return json(405, { error: "use GET" }, { Allow: "GET" });
  try {
    const config = configForFunctions(env, bundledConfig);
    const store = createStateStore(env, config.keyPrefix, emulatedLocally(env));
    const { state } = decodeState(await store.load());
    const ageMs = state.updatedAt > 0 ? Math.max(0, systemClock.now() - state.updatedAt) : null;
    const ok = ageMs !== null && ageMs < STALE_AFTER_MS;
    const lastTickAgeSeconds = ageMs === null ? null : Math.round(ageMs / 1000);
    return json(ok ? 200 : 503, { status: ok ? "ok" : "stale", lastTickAgeSeconds });
  } catch {
    // Whatever went wrong (config, store), the monitor learns only that it is not healthy.
    return json(503, { status: "stale", lastTickAgeSeconds: null });
  }
}
