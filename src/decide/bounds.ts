import { z } from "zod";
import { integer } from "../config/fields.js";

/**
 * A process-count bound: a fixed integer, or the seeds' time-of-day map `{"0:00": 1, "8:00": 3}`
 * where each entry holds from its local time until the next one (the last wraps past midnight).
 */
const timeOfDay = z.string().regex(/^([01]?\d|2[0-3]):[0-5]\d$/, { error: "expected a time of day H:MM" });

const timeOfDayMap = z.record(timeOfDay, integer(0)).superRefine((map, ctx) => {
  const keys = Object.keys(map);
  if (keys.length === 0) ctx.addIssue({ code: "custom", message: "expected at least one time-of-day entry" });
  const seen = new Map<number, string>();
  for (const key of keys) {
    const earlier = seen.get(minuteOfDay(key));
    if (earlier !== undefined)
      ctx.addIssue({ code: "custom", path: [key], message: `the same time as ${JSON.stringify(earlier)}` });
    seen.set(minuteOfDay(key), key);
  }
});

export const boundSchema = z.union([integer(0), timeOfDayMap], {
  error: 'expected an integer >= 0 or a time-of-day map such as {"0:00": 1, "8:00": 3}',
});
export type Bound = z.infer<typeof boundSchema>;

function minuteOfDay(key: string): number {
  const [hours, minutes] = key.split(":").map(Number) as [number, number];
  return hours * 60 + minutes;
}

/** The bound in force at `local` (wall-clock time in the configured zone, e.g. a luxon DateTime). */
export function resolveBound(bound: Bound, local: { hour: number; minute: number }): number {
  if (typeof bound === "number") return bound;
  const entries = Object.entries(bound)
    .map(([key, value]) => [minuteOfDay(key), value] as const)
    .sort((a, b) => a[0] - b[0]);
  const now = local.hour * 60 + local.minute;
  let current = entries[entries.length - 1];
  for (const entry of entries) if (entry[0] <= now) current = entry;
  if (!current) throw new Error("empty time-of-day map"); // the schema forbids it
  return current[1];
}

/** Minutes of the day at which some bound changes: where min <= max must be checked. */
export function changePoints(...bounds: Bound[]): number[] {
  const points = new Set<number>([0]);
  for (const bound of bounds)
    if (typeof bound !== "number") for (const key of Object.keys(bound)) points.add(minuteOfDay(key));
  return [...points].sort((a, b) => a - b);
}
