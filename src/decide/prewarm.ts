import { plural } from "../kit/plural.js";
import { weekdays } from "./bounds.js";
import type { DecisionState } from "./decision-state.js";
import {
  inWindow,
  observe,
  profileCount,
  slotOf,
  type Prewarm,
  type PrewarmState,
} from "./prewarm-profile.js";
import type { Decision, Moment } from "./types.js";

/*
 * Predictive pre-warming, as AWS predictive scaling does it, from what this autoscaler has seen:
 * a profile of the count each wall-clock hour of the week (or of the day) ended at, and a floor
 * raised to that count from `leadMinutes` before the hour begins until `leadMinutes` after, so
 * the processes a recurring rise needs are booted when it comes instead of a boot time later.
 * It only ever raises the policy's decision, never above the maximum, and stays off unless set.
 *
 * Why the count at the hour's end, not the hour's peak: the floor sets the count at the start
 * of the hour, so a peak would see the floor itself and never come down (pre-warming would feed
 * on its own processes). The policy has the rest of the hour to scale what was not needed
 * away, so the count it ends the hour at is its own; the floor ahead of an hour is what the
 * policy ended that hour at on earlier weeks, exponentially weighted. "Ends at" is the last tick
 * before the window ahead of the next hour: the count at :59 would be that floor's, and each
 * hour would learn the next one's (the profile would climb to the week's peak).
 */

/** The wall-clock hour of the cycle an hour is, as luxon counts them: weekday 1 (Monday) to 7, hour 0 to 23. */
interface WallHour {
  weekday: number;
  hour: number;
}

const HOUR_MS = 3_600_000;

/**
 * The wall-clock hour of the instant `atMs` in `now`'s zone: what `startOf("hour")` of that
 * instant shows, from its UTC offset alone (the step runs every simulated minute, and luxon's
 * `plus` and `startOf` were most of pre-warming's cost there).
 */
function wallHourAt(now: Moment, atMs: number): WallHour {
  const hours = Math.floor((atMs + now.zone.offset(atMs) * 60_000) / HOUR_MS);
  const days = Math.floor(hours / 24);
  // 1 January 1970 was a Thursday (weekday 4).
  return { weekday: ((((days + 3) % 7) + 7) % 7) + 1, hour: ((hours % 24) + 24) % 24 };
}

/** The floor pre-warming sets at `now`, and the hour it is for; null outside its windows or for an hour never seen. */
export function prewarmFloor(
  config: Prewarm,
  state: PrewarmState | undefined,
  now: Moment,
): { floor: number; hour: WallHour; ahead: boolean } | null {
  if (!state || !inWindow(config, now)) return null;
  const lead = config.leadMinutes;
  const ahead = now.minute >= 60 - lead;
  // The hour `lead` minutes on in real time, so across a DST change it is the one the clock shows then.
  const hour = ahead ? wallHourAt(now, now.toMillis() + lead * 60_000) : now;
  const forecast = profileCount(state.profile, slotOf(hour, config.period));
  if (Number.isNaN(forecast)) return null;
  return { floor: forecast, hour: { weekday: hour.weekday, hour: hour.hour }, ahead };
}

/**
 * The policy's decision with the pre-warming floor: raised to it (up to the maximum) when it is
 * higher, whatever the cool-downs say (it is a floor, as the minimum is); never lowered. In
 * forecast mode the reason only says what it would do.
 */
export function withPrewarm(
  policy: Decision,
  config: Prewarm | undefined,
  state: PrewarmState | undefined,
  current: number,
  now: Moment,
): Decision {
  if (!config?.enabled) return policy;
  const found = prewarmFloor(config, state, now);
  if (!found) return policy;
  const target = Math.min(found.floor, policy.bounds.max);
  if (target <= policy.target) return policy;
  const day = config.period === "week" ? `${weekdays[found.hour.weekday - 1]} ` : "";
  const when = `the usual ${day}${String(found.hour.hour).padStart(2, "0")}:00 rise`;
  const what = `${plural(target, "process", "processes")} ${found.ahead ? "ahead of" : "through"} ${when}`;
  if (config.mode === "forecast")
    return { ...policy, reason: `${policy.reason}; pre-warm would hold ${what}` };
  const action = target > current ? "up" : target < current ? "down" : "hold";
  const why = `pre-warm: ${what} (the policy: ${policy.reason})`;
  return { ...policy, action, target, reason: why };
}

/**
 * The decision's record with this tick's count observed. Pre-warming off: the record without a
 * profile (a profile no setting reads is not kept). The same object when nothing changes.
 */
export function observeDecision<State extends DecisionState>(
  state: State,
  config: Prewarm | undefined,
  target: number,
  now: Moment,
): State {
  if (!config?.enabled) {
    if (state.prewarm === undefined) return state;
    const { prewarm: _, ...rest } = state;
    return rest as State;
  }
  const watched = inWindow(config, now) ? null : target;
  const prewarm = observe(state.prewarm, config, slotOf(now, config.period), watched);
  return prewarm === state.prewarm ? state : { ...state, prewarm };
}
