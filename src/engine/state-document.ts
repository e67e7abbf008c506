import { z } from "zod";
import type { HistoryEntry, Verdict } from "../decide/index.js";
import { StateStoreError } from "../state/index.js";
import {
  clampTimes,
  emptyProcessRecord,
  pendingScaleSchema,
  processRecordSchema,
  type PendingScale,
  type ProcessRecord,
} from "./process-record.js";

/**
 * The one state document for all processes. It is versioned: one of an older version, or one
 * that does not parse, is replaced by a fresh state with a warning, never a crash. One of a
 * newer version (written by a newer release, e.g. before a rollback) is left untouched: this
 * release cannot know what its fields mean, so it refuses to write over them.
 *
 * After the document may come lines of scale intents (`encodeIntents`), appended before a
 * tick's PATCHes and dropped by its save after them, which writes the whole document again.
 * JSON never holds a raw newline, so the first line is always the document.
 */
export const STATE_VERSION = 2;
/** Version 1 kept history entries and scale records as objects: it is still read, and written as 2. */
const OLDEST_READ = 1;

/*
 * Version 2 stores a record's history entries as `[at, value, verdict?, recommendation?]` (a
 * verdict of null when only a recommendation follows) and its scale records as `[at, from, to]`:
 * their keys were half their bytes, and a record at its largest (ten readings, seven scales,
 * pre-warming's profile, open conditions) must stay within 1 KB. In memory they are the objects
 * the decisions read; only this codec knows the arrays.
 */
type StoredEntry = [number, number | null] | [number, number | null, Verdict | null, number?];

const storedEntry = ({ at, value, verdict, recommendation }: HistoryEntry): StoredEntry =>
  recommendation !== undefined
    ? [at, value, verdict ?? null, recommendation]
    : verdict !== undefined
      ? [at, value, verdict]
      : [at, value];

const storedRecord = (record: ProcessRecord) => ({
  ...record,
  history: record.history.map(storedEntry),
  scales: record.scales.map(({ at, from, to }) => [at, from, to]),
});

/** A stored entry or scale as the object the schema checks (anything else is left for it to refuse). */
const entryOf = (stored: unknown): unknown => {
  if (!Array.isArray(stored)) return stored;
  const [at, value, verdict, recommendation] = stored as unknown[];
  return {
    at,
    value,
    ...(verdict !== null && verdict !== undefined && { verdict }),
    ...(stored.length > 3 && { recommendation }),
  };
};
const scaleOf = (stored: unknown): unknown => {
  if (!Array.isArray(stored)) return stored;
  const [at, from, to] = stored as unknown[];
  return { at, from, to };
};

function recordOf(stored: unknown): unknown {
  if (typeof stored !== "object" || stored === null) return stored;
  const { history, scales } = stored as { history?: unknown; scales?: unknown };
  return {
    ...stored,
    ...(Array.isArray(history) && { history: history.map(entryOf) }),
    ...(Array.isArray(scales) && { scales: scales.map(scaleOf) }),
  };
}

/** Each process is checked on its own, so one malformed entry costs only that process's history. */
const documentSchema = z.object({
  version: z.number(),
  updatedAt: z.number(),
  processes: z.record(z.string(), z.unknown()),
});

export interface State {
  version: typeof STATE_VERSION;
  updatedAt: number;
  processes: Record<string, ProcessRecord>;
}

export const emptyState = (): State => ({ version: STATE_VERSION, updatedAt: 0, processes: {} });

/** One appended line: the scales a tick is about to ask for, by process. */
const intentLineSchema = z.object({ intents: z.record(z.string(), pendingScaleSchema) });

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
  const [head = "", ...intentLines] = raw.split("\n");
  // A document with nothing before its intents: the first tick's save was lost after its append.
  const decoded =
    head === "" && intentLines.length > 0 ? { processes: {}, updatedAt: 0 } : parseDocument(head);
  if ("newer" in decoded) return { state: emptyState(), newer: decoded.newer };
  if ("warning" in decoded) return { state: emptyState(), warning: decoded.warning };
  const { updatedAt, processes: entries } = decoded;
  const processes: Record<string, ProcessRecord> = {};
  const malformed: string[] = [];
  const warnings: string[] = [];
  for (const [name, entry] of Object.entries(entries)) {
    const result = processRecordSchema.safeParse(recordOf(entry));
    if (result.success) processes[name] = result.data;
    else malformed.push(name);
  }
  // Lines are appended after the document's last save, so each is newer than it and than those before.
  for (const line of intentLines) {
    const intents = parseIntentLine(line);
    if (!intents) {
      warnings.push("a stored scale intent is malformed; skipped");
      continue;
    }
    for (const [name, pendingScale] of Object.entries(intents))
      processes[name] = {
        ...(processes[name] ?? emptyProcessRecord()),
        pendingScale: { ...pendingScale, intent: true },
      };
  }
  if (now !== undefined)
    for (const [name, record] of Object.entries(processes)) {
      const { record: clampedRecord, clamped } = clampTimes(record, now);
      processes[name] = clampedRecord;
      if (clamped.length > 0)
        warnings.push(
          `stored state of ${name} has times in the future (${clamped.join(", ")}): clamped to now (${new Date(now).toISOString()})`,
        );
    }
  const state: State = {
    version: STATE_VERSION,
    updatedAt: now === undefined ? updatedAt : Math.min(updatedAt, now),
    processes,
  };
  if (malformed.length > 0)
    warnings.unshift(`stored state of ${malformed.join(", ")} is malformed; starting afresh for it`);
  return warnings.length === 0 ? { state } : { state, warning: warnings.join("; ") };
}

/** The document line: its processes unchecked (each is checked on its own), or why it is none. */
function parseDocument(
  line: string,
):
  | { updatedAt: number; processes: Record<string, unknown> }
  | { warning: string }
  | { newer: NewerStateError } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { warning: "stored state is not JSON; starting afresh" };
  }
  const version = (parsed as { version?: unknown } | null)?.version;
  if (typeof version === "number" && Number.isInteger(version) && version > STATE_VERSION)
    return { newer: new NewerStateError(version) };
  if (typeof version !== "number" || !Number.isInteger(version) || version < OLDEST_READ)
    return {
      warning: `stored state has version ${JSON.stringify(version)}, expected ${STATE_VERSION}; starting afresh`,
    };
  const document = documentSchema.safeParse(parsed);
  return document.success ? document.data : { warning: "stored state is malformed; starting afresh" };
}

function parseIntentLine(line: string): Record<string, PendingScale> | null {
  try {
    const result = intentLineSchema.safeParse(JSON.parse(line));
    return result.success ? result.data.intents : null;
  } catch {
    return null;
  }
}

/**
 * The line a tick appends before its PATCHes (`Lock.append`): each scale about to be asked for,
 * recorded as its process's pending scale. Only these few bytes are written; if the tick's later
 * save is lost, the next tick still knows these scales were its own.
 */
export function encodeIntents(intents: Record<string, PendingScale>): string {
  return `\n${JSON.stringify({ intents })}`;
}

export function encodeState(processes: Record<string, ProcessRecord>, now: number): string {
  const stored: Record<string, unknown> = {};
  for (const [name, record] of Object.entries(processes)) stored[name] = storedRecord(record);
  return JSON.stringify({ version: STATE_VERSION, updatedAt: now, processes: stored });
}
