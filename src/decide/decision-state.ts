import { z } from "zod";

/**
 * What a decision remembers about one process between ticks: its recent readings and scales.
 * It is part of the process's stored record (src/engine/process-record.ts), in the one state
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

export const decisionStateSchema = z.object({
  history: z.array(historyEntrySchema),
  lastScaleAt: z.number().nullable(),
  scales: z.array(scaleRecordSchema),
  /** Since when the queue and its jobs in progress have read 0, while the minimum is 0 (src/decide/workers.ts). */
  idleSince: z.number().optional(),
});
export type DecisionState = z.infer<typeof decisionStateSchema>;

export const emptyDecisionState = (): DecisionState => ({ history: [], lastScaleAt: null, scales: [] });

/** Scale records older than this are dropped; notification rules look back at most this far. */
export const SCALE_RECORD_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * The state after a scale the platform accepted: the history starts afresh (readings taken
 * before the scale say nothing about the new formation) and the cool-down starts now. What
 * else the record holds is kept.
 */
export function recordScale<State extends DecisionState>(state: State, scale: ScaleRecord): State {
  // Records are kept oldest first, so the expired ones are a prefix.
  const cutoff = scale.at - SCALE_RECORD_RETENTION_MS;
  let first = 0;
  while (first < state.scales.length && state.scales[first]!.at <= cutoff) first++;
  const scales = state.scales.slice(first);
  scales.push(scale);
  return { ...state, history: [], lastScaleAt: scale.at, scales };
}
