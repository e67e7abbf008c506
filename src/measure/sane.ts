import type { Measurement, Reading, Unit } from "./types.js";

/**
 * The largest reading each unit can sanely hold: a day in milliseconds (a probe times out long
 * before), and for counts a number no queue or app means. Past it, or not a finite number at
 * all (a `Server-Timing` `dur` of 400 digits reads as Infinity), a reading is a failed one.
 */
const MAX: Record<Unit, number> = { ms: 86_400_000, jobs: 1e12, count: 1e6 };

/**
 * Checks a reading at the edge, before any decision sees it: a value that is not finite, is
 * negative or is past its unit's range, or a `desired` count that is not a whole number within
 * it, becomes a failed reading that says why. Garbage from the app says nothing about load,
 * so such a failure holds (`unknown`) rather than counting as overload.
 */
export function saneReading(reading: Reading): Reading {
  const problem = insane(reading);
  if (!problem) return reading;
  return {
    backend: reading.backend,
    value: null,
    unit: reading.unit,
    ok: false,
    error: problem,
    failureMeans: "unknown",
  };
}

function insane(reading: Reading): string | null {
  const { value, desired, unit, busy } = reading;
  if (value !== null && !(Number.isFinite(value) && value >= 0 && value <= MAX[unit]))
    return `reading out of range: ${describe(value)} ${unit} (expected 0 to ${MAX[unit]})`;
  if (desired !== undefined && !(Number.isInteger(desired) && desired >= 0 && desired <= MAX.count))
    return `desired count out of range: ${describe(desired)} (expected a whole number from 0 to ${MAX.count})`;
  if (busy !== undefined && !(Number.isInteger(busy) && busy >= 0 && busy <= MAX.jobs))
    return `jobs in progress out of range: ${describe(busy)} (expected a whole number from 0 to ${MAX.jobs})`;
  return null;
}

const describe = (n: number) => (Number.isFinite(n) ? String(n) : String(n).toLowerCase());

/** The measurement with every reading checked. */
export const checked = (measurement: Measurement): Measurement => ({
  measure: async (signal) => saneReading(await measurement.measure(signal)),
});
