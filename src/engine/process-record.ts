import { z } from "zod";

/**
 * What a decision remembers about one process between ticks. It is part of the one state
 * document the tick reads and writes once, so it stays small: history is bounded by
 * `historyLength`, scale records by age.
 */
export const verdictSchema = z.enum(["fail", "pass", "ok"]);
export type Verdict = z.infer<typeof verdictSchema>;

/** One recorded reading: its value and what the backend made of it (a verdict or a recommended count). */
export const historyEntrySchema = z.object({
  at: z.number(),
  value: z.number().nullable(),
  verdict: verdictSchema.optional(),
  recommendation: z.number().optional(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

export const scaleRecordSchema = z.object({ at: z.number(), from: z.number(), to: z.number() });
export type ScaleRecord = z.infer<typeof scaleRecordSchema>;

export const processStateSchema = z.object({
  history: z.array(historyEntrySchema),
  lastScaleAt: z.number().nullable(),
  scales: z.array(scaleRecordSchema),
  /** When the process was last measured, for processes measured less often than every tick. */
  lastMeasuredAt: z.number().optional(),
  /**
   * A scale whose request got no clear answer (a timeout, a dropped connection, a 5xx): the
   * platform may have applied it. The next tick checks the formation and, if it did, records it.
   */
  pendingScale: scaleRecordSchema.optional(),
  /**
   * Which platform call failed last, while it keeps failing: reading the formation or scaling it.
   * Only a success of that same call resolves the scale-failed notification.
   */
  platformFailure: z.enum(["read", "scale"]).optional(),
  /** Failed measurements in a row (for the measurement-failed notification). */
  failedReadings: z.number().optional(),
  /**
   * Lasting notification conditions sent and not yet resolved, by event kind (src/notify/conditions.ts):
   * kept in the same document so de-duplication costs no extra Redis command.
   */
  notices: z
    .record(
      z.string(),
      z.object({ since: z.number(), lastSentAt: z.number(), clearSince: z.number().optional() }),
    )
    .optional(),
});
export type ProcessState = z.infer<typeof processStateSchema>;

export const emptyProcessState = (): ProcessState => ({ history: [], lastScaleAt: null, scales: [] });

/** Scale records older than this are dropped; notification rules look back at most this far. */
export const SCALE_RECORD_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * The state after a scale the platform accepted: the history starts afresh (readings taken
 * before the scale say nothing about the new formation) and the cool-down starts now.
 */
export function recordScale(state: ProcessState, scale: ScaleRecord): ProcessState {
  const recent = state.scales.filter((s) => s.at > scale.at - SCALE_RECORD_RETENTION_MS);
  return { ...state, history: [], lastScaleAt: scale.at, scales: [...recent, scale] };
}
