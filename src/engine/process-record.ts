import { z } from "zod";
import { decisionStateSchema, emptyDecisionState } from "../decide/index.js";
import { noticeSchema } from "../notify/index.js";

/** A scale asked of the platform, at `at`, from one count to another. */
export const pendingScaleSchema = z.object({ at: z.number(), from: z.number(), to: z.number() });
export type PendingScale = z.infer<typeof pendingScaleSchema>;

/**
 * What the engine stores for one process between ticks: the decision's state plus the
 * engine's own bookkeeping. One record per process, all in the tick's one state document.
 */
export const processRecordSchema = decisionStateSchema.extend({
  /** When the process was last measured, for processes measured less often than every tick. */
  lastMeasuredAt: z.number().optional(),
  /**
   * A scale whose request got no clear answer (a timeout, a dropped connection, a 5xx): the
   * platform may have applied it. The next tick checks the formation and, if it did, records it.
   */
  pendingScale: pendingScaleSchema
    .extend({
      /**
       * Recorded before the PATCH by the tick that makes it (its intent, src/engine/state-document.ts),
       * which notifies the scale itself: a next tick that finds only this record (that tick's
       * later save was lost) records the scale without notifying it again.
       */
      intent: z.literal(true).optional(),
    })
    .optional(),
  /**
   * Which platform call failed last, while it keeps failing: reading the formation or scaling it.
   * Only a success of that same call resolves the scale-failed notification.
   */
  platformFailure: z.enum(["read", "scale"]).optional(),
  /**
   * After the platform answered 429: until when its account makes no request. Every process of
   * the account keeps it (the tick backs the whole account off), in the one state document.
   */
  rateLimitedUntil: z.number().optional(),
  /**
   * The most processes the platform runs of this type, as its refusal named it (Heroku's 422 over
   * a dyno limit), and since when: decisions stay within it, and after PLATFORM_LIMIT_RETRY_MS
   * it is tried again, in case the limit was raised.
   */
  platformLimit: z.object({ limit: z.number(), since: z.number() }).optional(),
  /** Failed measurements in a row (for the measurement-failed notification). */
  failedReadings: z.number().optional(),
  /**
   * Lasting notification conditions sent and not yet resolved, by event kind (src/notify/conditions.ts):
   * kept in the same document so de-duplication costs no extra Redis command.
   */
  notices: z.record(z.string(), noticeSchema).optional(),
  /**
   * The count the last tick read or set: a count that differs from it, with no scale of our own
   * in flight (`pendingScale`), was set by hand. Absent before the first tick.
   */
  lastSeenCount: z.number().optional(),
  /**
   * Paused by `autoscalebot pause` or POST /api/pause: measured, not scaled. With `processes`,
   * scaled there once (`applied` once it is there), then held; with `until`, it ends by itself.
   * `announced` once a tick has sent the pause event.
   */
  paused: z
    .object({
      since: z.number(),
      until: z.number().optional(),
      processes: z.number().optional(),
      by: z.string().optional(),
      applied: z.literal(true).optional(),
      announced: z.literal(true).optional(),
    })
    .optional(),
  /** A resume (of an announced pause) the next tick announces. */
  resumed: z.object({ since: z.number(), by: z.string() }).optional(),
  /** A manual override: a count set by hand, held until `until` (manualOverrideMinutes). */
  override: z.object({ since: z.number(), until: z.number(), count: z.number() }).optional(),
});
export type ProcessRecord = z.infer<typeof processRecordSchema>;

export const emptyProcessRecord = (): ProcessRecord => emptyDecisionState();

/** A pause of a week is a long maintenance; beyond a month it is a setting, not a pause. */
export const MAX_PAUSE_MINUTES = 43_200;
/** The longest a platform's rate limit backs an account off (Heroku's pool refills in an hour). */
const MAX_BACKOFF_MS = 60 * 60_000;
/** The longest manual override (manualOverrideMinutes' maximum). */
const MAX_OVERRIDE_MS = 1440 * 60_000;

/**
 * The record with no time after `now` (a clock that was ahead, a bad write): times of past
 * events are clamped to `now`, the end of a pause or override to the longest either can run from
 * `now`. `clamped` names the fields changed; a record with none is the same object.
 */
export function clampTimes(record: ProcessRecord, now: number): { record: ProcessRecord; clamped: string[] } {
  const clamped = new Set<string>();
  const copy = structuredClone(record);
  const at = (time: number, field: string, limit = now): number => {
    if (time <= limit) return time;
    clamped.add(field);
    return limit;
  };
  for (const entry of copy.history) entry.at = at(entry.at, "history");
  if (copy.lastScaleAt !== null) copy.lastScaleAt = at(copy.lastScaleAt, "lastScaleAt");
  for (const scale of copy.scales) scale.at = at(scale.at, "scales");
  for (const pair of copy.recommendations ?? []) pair[0] = at(pair[0], "recommendations");
  if (copy.lastMeasuredAt !== undefined) copy.lastMeasuredAt = at(copy.lastMeasuredAt, "lastMeasuredAt");
  if (copy.pendingScale) copy.pendingScale.at = at(copy.pendingScale.at, "pendingScale");
  if (copy.platformLimit) copy.platformLimit.since = at(copy.platformLimit.since, "platformLimit");
  if (copy.rateLimitedUntil !== undefined)
    copy.rateLimitedUntil = at(copy.rateLimitedUntil, "rateLimitedUntil", now + MAX_BACKOFF_MS);
  for (const notice of Object.values(copy.notices ?? {})) {
    notice.since = at(notice.since, "notices");
    notice.lastSentAt = at(notice.lastSentAt, "notices");
    if (notice.clearSince !== undefined) notice.clearSince = at(notice.clearSince, "notices");
  }
  if (copy.paused) {
    copy.paused.since = at(copy.paused.since, "paused");
    if (copy.paused.until !== undefined)
      copy.paused.until = at(copy.paused.until, "paused", now + MAX_PAUSE_MINUTES * 60_000);
  }
  if (copy.resumed) copy.resumed.since = at(copy.resumed.since, "resumed");
  if (copy.override) {
    copy.override.since = at(copy.override.since, "override");
    copy.override.until = at(copy.override.until, "override", now + MAX_OVERRIDE_MS);
  }
  return clamped.size === 0 ? { record, clamped: [] } : { record: copy, clamped: [...clamped] };
}

/** A pause as reports, history and status show it (ISO 8601 times). */
export interface PauseView {
  since: string;
  until?: string;
  /** The count it was scaled to once and is held at. */
  processes?: number;
  /** Who paused it: `cli` or `api`. */
  by?: string;
}

/** A manual override: the count set by hand, held until `until`. */
export interface OverrideView {
  since: string;
  until: string;
  count: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The pause and the manual override in force at `now`. One that has run out is none, though
 * the record keeps it until the next tick sees it end.
 */
export function steeringOf(
  record: ProcessRecord | undefined,
  now: number,
): { paused: PauseView | null; override: OverrideView | null } {
  const { paused, override } = record ?? {};
  return {
    paused:
      paused && (paused.until === undefined || paused.until > now)
        ? {
            since: iso(paused.since),
            ...(paused.until === undefined ? {} : { until: iso(paused.until) }),
            ...(paused.processes === undefined ? {} : { processes: paused.processes }),
            ...(paused.by === undefined ? {} : { by: paused.by }),
          }
        : null,
    override:
      override && override.until > now
        ? { since: iso(override.since), until: iso(override.until), count: override.count }
        : null,
  };
}
