/**
 * A local endpoint that stands in for a webhook (one's own, or Slack's incoming webhooks): it records what
 * is POSTed and answers as told, so tests and the demo can read exactly what a notifier sent.
 */
import type { ServerResponse } from "node:http";
import {
  checkStatus,
  recordingServer,
  sendText,
  type RecordedRequest,
  type RecordingStandIn,
} from "./http-kit.js";
import { listen } from "./listen.js";

/** A request the receiver got; `path` is the path and query it was sent to. */
export type ReceivedWebhook = RecordedRequest;

/** Any path under its `url` is accepted. */
export interface WebhookReceiver extends RecordingStandIn {
  /** Answers every later request with this status and body (Slack answers 200 "ok"), until changed. */
  respondWith(status: number, body?: string): void;
}

export async function startWebhookReceiver(options: { port?: number } = {}): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let answer = { status: 200, body: "ok" };
  let latencyMs = 0;

  const stand = recordingServer({
    name: "webhook-receiver",
    recorded: received,
    async answer(_request, response) {
      await stand.delay(latencyMs);
      send(response, answer.status, answer.body);
    },
    answerError: (response) => send(response, 500, "internal error"),
  });
  const url = await listen(stand.server, options.port);

  return {
    url,
    received,
    respondWith(status, body) {
      checkStatus("respondWith", status, 200);
      // 204 and 304 carry no body by definition.
      const empty = status === 204 || status === 304;
      answer = { status, body: empty ? "" : (body ?? (status < 300 ? "ok" : `HTTP ${status}`)) };
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    close: () => stand.close(),
  };
}

function send(response: ServerResponse, status: number, body: string): void {
  sendText(response, status, body, "text/plain; charset=utf-8");
}
