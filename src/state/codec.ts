import { z } from "zod";
import { processStateSchema, type ProcessState } from "../decide/state.js";

/**
 * The one state document for all processes. It is versioned: a document of another version,
 * or one that does not parse, is replaced by a fresh state with a warning, never a crash.
 */
export const STATE_VERSION = 1;

const stateSchema = z.object({
  version: z.literal(STATE_VERSION),
  updatedAt: z.number(),
  processes: z.record(z.string(), processStateSchema),
});
export type State = z.infer<typeof stateSchema>;

export const emptyState = (): State => ({ version: STATE_VERSION, updatedAt: 0, processes: {} });

export function decodeState(raw: string | null): { state: State; warning?: string } {
  if (raw === null) return { state: emptyState() };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { state: emptyState(), warning: "stored state is not JSON; starting afresh" };
  }
  const version = (parsed as { version?: unknown } | null)?.version;
  if (version !== STATE_VERSION) {
    return {
      state: emptyState(),
      warning: `stored state has version ${JSON.stringify(version)}, expected ${STATE_VERSION}; starting afresh`,
    };
  }
  const result = stateSchema.safeParse(parsed);
  if (!result.success) return { state: emptyState(), warning: "stored state is malformed; starting afresh" };
  return { state: result.data };
}

export function encodeState(processes: Record<string, ProcessState>, now: number): string {
  const state: State = { version: STATE_VERSION, updatedAt: now, processes };
  return JSON.stringify(state);
}
