import type { Config } from "../config/schema.js";
import type { Env } from "../kit/env.js";
import { describeFetchError, withTimeout } from "../kit/http.js";
import { scrub } from "../kit/redact.js";
import type { TickReport } from "./report.js";

/**
 * The dead-man's switch: after every tick, a request to the monitor's URL (with `/fail`
 * appended when the tick failed: the healthchecks.io convention), so a monitor notices when the
 * pings stop. It runs after the state is written and is bounded by its own short timeout; a
 * failure is the tick's warning.
 */
export async function pingMonitor(
  config: Config,
  env: Env,
  report: TickReport,
  failed: boolean,
): Promise<void> {
  const { monitor } = config;
  if (!monitor) return;
  const base = monitor.pingUrl ?? (monitor.pingUrlEnv ? env[monitor.pingUrlEnv] : undefined);
  if (!base) {
    report.warnings.push(`monitor ping skipped: ${monitor.pingUrlEnv ?? "pingUrl"} is not set`);
    return;
  }
  const url = failed ? `${base.replace(/\/+$/, "")}/fail` : base;
  try {
    const response = await fetch(url, { method: "GET", signal: withTimeout(undefined, monitor.timeoutMs) });
    await response.body?.cancel();
    if (!response.ok) report.warnings.push(`monitor ping answered HTTP ${response.status}`);
  } catch (error) {
    // The URL itself is often the secret (a check's UUID): it never appears in a warning.
    report.warnings.push(`monitor ping failed: ${scrub(describeFetchError(error), [base, url])}`);
  }
}
