import { createHash, timingSafeEqual } from "node:crypto";
import { systemClock } from "../kit/clock.js";
import { ConfigError } from "../config/load.js";
import { configForFunctions } from "../config/sources.js";
import { tickFailed } from "../engine/report.js";
import { createStateStore, emulatedLocally, StoreConfigError } from "../state/index.js";
import { runTick, UnknownProcessError, type TickOptions } from "../engine/tick.js";
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

/** `POST /api/tick`: a tick on demand, authenticated by AUTOSCALE_TRIGGER_TOKEN. */
export async function handleTrigger(request: Request, env: Env, bundledConfig: unknown): Promise<Response> {
  if (request.method !== "POST") return json(405, { error: "use POST" }, { Allow: "POST" });
  const expected = env.AUTOSCALE_TRIGGER_TOKEN;
  if (!expected)
    return json(503, { error: "the trigger is disabled: set AUTOSCALE_TRIGGER_TOKEN to enable it" });
  const given = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
  if (!given || !sameSecret(given, expected)) {
    return json(
      401,
      { error: "missing or wrong bearer token" },
      { "WWW-Authenticate": 'Bearer realm="autoscalebot"' },
    );
  }

  const query = new URL(request.url).searchParams;
  const dryRun = ["1", "true", "yes"].includes(query.get("dryRun") ?? "");
  try {
    const report = await tick(env, bundledConfig, { processes: query.getAll("process"), dryRun });
    const status = report.skipped ? 409 : report.error ? 503 : 200;
    return json(status, report);
  } catch (error) {
    if (error instanceof ConfigError)
      return json(500, { error: "invalid configuration", problems: error.problems });
    if (error instanceof StoreConfigError) return json(503, { error: error.message });
    if (error instanceof UnknownProcessError) return json(400, { error: error.message });
    console.error(error);
    return json(500, { error: "internal error" });
  }
}
