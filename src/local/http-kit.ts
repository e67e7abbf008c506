/**
 * What the local stand-ins (the Heroku API, Resend, a webhook) share: recording the requests
 * they receive, answering with a body of known length, latency that closing cuts short, and a
 * server shell that keeps an unexpected error from going unanswered.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { REDACTED } from "../kit/redact.js";
import { close, readBody } from "./listen.js";

/** A request as a stand-in received it, for tests and the demo to read. */
export interface RecordedRequest {
  method: string;
  /** The path and query the request was sent to. */
  path: string;
  /** Lower-case header names; `authorization` is always "[redacted]". */
  headers: Record<string, string | undefined>;
  /** Parsed JSON, the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
}

/** What a stand-in that records its requests offers a test, besides its own controls. */
export interface RecordingStandIn {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  /** Every request received, Authorization redacted. */
  received: RecordedRequest[];
  /** Delays every answer, to test timeouts. */
  setLatency(ms: number): void;
  /** Stops at once, dropping delayed answers; closing twice is harmless. */
  close(): Promise<void>;
}

/** The request's path, without its query. */
export const pathOf = (request: IncomingMessage): string =>
  new URL(request.url ?? "/", "http://localhost").pathname;

export function recordRequest(request: IncomingMessage, bodyText: string): RecordedRequest {
  return {
    method: request.method ?? "GET",
    path: request.url ?? "/",
    headers: recordHeaders(request.headers),
    body: recordBody(bodyText),
  };
}

/** Headers as one string each (repeated ones joined), Authorization redacted. */
export function recordHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const recorded: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    recorded[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  if (recorded.authorization !== undefined) recorded.authorization = REDACTED;
  return recorded;
}

/** Parsed JSON, the raw text when it is not JSON, or undefined when empty. */
export function recordBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Answers `text` with its Content-Type and Content-Length, then any further headers. */
export function sendText(
  response: ServerResponse,
  status: number,
  text: string,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    "Content-Type": contentType,
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

/** Throws unless `status` is an integer from `min` to 599 (for `failNext` and the like). */
export function checkStatus(what: string, status: number, min: number): void {
  if (!Number.isInteger(status) || status < min || status > 599) {
    throw new Error(`${what}: status must be ${min}-599, got ${status}`);
  }
}

export interface RecordingServerOptions {
  /** Names the stand-in in the log of an unexpected error. */
  name: string;
  /** Every request is appended here, Authorization redacted, before it is answered. */
  recorded: RecordedRequest[];
  /** Answers one request, given its body as text. */
  answer(request: IncomingMessage, response: ServerResponse, bodyText: string): Promise<void>;
  /** Answers an unexpected error, when nothing was sent yet. */
  answerError(response: ServerResponse): void;
}

export interface RecordingServer {
  server: Server;
  /** Waits `ms` (not at all when 0); closing cuts the wait short, so no timer outlives the server. */
  delay(ms: number): Promise<void>;
  /** Stops at once, dropping delayed answers; closing twice is harmless. */
  close(): Promise<void>;
}

/**
 * A stand-in's server: reads and records each request, then answers it. An error nobody is left
 * to hear (closing, or the client went away) is dropped; any other is logged and answered.
 */
export function recordingServer(options: RecordingServerOptions): RecordingServer {
  const closing = new AbortController();
  const server = createServer((request, response) => {
    void (async () => {
      try {
        const bodyText = await readBody(request);
        options.recorded.push(recordRequest(request, bodyText));
        await options.answer(request, response, bodyText);
      } catch (error) {
        if (closing.signal.aborted || response.destroyed) return;
        console.error(`${options.name}: unexpected error`, error);
        if (!response.headersSent) options.answerError(response);
      }
    })();
  });
  return {
    server,
    async delay(ms) {
      if (ms > 0) await sleep(ms, undefined, { signal: closing.signal });
    },
    async close() {
      if (closing.signal.aborted) return;
      closing.abort();
      await close(server);
    },
  };
}
