import { PROCESS_METRIC_UNITS } from "./process-metrics.js";
import type { Measurement, Reading, Unit } from "./types.js";

/**
 * The largest reading each unit can sanely hold: a day in milliseconds (a probe times out long
 * before), a percentage's 100, for a process's requests 10 million a minute (170,000 a second),
 * and for counts a number no queue or app means. Past it, or not a finite number at
 * all (a `Server-Timing` `dur` of 400 digits reads as Infinity), a reading is a failed one.
 */
export const UNIT_MAX: Record<Unit, number> = {
  ms: 86_400_000,
  jobs: 1e12,
  count: 1e6,
  percent: 100,
  rpm: 1e7,
};

/**
 * Checks a reading at the edge, before any decision sees it: a value that is not finite, is
 * negative or is past its unit's range, a figure of `metrics` that is so in its own unit, or a
 * `desired` count that is not a whole number within it, becomes a failed reading that says why. Garbage from the app says nothing about load,
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
  if (value !== null && !(Number.isFinite(value) && value >= 0 && value <= UNIT_MAX[unit]))
    return `reading out of range: ${describe(value)} ${unit} (expected 0 to ${UNIT_MAX[unit]})`;
  if (desired !== undefined && !(Number.isInteger(desired) && desired >= 0 && desired <= UNIT_MAX.count))
    return `desired count out of range: ${describe(desired)} (expected a whole number from 0 to ${UNIT_MAX.count})`;
  if (busy !== undefined && !(Number.isInteger(busy) && busy >= 0 && busy <= UNIT_MAX.jobs))
    return `jobs in progress out of range: ${describe(busy)} (expected a whole number from 0 to ${UNIT_MAX.jobs})`;
  const seen = reading.processesSeen;
  if (seen !== undefined && !(Number.isInteger(seen) && seen >= 0 && seen <= UNIT_MAX.count))
    return `processes seen out of range: ${describe(seen)} (expected a whole number from 0 to ${UNIT_MAX.count})`;
  for (const [name, figure] of Object.entries(reading.metrics ?? {})) {
    const problem = insaneFigure(name, figure);
    if (problem) return problem;
  }
  return null;
}

/** A figure of `metrics` in its own unit's range; one of a name the contract does not know, finite and >= 0. */
function insaneFigure(name: string, figure: number | null): string | null {
  if (figure === null) return null;
  const unit: Unit | undefined = Object.hasOwn(PROCESS_METRIC_UNITS, name)
    ? PROCESS_METRIC_UNITS[name as keyof typeof PROCESS_METRIC_UNITS]
    : undefined;
  const max = unit ? UNIT_MAX[unit] : Infinity;
  if (Number.isFinite(figure) && figure >= 0 && figure <= max) return null;
  return `${name} out of range: ${describe(figure)}${unit ? ` ${unit} (expected 0 to ${max})` : " (expected a number >= 0)"}`;
}

const describe = (n: number) => (Number.isFinite(n) ? String(n) : String(n).toLowerCase());

/** The measurement with every reading checked. */
export const checked = (measurement: Measurement): Measurement => ({
  measure: async (signal) => saneReading(await measurement.measure(signal)),
});
