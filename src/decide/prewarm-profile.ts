import type { DateTime } from "luxon";
import { z } from "zod";
import { integer } from "../kit/fields.js";

/** Pre-warming's settings and the profile it learns (the rule that uses them: ./prewarm.ts). */
export const prewarmSchema = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe("false turns pre-warming off (and drops the learned profile) while keeping its settings."),
  mode: z
    .enum(["raise", "forecast"])
    .default("raise")
    .describe(
      "raise: the floor is raised ahead of a usual rise; forecast: learned and reported in the decision's reason, nothing is raised.",
    ),
  period: z
    .enum(["week", "day"])
    .default("week")
    .describe(
      "The profile's cycle: week (168 hours, weekdays apart; learns in a week) or day (24 hours, every day alike; learns in a day).",
    ),
  leadMinutes: integer(1, 20)
    .default(5)
    .describe(
      "Minutes before the hour that the floor rises (at least the platform's boot time and a tick: Heroku boots within 60 s), and after it that the floor holds; the profile learns from the minutes between.",
    ),
  weight: z
    .number({ error: "expected a number from 0.05 to 1" })
    .min(0.05, { error: "expected a number from 0.05 to 1" })
    .max(1, { error: "expected a number from 0.05 to 1" })
    .default(0.5)
    .describe(
      "Weight of the latest cycle in the profile (exponentially weighted: 1 keeps only the last one, 0.5 halves an old one's say each cycle).",
    ),
});
export type Prewarm = z.infer<typeof prewarmSchema>;

const SLOTS = { week: 168, day: 24 } as const;
const entry = String.raw`\d{0,5}`;
const profileOf = (slots: number) => new RegExp(`^${entry}(?:,${entry}){${slots - 1}}$`);
const PROFILE = { 168: profileOf(168), 24: profileOf(24) };

/**
 * What pre-warming keeps in the process's stored record: the profile as one string of 168 (or
 * 24) comma-separated whole counts, an hour never seen empty (2 bytes an hour below 10
 * processes, 3 below 100: 340 to 510 bytes a process for a week, 50 to 75 for a day), and the
 * hour being watched with the count its latest tick outside pre-warming's windows ended at. A profile that does not parse is dropped alone (`.catch`), not the process's record.
 */
export const prewarmStateSchema = z
  .object({
    profile: z.string().refine((p) => PROFILE[168].test(p) || PROFILE[24].test(p), {
      error: "expected 168 or 24 comma-separated counts",
    }),
    slot: integer(0, 167),
    count: z.number().min(0).optional(),
  })
  .optional()
  .catch(undefined);
export type PrewarmState = NonNullable<z.infer<typeof prewarmStateSchema>>;

/** The hour of the cycle `now` is in, by wall-clock time in `now`'s zone (the configured one): Monday 0:00 is 0. */
export const slotOf = (now: DateTime, period: Prewarm["period"]): number =>
  period === "week" ? (now.weekday - 1) * 24 + now.hour : now.hour;

/** The profile's counts by hour (NaN: an hour never seen). */
export const profileCounts = (profile: string): number[] =>
  profile.split(",").map((value) => (value === "" ? NaN : Number(value)));

const emptyProfile = (period: Prewarm["period"]) => ",".repeat(SLOTS[period] - 1);

/**
 * Whether `now` is in one of pre-warming's windows: the last `leadMinutes` of an hour (the floor
 * for the next one) or its first (the floor held through the rise).
 */
export const inWindow = (config: Prewarm, now: DateTime): boolean =>
  now.minute >= 60 - config.leadMinutes || now.minute < config.leadMinutes;

/**
 * The state after a tick in `slot` that ended at `count`, or at a count pre-warming set (null:
 * a tick in its windows, not watched). When the hour changes, the count the hour ended at before
 * its window (the policy's own) is folded into its slot: `weight` of it, the rest the slot's
 * past. Only for the hour just before (or two before, when the clock skips one at the start of
 * summer time): after a gap the last count seen is not the hour's end. The same object when
 * nothing changes.
 */
export function observe(
  state: PrewarmState | undefined,
  config: Prewarm,
  slot: number,
  count: number | null,
): PrewarmState {
  const slots = SLOTS[config.period];
  const watched = count === null ? {} : { count };
  if (!state) return { profile: emptyProfile(config.period), slot, ...watched };
  if (state.slot === slot) return count === null || state.count === count ? state : { ...state, count };
  const counts = profileCounts(state.profile);
  // A profile of the other period (the setting changed) starts afresh.
  if (counts.length !== slots) return { profile: emptyProfile(config.period), slot, ...watched };
  const step = (slot - state.slot + slots) % slots;
  if (step > 2 || state.count === undefined) return { profile: state.profile, slot, ...watched };
  const past = counts[state.slot]!;
  // Whole counts, rounded towards the latest: a steady count is reached, not approached for ever.
  const next = Number.isNaN(past) ? state.count : past + config.weight * (state.count - past);
  counts[state.slot] = state.count >= past ? Math.ceil(next - 1e-9) : Math.floor(next + 1e-9);
  const profile = counts.map((c) => (Number.isNaN(c) ? "" : String(c))).join(",");
  return { profile, slot, ...watched };
}
