/**
 * A local endpoint that stands in for a webhook (one's own, or Slack's incoming webhooks): it records what
 * is POSTed and answers as told, so tests and the demo can read exactly what a notifier sent.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { close, listen, readBody } from "./listen.js";

export interface ReceivedWebhook {
  method: string;
  /** The path and query the request was sent to. */
  path: string;
  /** Lower-case header names; `authorization` is always "[redacted]". */
  headers: Record<string, string | undefined>;
  /** Parsed JSON, the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
}

export interface WebhookReceiver {
  /** Base URL, e.g. http://127.0.0.1:PORT; any path under it is accepted. */
  url: string;
  received: ReceivedWebhook[];
  /** Answers every later request with this status and body (Slack answers 200 "ok"), until changed. */
  respondWith(status: number, body?: string): void;
  /** Delays every answer, to test timeouts. */
  setLatency(ms: number): void;
  /** Stops at once, dropping delayed answers; closing twice is harmless. */
  close(): Promise<void>;
}

export async function startWebhookReceiver(options: { port?: number } = {}): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let answer = { status: 200, body: "ok" };
  let latencyMs = 0;
  const closing = new AbortController();

  const server = createServer((request, response) => {
    void (async () => {
      try {
        const text = await readBody(request);
        received.push({
          method: request.method ?? "GET",
          path: request.url ?? "/",
          headers: recordHeaders(request.headers),
          body: parse(text),
        });
        if (latencyMs > 0) await sleep(latencyMs, undefined, { signal: closing.signal });
        send(response, answer.status, answer.body);
      } catch (error) {
        if (closing.signal.aborted || response.destroyed) return;
        console.error("webhook-receiver: unexpected error", error);
        if (!response.headersSent) send(response, 500, "internal error");
      }
    })();
  });
  const url = await listen(server, options.port);

  return {
    url,
    received,
    respondWith(status, body) {
      if (!Number.isInteger(status) || status < 200 || status > 599) {
        throw new Error(`respondWith: status must be 200-599, got ${status}`);
      }
      // 204 and 304 carry no body by definition.
      const empty = status === 204 || status === 304;
      answer = { status, body: empty ? "" : (body ?? (status < 300 ? "ok" : `HTTP ${status}`)) };
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    async close() {
      if (closing.signal.aborted) return;
      closing.abort();
      await close(server);
    },
  };
}

function send(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
  });
  response.end(body);
}

function recordHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const recorded: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    recorded[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  if (recorded.authorization !== undefined) recorded.authorization = "[redacted]";
  return recorded;
}

function parse(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
