import type { Unit } from "../measure/index.js";

/** Every event a process can notify on; `notifyOn` picks from these. */
export const eventKinds = [
  "measurement",
  "scale",
  "above-max",
  "below-min",
  "too-rapid",
  "scale-failed",
  "fail-safe",
  "measurement-failed",
  "pause",
  "resume",
  "manual-scale",
  "dyno-limit",
  "scale-down-held-busy",
] as const;
export type EventKind = (typeof eventKinds)[number];

export interface AutoscaleEvent {
  kind: EventKind;
  process: string;
  tickId: string;
  /** ISO 8601 time of the tick. */
  at: string;
  /** One human sentence: what happened and why. */
  message: string;
  from?: number;
  to?: number;
  value?: number | null;
  unit?: Unit;
  reason?: string;
  error?: { id: string; message: string };
  /**
   * For lasting conditions (above-max, below-min, too-rapid, measurement-failed, fail-safe,
   * scale-failed, dyno-limit, scale-down-held-busy):
   * `started` when it begins, `repeated` at most every `repeatAfterMinutes` while it lasts,
   * `resolved` once when it ends. Absent for one-off events (measurement, scale).
   */
  phase?: "started" | "repeated" | "resolved";
  /** The recent readings that led here, oldest first (for "why" in emails and webhooks). */
  readings?: Array<{ at: string; value: number | null }>;
  /** What an admin can do about it, when there is something (e.g. "raise maxProcesses"). */
  advice?: string;
  /** For pause and manual-scale: until when the process is held (ISO 8601), when that is known. */
  until?: string;
  /** For pause and resume: who asked (`cli`, `api`), or `expired` for a pause that ended by itself. */
  by?: string;
}
