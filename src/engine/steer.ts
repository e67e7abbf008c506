import { z } from "zod";
import { describeIssues } from "../config/load.js";
import type { Config } from "../config/schema.js";
import type { Clock } from "../kit/clock.js";
import { integer } from "../kit/fields.js";
import { plural } from "../kit/plural.js";
import type { StateStore } from "../state/index.js";
import {
  emptyProcessRecord,
  MAX_PAUSE_MINUTES,
  steeringOf,
  type OverrideView,
  type PauseView,
  type ProcessRecord,
} from "./process-record.js";
import { decodeState, encodeState } from "./state-document.js";
import { LOCK_MARGIN_MS, withTickLock } from "./tick-lock.js";
import { UnknownProcessError } from "./tick.js";

/**
 * Pause and resume (`autoscalebot pause|resume`, POST /api/pause|resume): an edit of one process's
 * record in the state document, under the tick's own lock, so neither a tick's update nor the
 * edit is lost. The tick does the rest (src/engine/process-step.ts): it announces the pause or
 * the resume, scales once to a pause's count, holds, and ends a pause that has run out.
 */

const pauseRequestSchema = z.strictObject({
  process: z.string(),
  minutes: integer(1, MAX_PAUSE_MINUTES).optional(),
  // Not held to the bounds: a pause sets the count (KEDA's paused-replicas).
  processes: integer(0).optional(),
});
type PauseRequest = z.infer<typeof pauseRequestSchema>;

const resumeRequestSchema = z.strictObject({ process: z.string() });

/** A request that is not one: every problem, by field. */
export class SteerRequestError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("; "));
    this.name = "SteerRequestError";
  }
}

/** A tick held the lock for all the time a pause or resume waits for it. */
export class LockBusyError extends Error {
  constructor(waitedMs: number) {
    super(`a tick held the state lock for ${Math.round(waitedMs / 1000)} s; try again`);
    this.name = "LockBusyError";
  }
}

function parseRequest<Request>(schema: z.ZodType<Request>, input: unknown): Request {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new SteerRequestError(describeIssues(parsed.error));
  return parsed.data;
}

export interface SteerDeps {
  store: StateStore;
  clock: Clock;
  /** How long to wait for a tick that holds the lock (default 5 s; a tick takes well under one). */
  retryForMs?: number;
}

export interface SteerResult {
  process: string;
  /** False when nothing changed (a resume of a process that is not paused). */
  changed: boolean;
  message: string;
  /** The process's pause and override after the change, as status shows them. */
  paused: PauseView | null;
  override: OverrideView | null;
}

const DEFAULT_RETRY_MS = 5000;

/**
 * Pause or resume, from the CLI's flags or an endpoint's JSON body (`{process, minutes?,
 * processes?}`, `{process}`), checked by one schema: a SteerRequestError lists what is wrong.
 * `by` says who asked (`cli`, `api`).
 */
export async function steerProcess(
  action: "pause" | "resume",
  config: Config,
  deps: SteerDeps,
  fields: unknown,
  by: string,
): Promise<SteerResult> {
  if (action === "pause") {
    const request = parseRequest(pauseRequestSchema, fields);
    return editRecord(config, deps, request.process, (record, now) => pause(record, now, request, by));
  }
  const { process } = parseRequest(resumeRequestSchema, fields);
  return editRecord(config, deps, process, (record, now) => resume(record, now, process, by));
}

/** What an edit makes of the record (null: nothing to change), and what to tell the person. */
interface Edit {
  record: ProcessRecord | null;
  message: string;
}

/** Paused: measured, not scaled; with `processes`, scaled there once, then held. */
function pause(record: ProcessRecord, now: number, request: PauseRequest, by: string): Edit {
  const { minutes, processes } = request;
  const ongoing = steeringOf(record, now).paused !== null;
  // A manual override ends: the pause holds the process now.
  const { override: _, paused: before, ...rest } = record;
  const paused: NonNullable<ProcessRecord["paused"]> = {
    since: ongoing && before ? before.since : now,
    ...(minutes === undefined ? {} : { until: now + minutes * 60_000 }),
    ...(processes === undefined ? {} : { processes }),
    by,
  };
  const held =
    processes === undefined
      ? "measured but not scaled"
      : `the next tick scales it to ${plural(processes, "process", "processes")}, then holds it there`;
  const until =
    paused.until === undefined ? "until resumed" : `until ${new Date(paused.until).toISOString()}`;
  return {
    record: { ...rest, paused },
    message: `${ongoing ? "paused again" : "paused"} ${request.process}: ${held}, ${until}`,
  };
}

/** Resumed: the next tick decides again. Not paused: nothing changes. */
function resume(record: ProcessRecord, now: number, name: string, by: string): Edit {
  const { paused, ...rest } = record;
  if (!paused || steeringOf(record, now).paused === null) {
    const ended =
      paused?.until === undefined ? "" : ` (its pause ended at ${new Date(paused.until).toISOString()})`;
    return { record: null, message: `${name} is not paused${ended}: nothing to resume` };
  }
  return {
    // A pause no tick announced is simply withdrawn; an announced one is announced as resumed.
    record: paused.announced ? { ...rest, resumed: { since: paused.since, by } } : rest,
    message: `resumed ${name} (paused since ${new Date(paused.since).toISOString()}): the next tick decides again`,
  };
}

/**
 * One process's record, edited under the tick lock: wait for the lock (a tick holds it for well
 * under a second), load, edit, save (fenced by the lock), release. The document's `updatedAt` stays the last tick's,
 * so GET /api/health still tells when a tick last ran. An edit of `null` writes nothing.
 */
async function editRecord(
  config: Config,
  deps: SteerDeps,
  name: string,
  edit: (record: ProcessRecord, now: number) => Edit,
): Promise<SteerResult> {
  if (!Object.hasOwn(config.processes, name))
    throw new UnknownProcessError([name], Object.keys(config.processes));
  const retryForMs = deps.retryForMs ?? DEFAULT_RETRY_MS;
  const ran = await withTickLock(deps.store, { ttlMs: LOCK_MARGIN_MS, retryForMs }, async (lock) => {
    const now = deps.clock.now();
    const { state, newer } = decodeState(await deps.store.load(), now);
    if (newer) throw newer;
    const record = state.processes[name] ?? emptyProcessRecord();
    const edited = edit(record, now);
    if (edited.record) {
      // Fenced like the tick's save: an edit that outlived its lock is refused (LockLostError), never lost over a tick's update.
      await lock.save(encodeState({ ...state.processes, [name]: edited.record }, state.updatedAt));
    }
    return {
      process: name,
      changed: edited.record !== null,
      message: edited.message,
      ...steeringOf(edited.record ?? record, now),
    };
  });
  if (!ran) throw new LockBusyError(retryForMs);
  return ran.value;
}
