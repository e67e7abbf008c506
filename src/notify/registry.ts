import { z } from "zod";
import { integer } from "../kit/fields.js";
import { ConsoleNotifier } from "./console.js";
import { backendRegistry, type AnySchema } from "../kit/registry.js";
import type { Env } from "../kit/env.js";
import { email } from "./email.js";
import { eventKinds } from "./events.js";
import { LogNotifier } from "./log.js";
import { MemoryNotifier } from "./memory.js";
import { tooRapidFields } from "./rules.js";
import type { Notifier, NotifierBackend } from "./types.js";
import { webhook } from "./webhook.js";

/** Backends without settings, named by a word: one shared instance each per tick. */
export const notifierNames = ["console", "log", "memory"] as const;
export type NotifierName = (typeof notifierNames)[number];

/** Every backend with settings: a new one is a file exporting its descriptor, and a line here. */
const configured = backendRegistry([email, webhook]);

/** `"a", "b" or "c"`. */
const oneOf = (names: readonly string[]) =>
  names
    .map((n) => JSON.stringify(n))
    .join(", ")
    .replace(/, ([^,]*)$/, " or $1");

/** A backend: a word, or an object with its settings. */
const notifierSpecSchema = z.union(
  [
    z
      .enum(notifierNames)
      .describe(
        "A backend without settings: console (a readable line per event), log (a JSON object per line, for log drains) or memory (kept in memory, for tests).",
      ),
    configured.schema,
  ],
  {
    error: `expected ${notifierNames.map((n) => JSON.stringify(n)).join(", ")}, or an object with backend ${oneOf(configured.names)}`,
  },
);
export type NotifierSpec = z.infer<typeof notifierSpecSchema>;

export const notificationSchema = z
  .strictObject({
    backends: z
      .array(notifierSpecSchema)
      .default(["console"])
      .describe(
        'Where to send: "console" (a line per event), "log" (JSON lines), "memory" (tests), or an email or webhook backend\'s settings.',
      ),
    /** The seed turned on only above-max; scale, scale-failed and dyno-limit are on too, since a silent refusal, cap or scale surprises admins. */
    notifyOn: z
      .array(z.enum(eventKinds))
      .default(["scale", "above-max", "scale-failed", "pause", "resume", "manual-scale", "dyno-limit"])
      .describe("Which events to send."),
    timeoutMs: z
      .int()
      .min(1)
      .max(20_000)
      .default(5000)
      .describe(
        "How long one send may take, in milliseconds; a failing or hung backend is a warning in the report, never a failed tick.",
      ),
    repeatAfterMinutes: integer(1, 10_080)
      .default(60)
      .describe(
        "A lasting condition (e.g. above-max) is sent again at most this often while it lasts, in minutes.",
      ),
    resolveAfterMinutes: integer(0, 1440)
      .default(5)
      .describe(
        "Minutes a load condition must stay away before it is resolved (0: at the first tick without it); failures resolve at the first success.",
      ),
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

/** The shared instances of the word-named backends; a tick may be handed its own (tests read a MemoryNotifier). */
export type Notifiers = Record<NotifierName, Notifier>;

export function notifierFor(spec: NotifierSpec, shared: Notifiers, env: Env): Notifier {
  if (typeof spec === "string") return shared[spec];
  // The discriminated union guarantees a spec matches the descriptor its `backend` names.
  const backend: NotifierBackend<AnySchema> = configured.of(spec);
  return backend.create(spec, env);
}

export const notifierLabel = (spec: NotifierSpec): string => (typeof spec === "string" ? spec : spec.backend);

export function createNotifiers(overrides: Partial<Notifiers> = {}): Notifiers {
  return {
    console: new ConsoleNotifier(),
    log: new LogNotifier(),
    memory: new MemoryNotifier(),
    ...overrides,
  };
}
