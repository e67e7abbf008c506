import { z } from "zod";
import { StateStoreError } from "../state/index.js";
import { clampTimes, processRecordSchema, type ProcessRecord } from "./process-record.js";

/**
 * The one state document for all processes. It is versioned: one of an older version, or one
 * that does not parse, is replaced by a fresh state with a warning, never a crash. One of a
 * newer version (written by a newer release, e.g. before a rollback) is left untouched: this
 * release cannot know what its fields mean, so it refuses to write over them.
 */
export const STATE_VERSION = 1;

/** Each process is checked on its own, so one malformed entry costs only that process's history. */
const documentSchema = z.object({
  version: z.literal(STATE_VERSION),
  updatedAt: z.number(),
  processes: z.record(z.string(), z.unknown()),
});

export interface State {
  version: typeof STATE_VERSION;
  updatedAt: number;
  processes: Record<string, ProcessRecord>;
}

export const emptyState = (): State => ({ version: STATE_VERSION, updatedAt: 0, processes: {} });

/** The stored state is of a newer version than this release's: it must not be written over. */
export class NewerStateError extends StateStoreError {
  constructor(readonly version: number) {
    super(
      `stored state has version ${version}, newer than this release's ${STATE_VERSION}: it was written by a newer autoscalebot and is left untouched ` +
        "(nothing is scaled or written; run the newer release, or delete the state key to start afresh)",
    );
    this.name = "NewerStateError";
  }
}

/**
 * The stored document as State. `newer` when it is of a newer version (then `state` is empty and
 * must not be saved). With `now`, times in the future (clock skew, a bad write) are clamped to
 * it, so no cool-down or pause runs for years.
 */
export function decodeState(
  raw: string | null,
  now?: number,
): { state: State; warning?: string; newer?: NewerStateError } {
  if (raw === null) return { state: emptyState() };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { state: emptyState(), warning: "stored state is not JSON; starting afresh" };
  }
  const version = (parsed as { version?: unknown } | null)?.version;
  if (typeof version === "number" && Number.isInteger(version) && version > STATE_VERSION)
    return { state: emptyState(), newer: new NewerStateError(version) };
  if (version !== STATE_VERSION) {
    return {
      state: emptyState(),
      warning: `stored state has version ${JSON.stringify(version)}, expected ${STATE_VERSION}; starting afresh`,
    };
  }
  const document = documentSchema.safeParse(parsed);
  if (!document.success)
    return { state: emptyState(), warning: "stored state is malformed; starting afresh" };
  const processes: Record<string, ProcessRecord> = {};
  const malformed: string[] = [];
  const warnings: string[] = [];
  for (const [name, entry] of Object.entries(document.data.processes)) {
    const result = processRecordSchema.safeParse(entry);
    if (!result.success) {
      malformed.push(name);
      continue;
    }
    const { record, clamped } =
      now === undefined ? { record: result.data, clamped: [] } : clampTimes(result.data, now);
    processes[name] = record;
    if (clamped.length > 0)
      warnings.push(
        `stored state of ${name} has times in the future (${clamped.join(", ")}): clamped to now (${new Date(now!).toISOString()})`,
      );
  }
  const updatedAt = now === undefined ? document.data.updatedAt : Math.min(document.data.updatedAt, now);
  const state: State = { version: STATE_VERSION, updatedAt, processes };
  if (malformed.length > 0)
    warnings.unshift(`stored state of ${malformed.join(", ")} is malformed; starting afresh for it`);
  return warnings.length === 0 ? { state } : { state, warning: warnings.join("; ") };
}

export function encodeState(processes: Record<string, ProcessRecord>, now: number): string {
  const state: State = { version: STATE_VERSION, updatedAt: now, processes };
  return JSON.stringify(state);
}
