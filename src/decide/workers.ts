import { plural } from "../kit/plural.js";
import { decision, moveTo, type CommonDecisionConfig } from "./common.js";
import type { DecisionState } from "./decision-state.js";
import type { Decision, DecisionInput } from "./types.js";

/**
 * What a worker needs on top of any backend's decision, applied after it (pure, as the rule is):
 * - a scale-down is held while jobs are in progress (`scale-down-held-busy`): a platform stops
 *   the processes it removes, and the jobs they run with them. Only readings that carry `busy`
 *   with `holdScaleDownWhileBusy` (the queue backends) hold; a move back within the bounds does not.
 * - scale to zero, with a minimum of 0: from 0, the first waiting job scales up (activation,
 *   KEDA's activationListLength of 0), whatever the rule says of so small a queue; to 0, only once
 *   the queue and its jobs in progress have read 0 for `idleMinutesBeforeZero`, tracked in
 *   `idleSince`; until then the last process stays.
 */
export function guardWorkers<State extends DecisionState>(
  input: DecisionInput<CommonDecisionConfig> & { state: State },
  policy: Decision & { state: State },
): Decision & { state: State } {
  const { config, reading, current, now } = input;
  const { bounds } = policy;
  const nowMs = now.toMillis();
  const idle = reading.ok && reading.value === 0 && (reading.busy ?? 0) === 0;
  const state = withIdleSince(
    policy.state,
    bounds.min === 0 && idle ? (policy.state.idleSince ?? nowMs) : undefined,
  );
  // A correction into the bounds (a bound changed, a count set by hand) is not a policy's move.
  // So is a count the app asks for itself (app-json): the app knows best.
  if (current < bounds.min || current > bounds.max || reading.desired !== undefined)
    return withState(policy, state);

  if (current === 0 && reading.ok && (reading.value ?? 0) > 0 && policy.target === 0) {
    const why = `activation: the queue reads ${reading.value} ${reading.unit} with no process running`;
    return withState(moveTo("up", Math.max(1, config.increment), input, bounds, why, state), state);
  }
  if (policy.action !== "down") return withState(policy, state);

  const busy = reading.ok && reading.holdScaleDownWhileBusy ? (reading.busy ?? 0) : 0;
  if (busy > 0) {
    const why = `scale-down-held-busy: ${plural(busy, "job")} in progress; the policy would scale down to ${policy.target}: ${policy.reason}`;
    return withState(
      decision("hold", current, why, bounds, state, [...policy.conditions, "scale-down-held-busy"]),
      state,
    );
  }
  if (policy.target > 0) return withState(policy, state);

  const idleMs = state.idleSince === undefined ? 0 : nowMs - state.idleSince;
  const neededMs = config.idleMinutesBeforeZero * 60_000;
  if (idleMs >= neededMs) return withState(policy, state);
  const waiting = `idle for ${Math.floor(idleMs / 60_000)} of the ${config.idleMinutesBeforeZero} minutes before scaling to zero`;
  if (current > 1)
    return withState(
      decision("down", 1, `${policy.reason}; down to 1, not 0: ${waiting}`, bounds, state),
      state,
    );
  return withState(decision("hold", current, `${policy.reason}; holding: ${waiting}`, bounds, state), state);
}

/** The state with `idleSince` set to `at`, or without it; the same object when nothing changes. */
function withIdleSince<State extends DecisionState>(state: State, at: number | undefined): State {
  if (state.idleSince === at) return state;
  const { idleSince: _, ...rest } = state;
  return (at === undefined ? rest : { ...rest, idleSince: at }) as State;
}

/** The decision keeping `state`: the same object when it already does (most ticks, and a replay's minutes). */
function withState<State extends DecisionState>(made: Decision, state: State): Decision & { state: State } {
  return made.state === state ? (made as Decision & { state: State }) : { ...made, state };
}
