import type { AutoscaleEvent } from "./events.js";

/** A way to tell admins what happened. Failing to send is reported by the caller, never fatal to a tick. */
export interface Notifier {
  readonly name: string;
  send(events: readonly AutoscaleEvent[], signal: AbortSignal): Promise<void>;
}
