import { z } from "zod";
import { prewarmStateSchema } from "./prewarm-profile.js";

/**
 * What a decision remembers about one process between ticks: its recent readings and scales.
 * It is part of the process's stored record (src/engine/process-record.ts), in the one state
 * document the tick reads and writes once, so it stays small: history is bounded by
 * `historyLength`, target tracking's recommendations by its stabilization windows, scale records
 * by the rules' windows (the engine drops the older ones) and by MAX_SCALE_RECORDS, pre-warming's
 * profile by its 168 hours.
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

/**
 * One recommendation target tracking keeps for its stabilization windows: [time in ms, count].
 * A pair rather than an object because the state document holds up to a window's worth.
 */
export const recommendationSchema = z.tuple([z.number(), z.number()]);
export type Recommendation = z.infer<typeof recommendationSchema>;

export const scaleRecordSchema = z.object({ at: z.number(), from: z.number(), to: z.number() });
export type ScaleRecord = z.infer<typeof scaleRecordSchema>;

export const decisionStateSchema = z.object({
  history: z.array(historyEntrySchema),
  lastScaleAt: z.number().nullable(),
  scales: z.array(scaleRecordSchema),
  /**
   * Target tracking's raw recommendations within its stabilization windows (src/decide/scaling-rules.ts),
   * oldest first. Unlike the history they outlive a scale: HPA's stabilization reads the
   * recommendations behind a scale, not the count scaled to.
   */
  recommendations: z.array(recommendationSchema).optional(),
  /** Since when the queue and its jobs in progress have read 0, while the minimum is 0 (src/decide/workers.ts). */
  idleSince: z.number().optional(),
  /**
   * Pre-warming's profile (src/decide/prewarm.ts): the count each hour of the week ended at, as
   * one string of 168 base-36 counts (168 to 504 bytes), and the hour being watched. Only with decision.prewarm.
   */
  prewarm: prewarmStateSchema,
});
export type DecisionState = z.infer<typeof decisionStateSchema>;

export const emptyDecisionState = (): DecisionState => ({ history: [], lastScaleAt: null, scales: [] });

/**
 * The most scale records a process keeps, whatever its rules' windows: the state document's
 * size must not grow with the scales (every scale is in the tick history). Seven is twice the
 * too-rapid count's default of 3, plus one: the fewest with which that rule fires exactly as it
 * would with every record (one direction then has more than 3). A process flapping every minute
 * keeps about 260 bytes of them.
 */
export const MAX_SCALE_RECORDS = 7;

/**
 * The state after a scale the platform accepted: the history starts afresh (readings taken
 * before the scale say nothing about the new formation) and the cool-down starts now; the
 * newest MAX_SCALE_RECORDS scale records are kept. What else the record holds is kept.
 */
export function recordScale<State extends DecisionState>(state: State, scale: ScaleRecord): State {
  const scales = [...state.scales.slice(-(MAX_SCALE_RECORDS - 1)), scale];
  // Object.assign, not a spread: see `record` in ./common.ts.
  return Object.assign({}, state, { history: [], lastScaleAt: scale.at, scales });
}

/**
 * The scale records a rule reading `windowMs` back from `now` can still see, the newest
 * MAX_SCALE_RECORDS at most; the same array when none is dropped.
 */
export function keepScaleRecords(scales: ScaleRecord[], windowMs: number, now: number): ScaleRecord[] {
  // Records are kept oldest first, so the expired ones are a prefix.
  let first = Math.max(0, scales.length - MAX_SCALE_RECORDS);
  while (first < scales.length && scales[first]!.at <= now - windowMs) first++;
  return first === 0 ? scales : scales.slice(first);
}
