/**
 * A local HTTP server that follows Resend's API contract for sending email
 * (https://resend.com/docs/api-reference/emails/send-email, errors as in
 * https://resend.com/docs/api-reference/errors), so the real `resend` SDK, the tests and the demo talk to it
 * as they would to api.resend.com. It sends nothing: it records what it was asked to send.
 */
import { randomUUID } from "node:crypto";
import { STATUS_CODES, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import {
  checkStatus,
  pathOf,
  recordingServer,
  sendText,
  type RecordedRequest,
  type RecordingStandIn,
} from "./http-kit.js";
import { listen } from "./listen.js";

export interface ResendApiOptions {
  apiKey: string;
  port?: number;
}

export type ReceivedRequest = RecordedRequest;

/** Resend's error body; `statusCode` repeats the HTTP status. */
export interface ResendErrorBody {
  statusCode: number;
  name: string;
  message: string;
}

/** Its `url` is the base URL for `new Resend(key, { baseUrl })` or RESEND_BASE_URL. */
export interface ResendApiServer extends RecordingStandIn {
  /** The next request is answered with this status and body (a Resend error for the status by default; a string is sent as is). */
  failNext(status: number, body?: unknown): void;
}

const ERRORS: Record<number, Omit<ResendErrorBody, "statusCode">> = {
  400: { name: "validation_error", message: "We found an error with one or more fields in the request." },
  401: { name: "missing_api_key", message: "Missing API key in the authorization header." },
  403: { name: "invalid_api_key", message: "API key is invalid." },
  404: { name: "not_found", message: "The requested endpoint does not exist." },
  405: { name: "method_not_allowed", message: "Method is not allowed for the requested path." },
  409: {
    name: "invalid_idempotent_request",
    message: "Same idempotency key used with a different request payload.",
  },
  422: { name: "validation_error", message: "We found an error with one or more fields in the request." },
  429: {
    name: "rate_limit_exceeded",
    message: "Too many requests. You can only make 2 requests per second.",
  },
  500: {
    name: "internal_server_error",
    message: "An unexpected error occurred, please try again later.",
  },
};

export function resendError(status: number, name?: string, message?: string): ResendErrorBody {
  const known = ERRORS[status] ?? {
    name: status >= 500 ? "application_error" : "validation_error",
    message: STATUS_CODES[status] ?? "Error",
  };
  return { statusCode: status, name: name ?? known.name, message: message ?? known.message };
}

class ApiError extends Error {
  constructor(readonly body: ResendErrorBody) {
    super(body.name);
  }
}

const fail = (status: number, name?: string, message?: string) =>
  new ApiError(resendError(status, name, message));

/** Resend's own address check is looser than RFC 5322; this one catches what the tests need. */
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const isAddress = (value: string, named: boolean) => {
  const match = named ? /^[^<>]*<([^<>]+)>$/.exec(value.trim()) : null;
  return EMAIL.test(match ? match[1]! : value.trim());
};
const ADDRESS_FORMAT =
  "The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.";
const MAX_RECIPIENTS = 50;

function checkEmail(body: unknown): void {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw fail(422, "validation_error", "The request body must be a JSON object.");
  }
  const email = body as Record<string, unknown>;
  if (email.from === undefined) throw fail(422, "missing_required_field", "Missing `from` field.");
  if (typeof email.from !== "string" || !isAddress(email.from, true)) {
    throw fail(422, "validation_error", `Invalid \`from\` field. ${ADDRESS_FORMAT}`);
  }
  if (email.to === undefined) throw fail(422, "missing_required_field", "Missing `to` field.");
  const to = Array.isArray(email.to) ? (email.to as unknown[]) : [email.to];
  if (to.length === 0 || !to.every((a) => typeof a === "string" && isAddress(a, true))) {
    throw fail(422, "validation_error", `Invalid \`to\` field. ${ADDRESS_FORMAT}`);
  }
  if (to.length > MAX_RECIPIENTS) {
    throw fail(
      422,
      "validation_error",
      `Invalid \`to\` field. Please use at most ${MAX_RECIPIENTS} recipients.`,
    );
  }
  if (email.subject === undefined) throw fail(422, "missing_required_field", "Missing `subject` field.");
  if (typeof email.subject !== "string") throw fail(422, "validation_error", "Invalid `subject` field.");
  for (const field of ["text", "html"] as const) {
    if (email[field] !== undefined && typeof email[field] !== "string") {
      throw fail(422, "validation_error", `Invalid \`${field}\` field.`);
    }
  }
  if (email.text === undefined && email.html === undefined && email.template === undefined) {
    throw fail(422, "missing_required_field", "Missing `html` or `text` field.");
  }
  const headers = email.headers;
  if (
    headers !== undefined &&
    (typeof headers !== "object" ||
      headers === null ||
      Object.values(headers).some((value) => typeof value !== "string"))
  ) {
    throw fail(422, "validation_error", "Invalid `headers` field.");
  }
}

export async function startResendApi(options: ResendApiOptions): Promise<ResendApiServer> {
  if (!options.apiKey) throw new Error("startResendApi: apiKey must not be empty");
  const received: ReceivedRequest[] = [];
  /** Idempotency-Key → the request body and the id answered, as Resend keeps them for 24 hours. */
  const idempotent = new Map<string, { body: string; id: string }>();
  let injected: { status: number; body: unknown } | undefined;
  let latencyMs = 0;

  function checkAuth(authorization: string | undefined): void {
    const [scheme, key] = (authorization ?? "").split(" ", 2);
    if (scheme?.toLowerCase() !== "bearer" || !key) throw fail(401);
    if (key !== options.apiKey) throw fail(403);
  }

  function sendEmail(headers: IncomingHttpHeaders, text: string): { id: string } {
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      throw fail(400, "validation_error", "The request body must be valid JSON.");
    }
    const key = headers["idempotency-key"];
    if (typeof key === "string") {
      if (key.length < 1 || key.length > 256) {
        throw fail(400, "invalid_idempotency_key", "The key must be between 1-256 chars.");
      }
      const earlier = idempotent.get(key);
      // The same request again is answered as the first time, and nothing is sent twice.
      if (earlier) {
        if (earlier.body !== text) throw fail(409);
        return { id: earlier.id };
      }
    }
    checkEmail(body);
    const id = randomUUID();
    if (typeof key === "string") idempotent.set(key, { body: text, id });
    return { id };
  }

  function respond(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    text: string,
  ): [number, unknown] {
    if (injected) {
      const { status, body } = injected;
      injected = undefined;
      return [status, body];
    }
    try {
      checkAuth(headers.authorization);
      if (path !== "/emails") throw fail(404);
      if (method !== "POST") throw fail(405);
      return [200, sendEmail(headers, text)];
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return [error.body.statusCode, error.body];
    }
  }

  const stand = recordingServer({
    name: "resend-api",
    recorded: received,
    async answer(request, response, text) {
      const [status, body] = respond(request.method ?? "GET", pathOf(request), request.headers, text);
      await stand.delay(latencyMs);
      send(response, status, body);
    },
    answerError: (response) => send(response, 500, resendError(500)),
  });
  const url = await listen(stand.server, options.port);

  return {
    url,
    received,
    failNext(status, body) {
      checkStatus("failNext", status, 400);
      injected = { status, body: body ?? resendError(status) };
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    close: () => stand.close(),
  };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (typeof body === "string") sendText(response, status, body, "text/plain; charset=utf-8");
  else sendText(response, status, JSON.stringify(body), "application/json; charset=utf-8");
}
