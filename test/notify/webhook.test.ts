import { createServer } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { close, listen } from "../../src/local/listen.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../src/local/webhook-receiver.js";
import type { AutoscaleEvent } from "../../src/notify/events.js";
import {
  escapeSlack,
  SLACK_MAX_BLOCKS,
  SLACK_MAX_HEADER,
  SLACK_MAX_SECTION,
  slackMessage,
  truncateSlack,
  WebhookNotifier,
  webhookNotifierSchema,
  type JsonWebhookBody,
  type SlackWebhookBody,
  type WebhookNotifierConfig,
} from "../../src/notify/webhook.js";

/** The URL of a port nobody listens on (a port just freed, not one fetch refuses such as 1). */
async function closedUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await close(server);
  return url;
}

const SECRET_PATH = "/services/T0000/B0000/XXXXsecretXXXX";

let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(() => receiver.close());
beforeEach(() => {
  receiver.received.length = 0;
  receiver.respondWith(200);
  receiver.setLatency(0);
});

const config = (overrides: Record<string, unknown> = {}): WebhookNotifierConfig =>
  webhookNotifierSchema.parse({ backend: "webhook", url: `${receiver.url}/hook`, ...overrides });
const signal = () => AbortSignal.timeout(5000);
const failure = (promise: Promise<void>) =>
  promise.then(
    () => {
      throw new Error("expected the send to fail");
    },
    (error: unknown) => error as Error,
  );

const aboveMax: AutoscaleEvent = {
  kind: "above-max",
  phase: "started",
  process: "web",
  tickId: "tick-9",
  at: "2024-05-01T12:03:00.000Z",
  message: "needs more than the maximum of 3 processes",
  to: 3,
  value: 480,
  unit: "ms",
  reason: "3 of 3 readings above 300 ms",
  readings: [
    { at: "2024-05-01T12:02:00.000Z", value: 450 },
    { at: "2024-05-01T12:03:00.000Z", value: 480 },
  ],
  advice: "raise maxProcesses",
};

describe("webhookNotifierSchema", () => {
  it("defaults to JSON", () => {
    expect(config()).toEqual({ backend: "webhook", url: `${receiver.url}/hook`, format: "json" });
  });

  it("takes urlEnv instead of url", () => {
    expect(webhookNotifierSchema.parse({ backend: "webhook", urlEnv: "SLACK_URL", format: "slack" })).toEqual(
      {
        backend: "webhook",
        urlEnv: "SLACK_URL",
        format: "slack",
      },
    );
  });

  it.each([
    [{}, /exactly one of url and urlEnv/],
    [{ url: "https://example.com/x", urlEnv: "X" }, /exactly one of url and urlEnv/],
    [{ url: "ftp://example.com" }, /http\(s\) URL/],
    [{ urlEnv: "not a name" }, /environment variable name/],
    [{ url: "https://example.com", format: "xml" }, /./],
    [{ url: "https://example.com", headers: { "bad name": "x" } }, /header name/],
    [{ url: "https://example.com", headers: { "X-A": "a\r\nX-B: b" } }, /line breaks/],
    [{ url: "https://example.com", extra: 1 }, /extra/],
  ])("refuses %j", (fields, message) => {
    const result = webhookNotifierSchema.safeParse({ backend: "webhook", ...fields });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error!.issues)).toMatch(message);
  });
});

describe("WebhookNotifier, JSON format", () => {
  it("POSTs the events and a text rendering, with the configured headers", async () => {
    await new WebhookNotifier(config({ headers: { "X-Team": "ops", Authorization: "Bearer abc" } }), {}).send(
      [aboveMax],
      signal(),
    );
    expect(receiver.received).toHaveLength(1);
    const request = receiver.received[0]!;
    expect(request).toMatchObject({ method: "POST", path: "/hook" });
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.headers["x-team"]).toBe("ops");
    expect(request.headers.authorization).toBe("[redacted]");
    const body = request.body as JsonWebhookBody;
    expect(body.events).toEqual([aboveMax]);
    expect(body.text).toContain("web: needs more than 3 processes (above-max)");
    expect(body.text).toContain("Why: 3 of 3 readings above 300 ms");
    expect(body.text).toContain("12:03:00  480 ms");
    expect(body.text).toContain("What to do: raise maxProcesses");
  });

  it("sends nothing for no events", async () => {
    await new WebhookNotifier(config(), {}).send([], signal());
    expect(receiver.received).toHaveLength(0);
  });

  it("reads the URL from the variable urlEnv names", async () => {
    const notifier = new WebhookNotifier(config({ url: undefined, urlEnv: "HOOK_URL" }), {
      HOOK_URL: `${receiver.url}${SECRET_PATH}`,
    });
    await notifier.send([aboveMax], signal());
    expect(receiver.received[0]!.path).toBe(SECRET_PATH);
  });
});

describe("WebhookNotifier, Slack format", () => {
  const slack = () => config({ format: "slack" });
  const received = () => receiver.received.at(-1)!.body as SlackWebhookBody;

  it("POSTs text and blocks: header, a section per event, the tick", async () => {
    await new WebhookNotifier(slack(), {}).send([aboveMax], signal());
    const body = received();
    expect(body.text).toBe("autoscalebot: web: needs more than 3 processes (above-max)");
    expect(body.blocks.map((b) => b.type)).toEqual(["header", "section", "context"]);
    expect(body.blocks[0]).toEqual({
      type: "header",
      text: { type: "plain_text", text: "autoscalebot: web: needs more than 3 processes (above-max)" },
    });
    expect(body.blocks[1]).toEqual({
      type: "section",
      text: {
        type: "mrkdwn",
        text: [
          "*web: needs more than 3 processes (above-max)*",
          "needs more than the maximum of 3 processes",
          "*Why:* 3 of 3 readings above 300 ms",
          "*Recent readings* (oldest first): `12:02:00` 450 ms · `12:03:00` 480 ms",
          "*What to do:* raise maxProcesses",
        ].join("\n"),
      },
    });
    expect(body.blocks[2]).toEqual({
      type: "context",
      elements: [{ type: "mrkdwn", text: "tick tick-9 at 2024-05-01T12:03:00.000Z" }],
    });
  });

  it("escapes &, < and > so values cannot mention or link", async () => {
    await new WebhookNotifier(slack(), {}).send(
      [{ ...aboveMax, reason: "<!channel> & <https://evil.example|click>", advice: "a > b" }],
      signal(),
    );
    const text = JSON.stringify(received());
    expect(text).not.toContain("<!channel>");
    expect(text).not.toContain("<https://");
    expect(text).toContain("&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;");
    expect(text).toContain("a &gt; b");
  });

  it("keeps within Slack's limits: 50 blocks, 3000 characters a section, 150 a header", async () => {
    const long = "<&>".repeat(2000);
    const many = Array.from({ length: 120 }, (_, i) => ({ ...aboveMax, process: `p${i}`, reason: long }));
    await new WebhookNotifier(slack(), {}).send(many, signal());
    const body = received();
    expect(body.blocks).toHaveLength(SLACK_MAX_BLOCKS);
    const sections = body.blocks.filter((b) => b.type === "section");
    for (const block of sections) {
      expect(block.text.text.length).toBeLessThanOrEqual(SLACK_MAX_SECTION);
      expect(block.text.text).not.toMatch(/&[a-z]{0,3}…$/);
    }
    expect(sections.at(-1)!.text.text).toBe("…and 73 more events (see the logs).");
    const header = body.blocks[0]!;
    expect(header.type === "header" && header.text.text.length).toBeLessThanOrEqual(SLACK_MAX_HEADER);
  });

  it("fits exactly 48 events without dropping any", () => {
    const events = Array.from({ length: 48 }, (_, i) => ({ ...aboveMax, process: `p${i}` }));
    const { blocks } = slackMessage(events);
    expect(blocks).toHaveLength(SLACK_MAX_BLOCKS);
    expect(JSON.stringify(blocks)).not.toContain("more events");
  });

  it("truncates without cutting an entity or a surrogate pair", () => {
    expect(escapeSlack("a<b>&c")).toBe("a&lt;b&gt;&amp;c");
    expect(truncateSlack("abc&amp;def", 7)).toBe("abc…");
    expect(truncateSlack("abc&amp;def", 9)).toBe("abc&amp;…");
    expect(truncateSlack("abc&amp;def", 10)).toBe("abc&amp;d…");
    expect(truncateSlack("ab😀cd", 4)).toBe("ab…");
    expect(truncateSlack("short", 10)).toBe("short");
  });
});

describe("WebhookNotifier errors", () => {
  it("reports a non-2xx with the status and a body excerpt, never the path or query", async () => {
    receiver.respondWith(404, `no_service for ${SECRET_PATH}?token=abc`);
    const error = await failure(
      new WebhookNotifier(config({ url: `${receiver.url}${SECRET_PATH}?token=abc` }), {}).send(
        [aboveMax],
        signal(),
      ),
    );
    expect(error.message).toBe(
      `webhook ${receiver.url}/… answered HTTP 404: no_service for [redacted][redacted]`,
    );
    expect(error.message).not.toContain("secret");
    expect(error.message).not.toContain("token");
  });

  it("never shows a URL from urlEnv, only the variable's name", async () => {
    receiver.respondWith(500, "internal");
    const error = await failure(
      new WebhookNotifier(config({ url: undefined, urlEnv: "SLACK_URL" }), {
        SLACK_URL: `${receiver.url}${SECRET_PATH}`,
      }).send([aboveMax], signal()),
    );
    expect(error.message).toBe("webhook (URL from SLACK_URL) answered HTTP 500: internal");
    expect(error.message).not.toContain(receiver.url);
  });

  it("shortens a long error body", async () => {
    receiver.respondWith(400, "x".repeat(5000));
    const error = await failure(new WebhookNotifier(config(), {}).send([aboveMax], signal()));
    expect(error.message.length).toBeLessThan(300);
    expect(error.message).toMatch(/answered HTTP 400: x+…$/);
  });

  it("treats a redirect as an error rather than following it", async () => {
    receiver.respondWith(302);
    const error = await failure(new WebhookNotifier(config(), {}).send([aboveMax], signal()));
    expect(error.message).toMatch(/answered HTTP 302/);
    expect(receiver.received).toHaveLength(1);
  });

  it("names a missing or malformed urlEnv variable without its value", async () => {
    const notifier = (value: string | undefined) =>
      new WebhookNotifier(config({ url: undefined, urlEnv: "SLACK_URL" }), { SLACK_URL: value });
    await expect(notifier(undefined).send([aboveMax], signal())).rejects.toThrow(
      "webhook: environment variable SLACK_URL (the webhook URL) is not set",
    );
    const error = await failure(
      notifier("hooks.slack.com/services/XXXXsecretXXXX").send([aboveMax], signal()),
    );
    expect(error.message).toBe("webhook: environment variable SLACK_URL is not an http(s) URL");
  });

  it("reports an unreachable endpoint without the path", async () => {
    const closed = await closedUrl();
    const error = await failure(
      new WebhookNotifier(config({ url: `${closed}${SECRET_PATH}` }), {}).send([aboveMax], signal()),
    );
    expect(error.message).toBe(`webhook ${closed}/…: fetch failed (ECONNREFUSED)`);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).not.toContain("secret");
  });

  it("gives up at the caller's deadline", async () => {
    receiver.setLatency(5000);
    const started = Date.now();
    const error = await failure(new WebhookNotifier(config(), {}).send([aboveMax], AbortSignal.timeout(150)));
    expect(error.message).toBe(`webhook ${receiver.url}/…: timed out`);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("gives up at its own timeoutMs when that comes first", async () => {
    receiver.setLatency(5000);
    const started = Date.now();
    const error = await failure(
      new WebhookNotifier(config({ timeoutMs: 100 }), {}).send([aboveMax], signal()),
    );
    expect(error.message).toMatch(/timed out$/);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
