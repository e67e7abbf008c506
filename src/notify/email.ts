/**
 * Email through Resend (https://resend.com/docs/api-reference/emails/send-email), with the official SDK.
 * One email per send, however many events it carries. The API key is read from the environment by name.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { envName } from "../kit/fields.js";
import { scrub } from "../kit/redact.js";
import type { AutoscaleEvent } from "./events.js";
import { renderMessage } from "./render.js";
import type { Notifier, NotifierBackend } from "./types.js";
import type { Env } from "../kit/env.js";

/** The SDK's own default, passed explicitly: otherwise the SDK would read process.env, not the injected env. */
const RESEND_DEFAULT_BASE_URL = "https://api.resend.com";
/** Resend's limit on recipients of one email. */
const MAX_RECIPIENTS = 50;

const address = z.email({ error: "expected an email address" });
/** "a@b.example" or "Name <a@b.example>", the two forms Resend accepts for `from`. */
const sender = z.string().refine(
  (value) => {
    const named = /^[^<>]*<([^<>]+)>$/.exec(value.trim());
    return address.safeParse(named ? named[1] : value.trim()).success;
  },
  { error: 'expected "a@example.com" or "Name <a@example.com>"' },
);

export const emailNotifierSchema = z.strictObject({
  backend: z
    .literal("email")
    .describe("One email per tick and process through Resend: what happened, why and what to do."),
  from: sender.describe('The sender: "a@example.com" or "Name <a@example.com>".'),
  to: z
    .union([address, z.array(address).min(1).max(MAX_RECIPIENTS)])
    .describe("The recipient's address, or a list of them."),
  subjectPrefix: z.string().default("[autoscalebot]").describe("Written before every subject."),
  apiKeyEnv: envName
    .default("RESEND_API_KEY")
    .describe("The environment variable holding the Resend API key."),
});
export type EmailNotifierConfig = z.infer<typeof emailNotifierSchema>;

export class EmailNotifier implements Notifier {
  readonly name = "email";

  constructor(
    private readonly config: EmailNotifierConfig,
    private readonly env: Env,
  ) {}

  async send(events: readonly AutoscaleEvent[], signal: AbortSignal): Promise<void> {
    if (events.length === 0) return;
    const key = this.env[this.config.apiKeyEnv];
    // Checked here, not in the constructor, so a missing key is a failed send (a warning), not a failed tick.
    if (!key)
      throw new Error(`email: environment variable ${this.config.apiKeyEnv} (the Resend API key) is not set`);
    if (signal.aborted) throw abortError(signal);

    // Loaded at the first email, not with this module: a tick that sends none never pays for the SDK.
    const { Resend } = await import("resend");
    const baseUrl = (this.env.RESEND_BASE_URL || RESEND_DEFAULT_BASE_URL).replace(/\/+$/, "");
    const resend = new Resend(key, { baseUrl });
    const message = renderMessage(events, this.config.subjectPrefix);
    const payload = {
      from: this.config.from,
      to: typeof this.config.to === "string" ? [this.config.to] : this.config.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
    };
    // The same message from a retried tick is sent once: Resend keeps idempotency keys for 24 hours.
    const idempotencyKey = `autoscalebot-${createHash("sha256").update(JSON.stringify(payload)).digest("hex").slice(0, 40)}`;

    // The SDK hands the signal to fetch, but turns an abort into an ordinary error result; the race
    // also covers anything in the SDK that would not listen to the signal.
    const result = await abortable(resend.emails.send(payload, { signal, idempotencyKey }), signal);
    if (signal.aborted) throw abortError(signal);
    if (result.error) {
      const { name, statusCode, message: text } = result.error;
      const status = statusCode === null ? "" : ` (HTTP ${statusCode})`;
      // Resend's messages do not echo the key, but nothing printed may carry it.
      throw new Error(scrub(`email via Resend failed: ${name}${status}: ${text}`, [key]));
    }
  }
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  const timedOut = reason instanceof Error && reason.name === "TimeoutError";
  return new Error(`email: Resend did not answer ${timedOut ? "in time" : "before the send was cancelled"}`, {
    cause: reason,
  });
}

/** Settles with the promise, or rejects as soon as the signal aborts, so a hung request cannot hold the tick. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** The `email` backend's descriptor, listed in ./registry.ts. */
export const email: NotifierBackend<typeof emailNotifierSchema> = {
  schema: emailNotifierSchema,
  create: (config, env) => new EmailNotifier(config, env),
};
