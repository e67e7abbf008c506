import type { Config } from "../config/schema.js";
import { decodeState } from "../engine/state-document.js";
import { readStatus, statusRanges, type StatusRange } from "../engine/status.js";
import { UnknownProcessError } from "../engine/tick.js";
import type { Env } from "../kit/env.js";
import type { StateStore } from "../state/index.js";
import { authorize, failure, json } from "./http.js";

/** What the read-only endpoints need: the configuration, its store and the time. */
export interface ApiContext {
  config: Config;
  store: StateStore;
  now: () => number;
}

/** The tokens that read the status: the status token, or the trigger's. */
export const statusTokens = (env: Env) => [env.AUTOSCALE_STATUS_TOKEN, env.AUTOSCALE_TRIGGER_TOKEN];

/**
 * `GET /api/status?range=1h|24h|7d[&process=NAME][&since=ISO]`: the status the dashboard draws. `context`
 * is made only once the request is allowed, so a refused one costs no config or store.
 */
export async function statusResponse(
  request: Request,
  env: Env,
  context: () => ApiContext,
  { openWhenUnset = false } = {},
): Promise<Response> {
  if (request.method !== "GET") return json(405, { error: "use GET" }, { Allow: "GET" });
  const refused = authorize(request, statusTokens(env), "AUTOSCALE_STATUS_TOKEN", { openWhenUnset });
  if (refused) return refused;
  const query = new URL(request.url).searchParams;
  const range = query.get("range") ?? "24h";
  if (!Object.hasOwn(statusRanges, range))
    return json(400, { error: `range expects one of ${Object.keys(statusRanges).join(", ")}` });
  const sinceText = query.get("since");
  const since = sinceText === null ? undefined : Date.parse(sinceText);
  if (since !== undefined && !Number.isFinite(since))
    return json(400, { error: "since expects an ISO 8601 time, e.g. 2026-06-01T12:00:00.000Z" });
  try {
    const { config, store, now } = context();
    const process = query.get("process") ?? undefined;
    if (process !== undefined && !config.processes[process])
      throw new UnknownProcessError([process], Object.keys(config.processes));
    const status = await readStatus(config, store, {
      range: range as StatusRange,
      process,
      now: now(),
      since,
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
export async function healthResponse(request: Request, context: () => ApiContext): Promise<Response> {
  if (request.method !== "GET") return json(405, { error: "use GET" }, { Allow: "GET" });
  try {
    const { store, now } = context();
    const { state } = decodeState(await store.load());
    const ageMs = state.updatedAt > 0 ? Math.max(0, now() - state.updatedAt) : null;
    const ok = ageMs !== null && ageMs < STALE_AFTER_MS;
    const lastTickAgeSeconds = ageMs === null ? null : Math.round(ageMs / 1000);
    return json(ok ? 200 : 503, { status: ok ? "ok" : "stale", lastTickAgeSeconds });
  } catch {
    // Whatever went wrong (config, store), the monitor learns only that it is not healthy.
    return json(503, { status: "stale", lastTickAgeSeconds: null });
  }
}
