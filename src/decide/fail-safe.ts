import { z } from "zod";
import { integer } from "../kit/fields.js";
import type { Reading } from "../measure/index.js";

/**
 * The tutorial's fail-safe: when the app is down (a non-2xx heartbeat or a timeout) or slower
 * than `maxMs`, scale straight to `processes` (default: the maximum in force), ignoring streaks
 * and cool-downs. Present in the config means on; `"failSafe": {}` takes the defaults.
 */
export const failSafeSchema = z.strictObject({
  maxMs: integer(1)
    .default(5000)
    .describe(
      "A heartbeat slower than this many milliseconds fires the fail-safe, as does one that is down.",
    ),
  processes: integer(1)
    .optional()
    .describe("Where to scale when it fires, held within the bounds (default: the maximum in force)."),
});
export type FailSafe = z.infer<typeof failSafeSchema>;

/** Why the fail-safe fires for this reading, or null. Only heartbeat-style readings can fire it. */
export function failSafeReason(failSafe: FailSafe, reading: Reading): string | null {
  if (reading.unit !== "ms") return null;
  if (!reading.ok)
    return (reading.failureMeans ?? "overload") === "overload" ? `the app is down (${reading.error})` : null;
  if (reading.value !== null && reading.value > failSafe.maxMs)
    return `${reading.value} ms is slower than ${failSafe.maxMs} ms`;
  return null;
}
