import { z } from "zod";
import { ConsoleNotifier } from "./console.js";
import { integer } from "../config/fields.js";
import { eventKinds } from "./events.js";
import { LogNotifier } from "./log.js";
import { MemoryNotifier } from "./memory.js";
import { tooRapidFields } from "./rules.js";
import type { Notifier } from "./types.js";

export const notifierNames = ["console", "log", "memory"] as const;
export type NotifierName = (typeof notifierNames)[number];

export const notificationSchema = z
  .strictObject({
    backends: z.array(z.enum(notifierNames)).default(["console"]),
    /** The seed turned on only above-max; scale and scale-failed are on too, since a silent refusal or scale surprises admins. */
    notifyOn: z.array(z.enum(eventKinds)).default(["scale", "above-max", "scale-failed"]),
    timeoutMs: z.int().min(1).max(20_000).default(5000),
    /** A lasting condition (e.g. above-max) is sent again at most this often while it lasts. */
    repeatAfterMinutes: integer(1, 10_080).default(60),
    ...tooRapidFields,
  })
  .superRefine((config, ctx) => {
    if ((config.scaleDiffThreshold === undefined) !== (config.scaleDiffPeriodMinutes === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [config.scaleDiffThreshold === undefined ? "scaleDiffThreshold" : "scaleDiffPeriodMinutes"],
        message: "scaleDiffThreshold and scaleDiffPeriodMinutes go together",
      });
    }
  });
export type NotificationConfig = z.infer<typeof notificationSchema>;

/** Notifier instances by name; a tick may be handed its own (tests read a MemoryNotifier). */
export type Notifiers = Record<NotifierName, Notifier>;

export function createNotifiers(overrides: Partial<Notifiers> = {}): Notifiers {
  return {
    console: new ConsoleNotifier(),
    log: new LogNotifier(),
    memory: new MemoryNotifier(),
    ...overrides,
  };
}
