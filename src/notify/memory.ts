import type { AutoscaleEvent } from "./events.js";
import type { Notifier } from "./types.js";

/** The seeds' TestBackend: keeps every event it is sent, for tests and reports. */
export class MemoryNotifier implements Notifier {
  readonly name = "memory";
  readonly events: AutoscaleEvent[] = [];

  send(events: readonly AutoscaleEvent[]): Promise<void> {
    this.events.push(...events);
    return Promise.resolve();
  }
}
