import { z } from "zod";
import { integer } from "../kit/fields.js";

/**
 * A process-count bound: a fixed integer; the seeds' time-of-day map `{"0:00": 1, "8:00": 3}`;
 * or a list of rules with weekdays `[{"days": ["sat","sun"], "from": "0:00", "value": 1}]`.
 * Each entry holds from its local time until the next one takes over (wrapping past midnight,
 * and for rules past the end of the week). Wall-clock time in the configured zone decides, so
 * "8:00" means 8:00 local on both sides of a DST change.
 */
const timeOfDay = z.string().regex(/^([01]?\d|2[0-3]):[0-5]\d$/, { error: "expected a time of day H:MM" });

export const weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
type Weekday = (typeof weekdays)[number];

function minuteOfDay(key: string): number {
  const [hours, minutes] = key.split(":").map(Number) as [number, number];
  return hours * 60 + minutes;
}

const timeOfDayMap = z.record(timeOfDay, integer(0)).superRefine((map, ctx) => {
  const keys = Object.keys(map);
  if (keys.length === 0) ctx.addIssue({ code: "custom", message: "expected at least one time-of-day entry" });
  const seen = new Map<number, string>();
  for (const key of keys) {
    const earlier = seen.get(minuteOfDay(key));
    if (earlier !== undefined) {
      ctx.addIssue({ code: "custom", path: [key], message: `the same time as ${JSON.stringify(earlier)}` });
    }
    seen.set(minuteOfDay(key), key);
  }
});

const ruleSchema = z.strictObject({
  days: z
    .array(z.enum(weekdays))
    .min(1, { error: "expected at least one day" })
    .optional()
    .describe("Days the rule starts on (every day when left out)."),
  from: timeOfDay.describe("Local time H:MM from which the rule holds, until the next rule starts."),
  value: integer(0).describe("The bound while the rule holds, in processes."),
});

const ruleList = z.array(ruleSchema).min(1, { error: "expected at least one rule" });

export const boundSchema = z
  .union(
    [
      integer(0),
      timeOfDayMap.meta({
        title: "time-of-day map",
        description: 'Local time H:MM → count, e.g. {"0:00": 1, "8:00": 3}.',
      }),
      ruleList.meta({
        title: "rule list",
        description: "Rules with weekdays; on a tie the later rule wins.",
      }),
    ],
    {
      error: 'expected an integer >= 0, a time-of-day map such as {"0:00": 1, "8:00": 3} or a list of rules',
    },
  )
  .meta({ title: "bound" });
export type Bound = z.infer<typeof boundSchema>;

/** A moment in wall-clock terms: luxon's DateTime has these fields (weekday 1 = Monday). */
export interface WallClock {
  weekday: number;
  hour: number;
  minute: number;
}

interface Rule {
  days: readonly Weekday[];
  from: number;
  value: number;
}

function rulesOf(bound: Bound): Rule[] {
  if (typeof bound === "number") return [{ days: weekdays, from: 0, value: bound }];
  if (Array.isArray(bound)) {
    return bound.map((rule) => ({
      days: rule.days ?? weekdays,
      from: minuteOfDay(rule.from),
      value: rule.value,
    }));
  }
  return Object.entries(bound).map(([key, value]) => ({ days: weekdays, from: minuteOfDay(key), value }));
}

/** A bound's rules, and whether they all hold every day (then the weekday does not matter). */
interface CompiledBound {
  rules: Rule[];
  everyDay: boolean;
}

/** By the config's own bound object: a bound is resolved every tick, and every simulated minute. */
const compiled = new WeakMap<object, CompiledBound>();

function compile(bound: Exclude<Bound, number>): CompiledBound {
  let found = compiled.get(bound);
  if (!found) {
    const rules = rulesOf(bound);
    found = { rules, everyDay: rules.every((rule) => rule.days.length === weekdays.length) };
    compiled.set(bound, found);
  }
  return found;
}

/** The rule that started latest by `latestStart` (minutes into the day) on `day` (any day: undefined); the later of a tie. */
function latestRule(rules: Rule[], latestStart: number, day?: Weekday): Rule | undefined {
  let found: Rule | undefined;
  for (const rule of rules) {
    if (
      (day === undefined || rule.days.includes(day)) &&
      rule.from <= latestStart &&
      (!found || rule.from >= found.from)
    )
      found = rule;
  }
  return found;
}

/** The bound in force at `local`: the rule that started most recently, looking back up to a week. */
export function resolveBound(bound: Bound, local: WallClock): number {
  // A plain count holds all week: no need for the wall clock (luxon's weekday is not free).
  if (typeof bound === "number") return bound;
  const { rules, everyDay } = compile(bound);
  const now = local.hour * 60 + local.minute;
  // Rules of every day: today's latest so far, else yesterday's last; no weekday needed.
  if (everyDay) return (latestRule(rules, now) ?? latestRule(rules, 24 * 60))!.value;
  for (let daysBack = 0; daysBack <= 7; daysBack++) {
    const day = weekdays[(((local.weekday - 1 - daysBack) % 7) + 7) % 7]!;
    const found = latestRule(rules, daysBack === 0 ? now : 24 * 60, day);
    if (found) return found.value;
  }
  throw new Error("a bound without rules"); // the schema forbids it
}

/** Every wall-clock moment of the week at which some bound changes: where min <= max must be checked. */
export function changePoints(...bounds: Bound[]): WallClock[] {
  const minutes = new Set<number>([0]);
  for (const bound of bounds) for (const rule of rulesOf(bound)) minutes.add(rule.from);
  return weekdays.flatMap((_, day) =>
    [...minutes].map((minute) => ({ weekday: day + 1, hour: Math.floor(minute / 60), minute: minute % 60 })),
  );
}

export function describeWallClock(at: WallClock): string {
  return `${weekdays[at.weekday - 1]} ${at.hour}:${String(at.minute).padStart(2, "0")}`;
}
