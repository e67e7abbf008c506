import type { DateTime } from "luxon";
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
import type { Decision } from "./types.js";

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

/** The floor pre-warming sets at `now`, and the hour it is for; null outside its windows or for an hour never seen. */
export function prewarmFloor(
  config: Prewarm,
  state: PrewarmState | undefined,
  now: DateTime,
): { floor: number; hour: DateTime; ahead: boolean } | null {
  if (!state || !inWindow(config, now)) return null;
  const lead = config.leadMinutes;
  const ahead = now.minute >= 60 - lead;
  // luxon's arithmetic is in real time, so across a DST change the next hour is the one the clock shows.
  const hour = (ahead ? now.plus({ minutes: lead }) : now).startOf("hour");
  const forecast = profileCount(state.profile, slotOf(hour, config.period));
  if (Number.isNaN(forecast)) return null;
  return { floor: forecast, hour, ahead };
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
  now: DateTime,
): Decision {
  if (!config?.enabled) return policy;
  const found = prewarmFloor(config, state, now);
  if (!found) return policy;
  const target = Math.min(found.floor, policy.bounds.max);
  if (target <= policy.target) return policy;
  const day = config.period === "week" ? `${weekdays[found.hour.weekday - 1]} ` : "";
  const when = `the usual ${day}${found.hour.toFormat("HH:mm")} rise`;
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
  now: DateTime,
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
