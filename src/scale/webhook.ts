/**
 * Any platform behind two HTTP calls: `GET url` answers the current count (a JSON number,
 * `{"count": n}`, or the number at `countPath`), and `POST url` (or `scaleUrl`) with
 * `{"process": name, "quantity": n}` sets it. Headers may come from environment variables
 * (`headersFromEnv`), and the URLs too (`urlEnv`, `scaleUrlEnv`), since either may be the
 * credential: messages name the variable, never its value, and show a configured URL's origin only.
 */
import { z } from "zod";
import type { Env } from "../kit/env.js";
import { envName, httpHeaders, httpUrl, integer } from "../kit/fields.js";
import {
  field,
  isCount,
  JsonHttp,
  kindOfStatus,
  rateLimitNote,
  secretFrom,
  textField,
  type JsonAnswer,
} from "./json-http.js";
import { ScaleError, type Scaler, type ScalingBackend } from "./types.js";

/** fetch refuses a URL with credentials in it (and its error would quote it): they belong in a header. */
function withoutUserinfo(url: string | undefined): boolean {
  if (url === undefined || !URL.canParse(url)) return true; // an invalid URL is httpUrl's to report
  const parsed = new URL(url);
  return parsed.username === "" && parsed.password === "";
}
const USERINFO_ADVICE =
  'send them as a header instead, e.g. headersFromEnv {"Authorization": "MY_PLATFORM_AUTH"}';

export const webhookScalingSchema = z
  .strictObject({
    backend: z
      .literal("webhook")
      .describe(
        'Any platform behind two HTTP calls: GET reads the count, POST {"process", "quantity"} sets it.',
      ),
    url: httpUrl
      .optional()
      .describe(
        "The URL GET reads the count from and POST sends the desired count to; set exactly one of url and urlEnv.",
      ),
    urlEnv: envName
      .optional()
      .describe("The environment variable holding that URL, for a URL that carries a secret."),
    scaleUrl: httpUrl
      .optional()
      .describe("Where the POST goes instead of url; at most one of scaleUrl and scaleUrlEnv."),
    scaleUrlEnv: envName
      .optional()
      .describe("The environment variable holding the POST's URL instead of url."),
    countPath: z
      .string()
      .regex(/^[^.]+(\.[^.]+)*$/, { error: "expected a dotted path such as formation.quantity" })
      .optional()
      .describe(
        'Dotted path of the count in the JSON answer, e.g. formation.quantity (default: a JSON number, or {"count": n}).',
      ),
    process: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe("The name the POST gives as process (default: the process's own name)."),
    headers: httpHeaders
      .optional()
      .describe("Fixed request headers, e.g. Accept; values are redacted whenever the config is printed."),
    headersFromEnv: z
      .record(httpHeaders.keyType, envName)
      .optional()
      .describe(
        'Request headers whose values are read from environment variables: header name -> variable, e.g. {"Authorization": "MY_PLATFORM_AUTH"}.',
      ),
    timeoutMs: integer(1, 28_000)
      .default(5000)
      .describe("How long one request to the platform may take, in milliseconds."),
  })
  .refine((config) => (config.url === undefined) !== (config.urlEnv === undefined), {
    error: "set exactly one of url and urlEnv (urlEnv names a variable holding a secret URL)",
    path: ["url"],
  })
  .refine((config) => config.scaleUrl === undefined || config.scaleUrlEnv === undefined, {
    error: "set at most one of scaleUrl and scaleUrlEnv",
    path: ["scaleUrl"],
  })
  .refine((config) => withoutUserinfo(config.url) && withoutUserinfo(config.scaleUrl), {
    error: `no user:pass@ in the URL: ${USERINFO_ADVICE}`,
    path: ["url"],
  });

/** What a platform may say of its rate limit, quoted in a 429's message. */
const RATE_LIMIT_HEADERS = [
  "Retry-After",
  "RateLimit-Remaining",
  "RateLimit-Reset",
  "X-RateLimit-Remaining",
  "X-RateLimit-Reset",
];
/** Characters of a platform's own error text kept in a message. */
const EXCERPT_CHARS = 200;

/** The `webhook` backend's descriptor, listed in ./registry.ts. */
export const webhook: ScalingBackend<typeof webhookScalingSchema> = {
  schema: webhookScalingSchema,
  create(config, processName, env) {
    const secrets: string[] = Object.values(config.headers ?? {});
    const read = resolveUrl(config.url, config.urlEnv, env, secrets);
    const scale =
      config.scaleUrl === undefined && config.scaleUrlEnv === undefined
        ? read
        : resolveUrl(config.scaleUrl, config.scaleUrlEnv, env, secrets);
    const headers: Record<string, string> = { ...config.headers };
    for (const [name, variable] of Object.entries(config.headersFromEnv ?? {})) {
      const value = secretFrom(env, variable, SETUP, `the ${name} header`);
      // Checked here, so fetch never throws on it: its TypeError would quote the value.
      if (!httpHeaders.valueType.safeParse(value).success)
        throw setupError(`${variable} holds no valid value for the ${name} header`);
      headers[name] = value;
      secrets.push(value);
    }
    return new WebhookScaler({
      process: config.process ?? processName,
      read,
      scale,
      headers,
      countPath: config.countPath,
      timeoutMs: config.timeoutMs,
      secrets,
    });
  },
  budgetMs: (config) => config.timeoutMs,
  formation: (config, processName) =>
    `${config.scaleUrl ?? (config.scaleUrlEnv ? `env:${config.scaleUrlEnv}` : (config.url ?? `env:${config.urlEnv}`))}#${config.process ?? processName}`,
  secretEnv: (config) =>
    [config.urlEnv, config.scaleUrlEnv, ...Object.values(config.headersFromEnv ?? {})].filter(
      (name): name is string => name !== undefined,
    ),
  advice: (error) => {
    switch (error.kind) {
      case "missing-credentials":
        return "set the environment variables the scaling names (urlEnv, scaleUrlEnv and those of headersFromEnv)";
      case "unauthorized":
        return "check the credentials the platform expects: scaling.headersFromEnv and the variables it names";
      case "not-found":
        return "check scaling.url (or the URL in scaling.urlEnv) and scaling.process";
      case "rate-limited":
        return "wait: the platform limits its requests; the scale is retried next tick";
      case "bad-response":
        return 'answer GET with a JSON number or {"count": n}, or set scaling.countPath to where the count is';
      default:
        return "the scale is retried next tick; if it keeps failing, check the platform";
    }
  },
};

/** A URL to call, and how messages name it. */
interface Endpoint {
  url: string;
  where: string;
}

/** The URL of a setting or its variable; its secret parts join `secrets`. */
function resolveUrl(
  url: string | undefined,
  urlEnv: string | undefined,
  env: Env,
  secrets: string[],
): Endpoint {
  if (urlEnv === undefined) {
    const parsed = new URL(url!);
    // A query string may carry a token.
    secrets.push(parsed.search);
    return { url: parsed.href, where: `${parsed.origin}/…` };
  }
  const value = secretFrom(env, urlEnv, SETUP, "the platform's URL");
  // The value is a secret: the error says what is wrong, never what it is.
  if (!httpUrl.safeParse(value).success) throw setupError(`${urlEnv} is not an http(s) URL`);
  const parsed = new URL(value);
  if (!withoutUserinfo(parsed.href))
    throw setupError(`${urlEnv} holds a URL with user:pass@ (${USERINFO_ADVICE})`);
  secrets.push(value, parsed.href, parsed.pathname, parsed.search);
  return { url: value, where: `(URL from ${urlEnv})` };
}

/** A setting's secret that is missing or unusable: the setup's error, reported with the process. */
const SETUP = "missing_setting";
const setupError = (message: string) => new ScaleError("missing-credentials", SETUP, message);

interface WebhookScalerOptions {
  process: string;
  read: Endpoint;
  scale: Endpoint;
  headers: Record<string, string>;
  countPath: string | undefined;
  timeoutMs: number;
  secrets: string[];
}

/** Reads a process's count with a GET and sets it with a POST. */
export class WebhookScaler implements Scaler {
  readonly target: string;
  readonly #options: WebhookScalerOptions;
  readonly #http: JsonHttp;

  constructor(options: WebhookScalerOptions) {
    this.target = `webhook ${options.process} at ${options.read.where}`;
    this.#options = options;
    this.#http = new JsonHttp({
      api: "the platform",
      target: this.target,
      timeoutMs: options.timeoutMs,
      secrets: options.secrets,
    });
  }

  async current(signal: AbortSignal): Promise<number> {
    const answer = await this.#send("GET", this.#options.read, undefined, signal);
    const count = this.#countIn(answer.json);
    if (!isCount(count)) {
      const expected = this.#options.countPath
        ? `a count at "${this.#options.countPath}"`
        : 'a count (a JSON number, or {"count": n})';
      throw this.#http.badResponse(answer, `without ${expected}`);
    }
    return count;
  }

  async scaleTo(quantity: number, signal: AbortSignal): Promise<number> {
    const body = { process: this.#options.process, quantity };
    const answer = await this.#send("POST", this.#options.scale, body, signal);
    // The platform's count when it answers one (it may have capped the request), else the request's.
    const count = this.#countIn(answer.json);
    return isCount(count) ? count : quantity;
  }

  toString(): string {
    return this.target;
  }

  #countIn(json: unknown): unknown {
    const path = this.#options.countPath;
    if (path) return path.split(".").reduce<unknown>((value, step) => field(value, step), json);
    return typeof json === "number" ? json : field(json, "count");
  }

  async #send(
    method: "GET" | "POST",
    endpoint: Endpoint,
    body: unknown,
    signal: AbortSignal,
  ): Promise<JsonAnswer> {
    const answer = await this.#http.send(
      { method, url: endpoint.url, headers: this.#options.headers, body },
      signal,
    );
    if (answer.ok) return answer;
    let message = `${endpoint.where} answered HTTP ${answer.status}`;
    const own = textField(answer.json, "message", "error");
    if (own) message += `: ${own.length > EXCERPT_CHARS ? `${own.slice(0, EXCERPT_CHARS)}…` : own}`;
    else if (answer.status >= 300 && answer.status < 400) message += " (redirects are not followed)";
    if (answer.status === 429) message += rateLimitNote(answer.headers, RATE_LIMIT_HEADERS);
    throw this.#http.error(kindOfStatus(answer.status), `http_${answer.status}`, message, answer.status);
  }
}
