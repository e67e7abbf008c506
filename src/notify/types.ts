import type { z } from "zod";
import type { Env } from "../kit/env.js";
import type { BackendDescriptor } from "../kit/registry.js";
import type { AutoscaleEvent } from "./events.js";

/** A way to tell admins what happened. Failing to send is reported by the caller, never fatal to a tick. */
export interface Notifier {
  readonly name: string;
  send(events: readonly AutoscaleEvent[], signal: AbortSignal): Promise<void>;
}

/**
 * A notification backend with settings (listed in ./registry.ts); the settings-free ones
 * (console, log, memory) are named by a word and shared by the tick.
 */
export interface NotifierBackend<Schema extends BackendDescriptor["schema"]> {
  readonly schema: Schema;
  create(config: z.infer<Schema>, env: Env): Notifier;
}
