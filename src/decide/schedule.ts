import { CronExpressionParser } from "cron-parser";
import type { DateTime } from "luxon";
import { z } from "zod";
import { integer } from "../kit/fields.js";

/**
 * The tutorial's cron scaling ("7am → 3, 10pm → 2, 3am → 1") as data: each entry takes effect
 * when its cron expression fires (in the configured zone) and holds until the next entry fires.
 * A `floor` entry raises the minimum (autoscaling still works above it); an `exact` entry pins
 * the count, overriding min and max.
 */
const cron = z.string().superRefine((expression, ctx) => {
  try {
    CronExpressionParser.parse(expression);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: `invalid cron expression: ${(error as Error).message}` });
  }
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

/**
 * The entry in force at `now`: the one whose cron fired most recently (a firing at `now` counts).
 * Crons are read on wall-clock time, like the min/max rules: `now` is moved to UTC keeping its
 * local time, so an entry at 2:30 on the day that skips 2:00-3:00 takes effect at 3:00.
 */
export function scheduleAt(schedule: Schedule, now: DateTime): ScheduleEntry & { since: number } {
  const wallClock = now.setZone("UTC", { keepLocalTime: true }).toMillis();
  let latest: (ScheduleEntry & { since: number }) | undefined;
  for (const entry of schedule) {
    const since = CronExpressionParser.parse(entry.cron, { currentDate: new Date(wallClock + 1), tz: "UTC" })
      .prev()
      .getTime();
    if (!latest || since > latest.since) latest = { ...entry, since };
  }
  return latest!; // the schema requires an entry
}
