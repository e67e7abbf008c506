// The decide stage's public face: what the engine, the config and the tools may use.
export { decide, decisionBand, decisionScaleRecordsMs, decisionSchema } from "./registry.js";
export type { Action, Band, Decision, Moment } from "./types.js";
export {
  decisionStateSchema,
  emptyDecisionState,
  keepScaleRecords,
  MAX_SCALE_RECORDS,
  recordScale,
  type HistoryEntry,
  type ScaleRecord,
  type Verdict,
} from "./decision-state.js";
export {
  boundsAt,
  commonDecisionFields,
  decision,
  enforceBounds,
  failSafeMove,
  withSchedule,
} from "./common.js";
export { resolveBound } from "./bounds.js";
export { cronFiring, scheduleAt, scheduleSchema, type Schedule, type ScheduleEntry } from "./schedule.js";
export { observeDecision, withPrewarm } from "./prewarm.js";
export { encodeProfile } from "./prewarm-profile.js";
