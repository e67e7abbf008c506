import type { Env } from "../kit/env.js";
import { withTimeout } from "../kit/http.js";
import type { AutoscaleEvent } from "./events.js";
import { notifierFor, notifierLabel, type NotificationConfig, type Notifiers } from "./registry.js";

/**
 * Sends events to each of the process's backends at once, each bounded by the notification
 * timeout and the tick's deadline. A failing backend becomes a warning in the report: it never
 * fails the tick or keeps the other backends from sending.
 */
export async function dispatch(
  events: readonly AutoscaleEvent[],
  notification: NotificationConfig,
  notifiers: Notifiers,
  env: Env,
  tickSignal: AbortSignal,
): Promise<string[]> {
  if (events.length === 0) return [];
  const signal = withTimeout(tickSignal, notification.timeoutMs);
  // Raced as well as signalled: a backend that ignores the signal must not hold the tick.
  const gaveUp = new Promise<never>((_, reject) => {
    const fail = () => reject(new Error(`no answer within ${notification.timeoutMs} ms`));
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
  gaveUp.catch(() => {}); // only the races below observe it
  const results = await Promise.allSettled(
    notification.backends.map((spec) =>
      Promise.race([
        Promise.resolve().then(() => notifierFor(spec, notifiers, env).send(events, signal)),
        gaveUp,
      ]),
    ),
  );
  return results.flatMap((result, i) =>
    result.status === "rejected"
      ? [
          `notification via ${notifierLabel(notification.backends[i]!)} failed: ${result.reason instanceof Error ? result.reason.message : String(result.reason)}`,
        ]
      : [],
  );
}
