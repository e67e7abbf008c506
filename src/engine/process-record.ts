import { z } from "zod";
import { decisionStateSchema, emptyDecisionState } from "../decide/index.js";
import { noticeSchema } from "../notify/index.js";

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
  pendingScale: z.object({ at: z.number(), from: z.number(), to: z.number() }).optional(),
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
  notices: z.record(z.string(), noticeSchema).optional(),
});
export type ProcessRecord = z.infer<typeof processRecordSchema>;

export const emptyProcessRecord = (): ProcessRecord => emptyDecisionState();
