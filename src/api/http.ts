import { createHash, timingSafeEqual } from "node:crypto";
import { ConfigError } from "../config/load.js";
import { scrub, type Scrubber } from "../kit/redact.js";
import { LockBusyError, SteerRequestError } from "../engine/steer.js";
import { UnknownProcessError } from "../engine/tick.js";
import { StateStoreError, StoreConfigError } from "../state/index.js";

/** The HTTP API's pieces shared by the Netlify functions and the local dashboard server. */
export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store", ...headers },
  });

/** Compares digests, so neither the token's content nor its length leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * A bearer token that is one of `tokens` (those set), or the refusal: 401 for a wrong or missing
 * one; when none is set, 503 (the endpoint is off) unless `openWhenUnset` (the local server,
 * which listens on loopback only). Tokens go in the Authorization header, never in a URL.
 */
export function authorize(
  request: Request,
  tokens: (string | undefined)[],
  variable: string,
  { openWhenUnset = false } = {},
): Response | null {
  const expected = tokens.filter((t): t is string => Boolean(t));
  if (expected.length === 0)
    return openWhenUnset
      ? null
      : json(503, { error: `this endpoint is disabled: set ${variable} to enable it` });
  const given = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
  // Every token is compared, so the time taken says nothing of which one matched.
  const matches = given !== undefined && expected.map((t) => sameSecret(given, t)).includes(true);
  if (matches) return null;
  return json(
    401,
    { error: "missing or wrong bearer token" },
    { "WWW-Authenticate": 'Bearer realm="autoscalebot"' },
  );
}

/** The answer with its body scrubbed of the secrets: what every endpoint of a function sends. */
export async function scrubbedResponse(
  answer: Response | Promise<Response>,
  secrets: Scrubber,
): Promise<Response> {
  const response = await answer;
  const body = secrets.text(await response.text());
  return new Response(body, { status: response.status, headers: response.headers });
}

/** What an endpoint answers when the request could not be served. */
export function failure(error: unknown, secrets?: Scrubber): Response {
  if (error instanceof ConfigError)
    return json(500, { error: "invalid configuration", problems: error.problems });
  if (error instanceof StoreConfigError) return json(503, { error: error.message });
  if (error instanceof UnknownProcessError) return json(400, { error: error.message });
  if (error instanceof SteerRequestError)
    return json(400, { error: "invalid request body", problems: error.problems });
  if (error instanceof LockBusyError) return json(409, { error: error.message });
  if (error instanceof StateStoreError) return json(503, { error: error.message });
  // A stack may quote a URL with its credentials in it: logged scrubbed, never answered.
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  console.error(secrets ? secrets.text(text) : scrub(text, []));
  return json(500, { error: "internal error" });
}
