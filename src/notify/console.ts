import type { AutoscaleEvent } from "./events.js";
import type { Notifier } from "./types.js";

/** The seeds' ConsoleBackend: one readable line per event. */
export class ConsoleNotifier implements Notifier {
  readonly name = "console";
  constructor(private readonly write: (line: string) => void = (line) => console.log(line)) {}

  send(events: readonly AutoscaleEvent[]): Promise<void> {
    for (const event of events)
      this.write(`[autoscalebot] ${event.at} ${event.process} ${event.kind}: ${event.message}`);
    return Promise.resolve();
  }
}
