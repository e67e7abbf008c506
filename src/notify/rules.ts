import { integer } from "../kit/fields.js";
import type { ScaleRecord } from "../decide/index.js";
import { plural } from "../kit/plural.js";

/**
 * The seeds' "something interesting is happening" rules, on the process's recent scale records.
 * v0.4: more than `tooRapidNumScales` scales in one direction within `tooRapidPeriodMinutes`.
 * v0.2 (seed 000): a net change of more than `scaleDiffThreshold` processes within
 * `scaleDiffPeriodMinutes`, e.g. more than 10 within 30 minutes.
 */
export const tooRapidFields = {
  /** The seed's 5 scales in 1 minute cannot happen with a tick a minute: more than 3 in 15 minutes can. */
  tooRapidNumScales: integer(1)
    .default(3)
    .describe(
      "too-rapid when more than this many scales in one direction happen within tooRapidPeriodMinutes.",
    ),
  tooRapidPeriodMinutes: integer(1, 1440)
    .default(15)
    .describe("The window of tooRapidNumScales, in minutes."),
  scaleDiffThreshold: integer(1)
    .optional()
    .describe(
      "too-rapid also when the net change within scaleDiffPeriodMinutes is more than this many processes (off unless both are set).",
    ),
  scaleDiffPeriodMinutes: integer(1, 1440)
    .optional()
    .describe("The window of scaleDiffThreshold, in minutes."),
  measurementFailuresToNotify: integer(1)
    .default(3)
    .describe("Failed measurements in a row before measurement-failed is sent."),
};

export interface TooRapidSettings {
  tooRapidNumScales: number;
  tooRapidPeriodMinutes: number;
  scaleDiffThreshold?: number | undefined;
  scaleDiffPeriodMinutes?: number | undefined;
}

const MINUTE = 60_000;

/** Why scaling is too rapid at `now`, or null. */
export function tooRapidReason(
  settings: TooRapidSettings,
  scales: readonly ScaleRecord[],
  now: number,
): string | null {
  // Scale records are kept oldest first, the newest few within the rules' windows
  // (src/engine/process-step.ts): the windows are read from the end.
  const recent = since(scales, now - settings.tooRapidPeriodMinutes * MINUTE);
  let up = 0;
  let down = 0;
  for (let i = recent; i < scales.length; i++) {
    const s = scales[i]!;
    if (s.to > s.from) up++;
    else if (s.to < s.from) down++;
  }
  if (up > settings.tooRapidNumScales) return tooMany(settings, up, "up");
  if (down > settings.tooRapidNumScales) return tooMany(settings, down, "down");
  const { scaleDiffThreshold: threshold, scaleDiffPeriodMinutes: period } = settings;
  if (threshold !== undefined && period !== undefined) {
    const first = since(scales, now - period * MINUTE);
    if (first < scales.length) {
      const net = scales[scales.length - 1]!.to - scales[first]!.from;
      if (Math.abs(net) > threshold) {
        return `a net change of ${net > 0 ? "+" : ""}${plural(net, "process", "processes")} within ${period} min (more than ${threshold})`;
      }
    }
  }
  return null;
}

/** The index of the first record after `cutoff` (records oldest first). */
function since(scales: readonly ScaleRecord[], cutoff: number): number {
  let i = scales.length;
  while (i > 0 && scales[i - 1]!.at > cutoff) i--;
  return i;
}

const tooMany = (settings: TooRapidSettings, count: number, direction: "up" | "down") =>
  `${plural(count, "scale")} ${direction} within ${settings.tooRapidPeriodMinutes} min (more than ${settings.tooRapidNumScales})`;
