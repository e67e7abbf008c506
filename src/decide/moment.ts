import type { DateTime } from "luxon";
/**
 * A moment as the decisions read it: its instant and its wall-clock fields in the configured
 * zone (weekday 1 = Monday). A luxon DateTime is one; the simulator passes a cheaper one
 * (src/simulate/moment.ts) with the same fields, as a DateTime a minute was a tenth of a replay.
 */
export type Moment = Pick<DateTime, "toMillis" | "offset" | "weekday" | "hour" | "minute" | "zone">;
