import { CronExpressionParser, type CronExpression } from "cron-parser";
import type { Moment } from "./moment.js";
import { z } from "zod";
import { integer } from "../kit/fields.js";

/**
 * The tutorial's cron scaling ("7am → 3, 10pm → 2, 3am → 1") as data: each entry takes effect
 * when its cron expression fires (in the configured zone) and holds until the next entry fires.
 * A `floor` entry raises the minimum (autoscaling still works above it); an `exact` entry pins
 * the count, overriding min and max.
 */
/** cron-parser's macros, refused: Netlify's crons and ours have five fields; the message names the equivalent. */
const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};
const FIVE_FIELDS = "five fields (minute hour day-of-month month day-of-week)";

/**
 * Exactly five fields, each as cron-parser reads it. cron-parser would also take a leading
 * seconds field (six) or a macro, which would fire at other times than the same text in a
 * Netlify schedule: both are refused.
 */
function cronProblem(expression: string): string | undefined {
  const trimmed = expression.trim();
  const macro = MACROS[trimmed.toLowerCase()];
  if (macro) return `expected ${FIVE_FIELDS}, not a macro: write ${JSON.stringify(macro)} for ${trimmed}`;
  if (trimmed.startsWith("@")) return `expected ${FIVE_FIELDS}, not a macro`;
  const fields = trimmed === "" ? [] : trimmed.split(/\s+/);
  if (fields.length !== 5) return `expected ${FIVE_FIELDS}, got ${fields.length}`;
  try {
    CronExpressionParser.parse(trimmed);
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

const cron = z.string().superRefine((expression, ctx) => {
  const problem = cronProblem(expression);
  if (problem) ctx.addIssue({ code: "custom", message: `invalid cron expression: ${problem}` });
});

export const scheduleSchema = z
  .array(
    z.strictObject({
      cron: cron.describe("When the entry takes effect: a cron expression, read in timezone."),
      processes: integer(0).describe("The process count the entry sets."),
      mode: z
        .enum(["floor", "exact"])
        .default("floor")
        .describe(
          "floor raises the minimum (autoscaling goes on above it, never above the maximum); exact pins the count.",
        ),
    }),
  )
  .min(1, { error: "expected at least one schedule entry" });
export type Schedule = z.infer<typeof scheduleSchema>;
export type ScheduleEntry = Schedule[number];

/** Parsed expressions by their text: parsing was most of a lookup's cost, and `reset` moves one to any date. */
const parsed = new Map<string, CronExpression>();
/** More texts than any config holds; past it the cache starts afresh (a long `run` that reloads configs). */
const MAX_PARSED = 256;

/**
 * When `cron` last fired at or before a wall-clock time (`prev`), or first fires after it
 * (`next`); times are wall-clock ms read as UTC.
 */
export function cronFiring(cron: string, wallMs: number, direction: "prev" | "next"): number {
  let expression = parsed.get(cron);
  if (!expression) {
    if (parsed.size >= MAX_PARSED) parsed.clear();
    expression = CronExpressionParser.parse(cron, { tz: "UTC" });
    parsed.set(cron, expression);
  }
  // A firing at the time itself is the latest one (prev looks strictly before its date), never the next.
  expression.reset(new Date(direction === "prev" ? wallMs + 1 : wallMs));
  return (direction === "prev" ? expression.prev() : expression.next()).getTime();
}

/**
 * The entry in force at `now`: the one whose cron fired most recently (a firing at `now` counts).
 * Crons are read on wall-clock time, like the min/max rules: `now` is moved to UTC keeping its
 * local time, so an entry at 2:30 on the day that skips 2:00-3:00 takes effect at 3:00.
 */
export function scheduleAt(schedule: Schedule, now: Moment): ScheduleEntry & { since: number } {
  // The same local fields read as UTC (luxon's setZone("UTC", { keepLocalTime: true })).
  const wallClock = now.toMillis() + now.offset * 60_000;
  let latest: (ScheduleEntry & { since: number }) | undefined;
  for (const entry of schedule) {
    const since = cronFiring(entry.cron, wallClock, "prev");
    if (!latest || since > latest.since) latest = { ...entry, since };
  }
  return latest!; // the schema requires an entry
}
