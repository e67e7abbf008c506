import type { Moment } from "./moment.js";
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
    .enum(["day", "week"])
    .default("day")
    .describe(
      "The profile's cycle: day (24 hours, every day alike: learns in a day, 24 to 48 bytes of state) or week (168 hours, weekends apart: learns in a week, 168 to 336 bytes).",
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
/** An hour never seen, in each of its digits. */
const UNSEEN = "_";
/** The largest count a profile holds: three base-36 digits (maxProcesses is at most 10,000 in practice). */
const LARGEST = 36 ** 3 - 1;
const CHUNK = /^(?:[0-9a-z]+|_+)$/;

/**
 * The counts by hour as the profile's string: each hour's count in base 36, all with as many
 * digits as the largest needs (1 below 36 processes, 2 below 1,296, 3 beyond), an hour never
 * seen as underscores. So the length tells both the period and the width: 168, 336 or 504
 * characters for a week, 24, 48 or 72 for a day.
 */
export function encodeProfile(counts: readonly number[]): string {
  const largest = counts.reduce((most, c) => (Number.isNaN(c) ? most : Math.max(most, c)), 0);
  const width = largest < 36 ? 1 : largest < 36 ** 2 ? 2 : 3;
  return counts
    .map((c) => (Number.isNaN(c) ? UNSEEN.repeat(width) : c.toString(36).padStart(width, "0")))
    .join("");
}

/** The profile's counts by hour (NaN: an hour never seen); null when the string is not a profile. */
export function decodeProfile(profile: string): number[] | null {
  const slots = profile.length >= SLOTS.week ? SLOTS.week : SLOTS.day;
  const width = profile.length / slots;
  if (![1, 2, 3].includes(width)) return null;
  const counts: number[] = [];
  for (let at = 0; at < profile.length; at += width) {
    const chunk = profile.slice(at, at + width);
    if (!CHUNK.test(chunk)) return null;
    counts.push(chunk[0] === UNSEEN ? NaN : parseInt(chunk, 36));
  }
  return counts;
}

/**
 * What pre-warming keeps in the process's stored record: the profile (encodeProfile: 168 bytes
 * for a week of counts below 36, 336 below 1,296; 24 or 48 for a day) and the hour being watched,
 * with the count its latest tick outside pre-warming's windows ended at. A profile that does not
 * parse is dropped alone (`.catch`), not the process's record.
 */
export const prewarmStateSchema = z
  .object({
    profile: z.string().refine((p) => decodeProfile(p) !== null, {
      error: "expected a profile of 24 or 168 hours",
    }),
    slot: integer(0, 167),
    count: z.number().min(0).optional(),
  })
  .optional()
  .catch(undefined);
export type PrewarmState = NonNullable<z.infer<typeof prewarmStateSchema>>;

/**
 * The hour of the cycle a wall-clock time is in (a moment in the configured zone, or its
 * weekday and hour): Monday 0:00 is 0.
 */
export const slotOf = (at: Pick<Moment, "weekday" | "hour">, period: Prewarm["period"]): number =>
  period === "week" ? (at.weekday - 1) * 24 + at.hour : at.hour;

/** One hour's count in the profile (NaN: never seen), without decoding the others (the floor reads one a tick). */
export function profileCount(profile: string, slot: number): number {
  const width = profile.length / (profile.length >= SLOTS.week ? SLOTS.week : SLOTS.day);
  const chunk = profile.slice(slot * width, (slot + 1) * width);
  return chunk === "" || chunk[0] === UNSEEN ? NaN : parseInt(chunk, 36);
}

/** The profile's counts by hour (NaN: an hour never seen; none for a string that is no profile). */
export const profileCounts = (profile: string): number[] => decodeProfile(profile) ?? [];

const emptyProfile = (period: Prewarm["period"]) => UNSEEN.repeat(SLOTS[period]);

/**
 * Whether `now` is in one of pre-warming's windows: the last `leadMinutes` of an hour (the floor
 * for the next one) or its first (the floor held through the rise).
 */
export const inWindow = (config: Prewarm, now: Moment): boolean =>
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
  if (!state) return prewarmState(emptyProfile(config.period), slot, count);
  if (state.slot === slot)
    return count === null || state.count === count ? state : prewarmState(state.profile, slot, count);
  const counts = profileCounts(state.profile);
  // A profile of the other period (the setting changed) starts afresh.
  if (counts.length !== slots) return prewarmState(emptyProfile(config.period), slot, count);
  const step = (slot - state.slot + slots) % slots;
  if (step > 2 || state.count === undefined) return prewarmState(state.profile, slot, count);
  const past = counts[state.slot]!;
  // Whole counts, rounded towards the latest: a steady count is reached, not approached for ever.
  const next = Number.isNaN(past) ? state.count : past + config.weight * (state.count - past);
  const rounded = state.count >= past ? Math.ceil(next - 1e-9) : Math.floor(next + 1e-9);
  counts[state.slot] = Math.min(rounded, LARGEST);
  return prewarmState(encodeProfile(counts), slot, count);
}

/**
 * A state, its count set only when there is one: built field by field, as the process records
 * are (src/engine/process-step.ts, `measured`), since spreading `...(count ? { count } : {})` or
 * a state into a new object gave many of them a hidden class of their own.
 */
function prewarmState(profile: string, slot: number, count: number | null): PrewarmState {
  const state: PrewarmState = { profile, slot };
  if (count !== null) state.count = count;
  return state;
}
