import type { z } from "zod";
import type { Env } from "../kit/env.js";
import type { BackendDescriptor } from "../kit/registry.js";

/**
 * What went wrong, as the engine needs to know it whatever the platform: whether the scale may
 * have been applied anyway (`timeout`, `aborted`, `network`, `server`: the next tick checks)
 * and what to tell the admin.
 */
export type ScaleErrorKind =
  | "missing-credentials"
  | "unauthorized"
  | "not-found"
  | "rate-limited"
  | "refused"
  | "server"
  | "timeout"
  | "aborted"
  | "network"
  | "bad-response"
  | "internal";

/** Kinds after which the platform may still have applied the scale. */
const UNCLEAR: ReadonlySet<ScaleErrorKind> = new Set(["timeout", "aborted", "network", "server"]);

/**
 * A platform's API refused or did not answer. `id` and `message` are the platform's own (for
 * example Heroku's `{id, message}` body) or ours for transport failures; `kind` is the engine's.
 */
export class ScaleError extends Error {
  constructor(
    readonly kind: ScaleErrorKind,
    readonly id: string,
    message: string,
    readonly status?: number,
    /** What the platform's answer says besides: how long to wait (a 429), the limit it named (a 422). */
    readonly details: { retryAfterMs?: number; limit?: number } = {},
  ) {
    super(message);
    this.name = "ScaleError";
  }

  /** Whether the platform may have applied the scale despite the failure. */
  get unclear(): boolean {
    return UNCLEAR.has(this.kind);
  }
}

/** Reads and sets the number of processes of one process type on one platform. */
export interface Scaler {
  /** Human-readable target, e.g. `heroku dancing-forest-1234/web`; never contains a secret. */
  readonly target: string;
  /** The quantity the platform runs now (a manual scale on the platform is respected). */
  current(signal: AbortSignal): Promise<number>;
  /** Sets the quantity; resolves to the quantity the platform reports afterwards. Throws ScaleError. */
  scaleTo(quantity: number, signal: AbortSignal): Promise<number>;
  /** Present when the platform reads and sets many process types at once (see ScalerBatch). */
  readonly batch?: ScalerBatch;
}

/**
 * What a scaler shares with the others of its batch, for a platform that reads and sets many
 * process types in one call (Heroku's formation list and batch update). One tick's
 * ScalingSession (./session.ts) makes one read and one write per batch key for all its members.
 */
export interface ScalerBatch {
  /** Same key, same batch: one account and one app. Never contains a secret. */
  readonly key: string;
  /** The rate-limit pool the calls draw on (one account), never a secret. */
  readonly account: string;
  /** The member's name in the batch's read and write (its process type). */
  readonly member: string;
  /** Below this many requests left, what can wait (a scale-down) waits; 0: nothing waits. */
  readonly rateLimitReserve: number;
  /** The platform's name, for the report: `Heroku`. */
  readonly platform: string;
  /** Every member's count in one call. Throws ScaleError. */
  readAll(signal: AbortSignal): Promise<BatchAnswer>;
  /** Sets the members' counts in one call; the counts the platform reports afterwards. Throws ScaleError. */
  scaleAll(quantities: ReadonlyMap<string, number>, signal: AbortSignal): Promise<BatchAnswer>;
}

/** Counts by member, and the requests left in the rate-limit pool when the platform says. */
export interface BatchAnswer {
  counts: ReadonlyMap<string, number>;
  remaining?: number;
}

/** A scaling backend: its settings, how to build it, and what the engine asks of it (listed in ./registry.ts). */
export interface ScalingBackend<Schema extends BackendDescriptor["schema"]> {
  readonly schema: Schema;
  /** Throws ScaleError (`missing-credentials`) when a secret it needs is not set. */
  create(config: z.infer<Schema>, processName: string, env: Env): Scaler;
  /** The longest one platform call may take, for the tick's budget. */
  budgetMs(config: z.infer<Schema>): number;
  /** The formation a process scales, as a key: two processes may not own the same one. */
  formation(config: z.infer<Schema>, processName: string): string;
  /** The environment variables holding its secrets (`validate` warns when one is unset). */
  secretEnv(config: z.infer<Schema>): string[];
  /** What an admin can do about a failure of this platform. */
  advice(error: ScaleError, config: z.infer<Schema>): string;
}
