import type { AutoscaleEvent, EventKind } from "./events.js";
import type { Notifier } from "./types.js";

const levels: Record<EventKind, "info" | "warn" | "error"> = {
  measurement: "info",
  scale: "info",
  "below-min": "info",
  "above-max": "warn",
  "too-rapid": "warn",
  "fail-safe": "warn",
  "measurement-failed": "error",
  "scale-failed": "error",
  pause: "warn",
  resume: "info",
  "manual-scale": "warn",
  "dyno-limit": "warn",
  "scale-down-held-busy": "info",
};

/** The seeds' LoggerBackend, as one JSON object per line for log drains. */
export class LogNotifier implements Notifier {
  readonly name = "log";
  constructor(private readonly write: (line: string) => void = (line) => console.log(line)) {}

  send(events: readonly AutoscaleEvent[]): Promise<void> {
    for (const event of events) {
      this.write(
        JSON.stringify({
          level: event.phase === "resolved" ? "info" : levels[event.kind],
          event: event.kind,
          phase: event.phase,
          process: event.process,
          from: event.from,
          to: event.to,
          value: event.value,
          unit: event.unit,
          reason: event.reason,
          error: event.error,
          message: event.message,
          advice: event.advice,
          until: event.until,
          by: event.by,
          tickId: event.tickId,
          time: event.at,
        }),
      );
    }
    return Promise.resolve();
  }
}
