/**
 * A POST of the events to a URL: as JSON for one's own endpoints, or as a Slack message (incoming
 * webhooks of Slack, and of tools that take Slack's format). Webhook URLs are often the only credential
 * (anyone with a Slack webhook URL can post to the channel), so `urlEnv` names a variable that holds
 * the URL, and errors never show a URL's path or query.
 */
import { z } from "zod";
import { envName, httpHeaders, httpUrl, integer } from "../kit/fields.js";
import { scrub } from "../kit/redact.js";
import { describeFetchError, withTimeout } from "../kit/http.js";
import type { AutoscaleEvent } from "./events.js";
import { byUrgency, describeEvent, renderText, subjectLine, tickLines, type EventView } from "./render.js";
import type { Notifier, NotifierBackend } from "./types.js";
import type { Env } from "../kit/env.js";

export const webhookNotifierSchema = z
  .strictObject({
    backend: z.literal("webhook").describe("A POST of the events to a URL, as JSON or as a Slack message."),
    url: httpUrl.optional().describe("The URL to POST to; set exactly one of url and urlEnv."),
    urlEnv: envName
      .optional()
      .describe("The environment variable holding the URL, for URLs that are secrets (a Slack webhook's)."),
    format: z
      .enum(["json", "slack"])
      .default("json")
      .describe(
        "json: {text, events}; slack: a Slack-compatible {text, blocks} (Slack and Discord accept it).",
      ),
    headers: httpHeaders
      .optional()
      .describe(
        "Extra request headers, e.g. an Authorization; values are redacted whenever the config is printed.",
      ),
    // The caller's deadline (notification.timeoutMs) applies in any case.
    timeoutMs: integer(1, 60_000)
      .optional()
      .describe("How long a send may take, in milliseconds, if shorter than notification.timeoutMs."),
  })
  .refine((config) => (config.url === undefined) !== (config.urlEnv === undefined), {
    error: "set exactly one of url and urlEnv (urlEnv names a variable holding a secret URL)",
    path: ["url"],
  });
export type WebhookNotifierConfig = z.infer<typeof webhookNotifierSchema>;

/** Characters of a response body quoted in an error: enough for "invalid_payload" or a short JSON error. */
const EXCERPT_CHARS = 200;

export class WebhookNotifier implements Notifier {
  readonly name = "webhook";

  constructor(
    private readonly config: WebhookNotifierConfig,
    private readonly env: Env,
  ) {}

  async send(events: readonly AutoscaleEvent[], signal: AbortSignal): Promise<void> {
    if (events.length === 0) return;
    const { url, where } = this.target();
    const body = this.config.format === "slack" ? slackMessage(events) : jsonMessage(events);
    const deadline =
      this.config.timeoutMs === undefined ? signal : withTimeout(signal, this.config.timeoutMs);
    const headers = new Headers({ "content-type": "application/json", "user-agent": "autoscalebot" });
    for (const [name, value] of Object.entries(this.config.headers ?? {})) headers.set(name, value);
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        signal: deadline,
        // A redirected POST would be re-sent as a GET elsewhere; a moved webhook is an error to fix.
        redirect: "manual",
      });
    } catch (error) {
      // No `cause`: a logged cause could quote the URL, which may be the secret.
      // eslint-disable-next-line preserve-caught-error
      throw new Error(`webhook ${where}: ${scrubUrl(describeFetchError(error), url)}`);
    }
    if (response.ok) {
      await response.body?.cancel();
      return;
    }
    const excerpt = scrubUrl(await readExcerpt(response), url);
    throw new Error(`webhook ${where} answered HTTP ${response.status}${excerpt ? `: ${excerpt}` : ""}`);
  }

  /** The URL to post to, and how errors name it: the variable, or the origin only. */
  private target(): { url: URL; where: string } {
    const { url, urlEnv } = this.config;
    if (urlEnv !== undefined) {
      const value = this.env[urlEnv];
      if (!value) throw new Error(`webhook: environment variable ${urlEnv} (the webhook URL) is not set`);
      // The value is a secret: the error says what is wrong, never what it is.
      if (!httpUrl.safeParse(value).success)
        throw new Error(`webhook: environment variable ${urlEnv} is not an http(s) URL`);
      return { url: new URL(value), where: `(URL from ${urlEnv})` };
    }
    const parsed = new URL(url!);
    return { url: parsed, where: `${parsed.origin}/…` };
  }
}

/** Takes out the URL, its path and its query wherever a message might repeat them. */
function scrubUrl(text: string, url: URL): string {
  return scrub(text, [url.href, url.pathname, url.search]);
}

async function readExcerpt(response: Response): Promise<string> {
  try {
    const text = (await response.text()).replace(/\s+/g, " ").trim();
    return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
  } catch {
    return ""; // The deadline passed while reading; the status says enough.
  }
}

export interface JsonWebhookBody {
  /** The plain-text rendering, for endpoints that only show text. */
  text: string;
  events: AutoscaleEvent[];
}

export function jsonMessage(events: readonly AutoscaleEvent[]): JsonWebhookBody {
  return { text: renderText(events), events: [...events] };
}

// Slack's limits (https://docs.slack.dev/reference/block-kit/blocks): beyond them Slack refuses the whole message.
export const SLACK_MAX_BLOCKS = 50;
export const SLACK_MAX_SECTION = 3000;
export const SLACK_MAX_HEADER = 150;

type SlackText = { type: "mrkdwn" | "plain_text"; text: string };
export type SlackBlock =
  | { type: "header"; text: SlackText & { type: "plain_text" } }
  | { type: "section"; text: SlackText & { type: "mrkdwn" } }
  | { type: "context"; elements: Array<SlackText & { type: "mrkdwn" }> };

export interface SlackWebhookBody {
  /** The notification text (and what clients without blocks show). */
  text: string;
  blocks: SlackBlock[];
}

/** Slack's required escaping: `&`, `<` and `>` only, so `<!channel>` or `<url|text>` in a value stays text. */
export function escapeSlack(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Shortens escaped text to `max` characters without cutting an entity or a surrogate pair in two. */
export function truncateSlack(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1).replace(/&[a-z]{0,3}$/, "");
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

function slackSection(v: EventView): string {
  const lines = [`*${escapeSlack(v.headline)}*`, escapeSlack(v.what)];
  if (v.why) lines.push(`*Why:* ${escapeSlack(v.why)}`);
  if (v.error) lines.push(`*Error:* ${escapeSlack(v.error)}`);
  if (v.value) lines.push(`*Value:* ${escapeSlack(v.value)}`);
  if (v.readings.length > 0) {
    const older = v.omittedReadings > 0 ? `, ${v.omittedReadings} older not shown` : "";
    const list = v.readings.map((r) => `\`${escapeSlack(r.at)}\` ${escapeSlack(r.value)}`).join(" · ");
    lines.push(`*Recent readings* (oldest first${older}): ${list}`);
  }
  if (v.advice) lines.push(`*What to do:* ${escapeSlack(v.advice)}`);
  return lines.join("\n");
}

const section = (text: string): SlackBlock => ({
  type: "section",
  text: { type: "mrkdwn", text: truncateSlack(text, SLACK_MAX_SECTION) },
});

export function slackMessage(events: readonly AutoscaleEvent[]): SlackWebhookBody {
  const summary = escapeSlack(subjectLine(events, "autoscalebot:"));
  const sections = byUrgency(events).map((event) => section(slackSection(describeEvent(event))));
  // The header and the context take two blocks; when events overflow, one more says how many were left out.
  const room = SLACK_MAX_BLOCKS - 2;
  if (sections.length > room) {
    const left = sections.length - (room - 1);
    sections.splice(room - 1, Infinity, section(`…and ${left} more events (see the logs).`));
  }
  return {
    text: truncateSlack(summary, SLACK_MAX_SECTION),
    blocks: [
      { type: "header", text: { type: "plain_text", text: truncateSlack(summary, SLACK_MAX_HEADER) } },
      ...sections,
      {
        type: "context",
        elements: [{ type: "mrkdwn", text: truncateSlack(escapeSlack(tickLines(events).join("\n")), 2000) }],
      },
    ],
  };
}

/** The `webhook` backend's descriptor, listed in ./registry.ts. */
export const webhook: NotifierBackend<typeof webhookNotifierSchema> = {
  schema: webhookNotifierSchema,
  create: (config, env) => new WebhookNotifier(config, env),
};
