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
