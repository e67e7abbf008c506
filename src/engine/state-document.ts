import { z } from "zod";
import { processRecordSchema, type ProcessRecord } from "./process-record.js";

/**
 * The one state document for all processes. It is versioned: a document of another version,
 * or one that does not parse, is replaced by a fresh state with a warning, never a crash.
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
  const document = documentSchema.safeParse(parsed);
  if (!document.success)
    return { state: emptyState(), warning: "stored state is malformed; starting afresh" };
  const processes: Record<string, ProcessRecord> = {};
  const malformed: string[] = [];
  for (const [name, entry] of Object.entries(document.data.processes)) {
    const result = processRecordSchema.safeParse(entry);
    if (result.success) processes[name] = result.data;
    else malformed.push(name);
  }
  const state: State = { version: STATE_VERSION, updatedAt: document.data.updatedAt, processes };
  if (malformed.length === 0) return { state };
  return { state, warning: `stored state of ${malformed.join(", ")} is malformed; starting afresh for it` };
}

export function encodeState(processes: Record<string, ProcessRecord>, now: number): string {
  const state: State = { version: STATE_VERSION, updatedAt: now, processes };
  return JSON.stringify(state);
}
