import { z } from "zod";
import type { EventKind } from "./events.js";

/**
 * Lasting conditions notify when they start, at most every `repeatAfterMinutes` while they last,
 * and once more when they end, so an hour at the maximum is three messages, not sixty. What was
 * sent lives in the process's state, in the tick's one read and one write.
 */
export const lastingKinds = [
  "above-max",
  "below-min",
  "too-rapid",
  "fail-safe",
  "measurement-failed",
  "scale-failed",
  "dyno-limit",
  "scale-down-held-busy",
] as const;
export type LastingKind = (typeof lastingKinds)[number];

export const isLasting = (kind: EventKind): kind is LastingKind =>
  (lastingKinds as readonly string[]).includes(kind);

export const noticeSchema = z.object({
  since: z.number(),
  lastSentAt: z.number(),
  clearSince: z.number().optional(),
});
export type Notice = z.infer<typeof noticeSchema>;
export type Notices = Partial<Record<LastingKind, Notice>>;

/** Tracked events carry their phase; they are the engine's signals or the finished events. */
export interface Tracked {
  kind: EventKind;
  phase?: "started" | "repeated" | "resolved";
}

export interface ConditionInput<Event extends Tracked> {
  /** The lasting conditions found this tick, one event each. */
  active: readonly Event[];
  /** The kinds this tick could see: only those can end (a tick that never read the formation says nothing of above-max). */
  evaluated: readonly LastingKind[];
  notices: Notices;
  now: number;
  repeatAfterMs: number;
  /**
   * How long a condition must stay away before it is resolved: an overloaded app at its maximum
   * shows above-max on most ticks, not all, and must not flap between started and resolved.
   */
  resolveAfterMs: (kind: LastingKind) => number;
  /** Makes the event that says a condition ended. */
  resolved: (kind: LastingKind, since: number) => Event;
}

export function trackConditions<Event extends Tracked>(
  input: ConditionInput<Event>,
): { events: Event[]; notices: Notices } {
  // Copied on the first change only: the simulator tracks every minute of a long replay, and on
  // most of them nothing changes (the same notices object comes back).
  let notices = input.notices;
  const set = (kind: LastingKind, notice: Notice | undefined) => {
    if (notices === input.notices) notices = { ...notices };
    if (notice) notices[kind] = notice;
    else delete notices[kind];
  };
  const events: Event[] = [];
  const activeKinds: LastingKind[] = [];
  for (const event of input.active) {
    if (!isLasting(event.kind)) continue;
    activeKinds.push(event.kind);
    const notice = notices[event.kind];
    if (!notice) {
      set(event.kind, { since: input.now, lastSentAt: input.now });
      events.push({ ...event, phase: "started" });
    } else if (input.now - notice.lastSentAt >= input.repeatAfterMs) {
      set(event.kind, { since: notice.since, lastSentAt: input.now });
      events.push({ ...event, phase: "repeated" });
    } else if (notice.clearSince !== undefined) {
      set(event.kind, { since: notice.since, lastSentAt: notice.lastSentAt });
    }
  }
  for (const kind of lastingKinds) {
    const notice = notices[kind];
    if (!notice || !input.evaluated.includes(kind) || activeKinds.includes(kind)) continue;
    const clearSince = notice.clearSince ?? input.now;
    if (input.now - clearSince >= input.resolveAfterMs(kind)) {
      set(kind, undefined);
      events.push({ ...input.resolved(kind, notice.since), phase: "resolved" });
    } else if (notice.clearSince === undefined) {
      set(kind, { ...notice, clearSince });
    }
  }
  return { events, notices };
}
