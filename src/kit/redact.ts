/**
 * Redaction for anything printed: config never holds API keys (they are read from the
 * environment), but URLs may carry credentials or tokens, and headers may carry auth.
 */
const SECRET_FIELD = /(password|secret|token|apikey|api_key|authorization|credentials?)$/i;
const SECRET_PARAM = /(token|key|secret|password|passwd|auth|sig|signature|session|code)$/i;
/** The one placeholder every output path puts where a secret was. */
export const REDACTED = "[redacted]";

/** Secrets shorter than this are left alone: scrubbing "1" would mangle a message and hide nothing. */
const MIN_SECRET_LENGTH = 4;

/** `scheme://user:password@`: the userinfo of any URL in a text. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi;
/** `?token=...` or `&api_key=...`: a secret-looking query parameter's value, in any text. */
const URL_SECRET_PARAM =
  /([?&][^=&\s#"'<>]*(?:token|key|secret|password|passwd|auth|sig|signature|session|code)=)[^&\s#"'<>]+/gi;

/**
 * The text with every secret replaced by REDACTED: the known ones, longest first so a secret
 * containing another goes whole, then any URL's user and password and secret-looking query
 * parameters (an error may quote a URL nobody told us was secret). Used by every backend on
 * every message it builds from an error or an answer.
 */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  const known = [...new Set(secrets)]
    .filter((s): s is string => s !== undefined && s.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  return known
    .reduce((out, secret) => out.replaceAll(secret, REDACTED), text)
    .replace(URL_USERINFO, `$1${REDACTED}@`)
    .replace(URL_SECRET_PARAM, `$1${REDACTED}`);
}

export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw;
  }
  // The username may be the secret itself (`https://ghp_token@host/`), so userinfo goes whole.
  if (url.username) url.username = REDACTED;
  if (url.password) url.password = REDACTED;
  for (const name of [...url.searchParams.keys()])
    if (SECRET_PARAM.test(name)) url.searchParams.set(name, REDACTED);
  return url.toString().replaceAll(encodeURIComponent(REDACTED), REDACTED);
}

/** A deep copy with URL secrets and secret-looking or header values replaced. */
export function redact(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    if (SECRET_FIELD.test(key)) return REDACTED;
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUrl(value) : value;
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, key));
  if (value && typeof value === "object") {
    const inHeaders = /^headers$/i.test(key);
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, inHeaders ? REDACTED : redact(v, k)]),
    );
  }
  return value;
}

/** The variables the autoscaler itself reads secrets from, whatever the config says. */
const SECRET_ENV = [
  "UPSTASH_REDIS_REST_TOKEN",
  "UPSTASH_REDIS_REST_URL",
  "AUTOSCALE_TRIGGER_TOKEN",
  "AUTOSCALE_STATUS_TOKEN",
  "RESEND_API_KEY",
  "REDIS_URL",
  "HEROKU_API_KEY",
];
/** A variable whose name says it holds a secret, named in no config (a stack trace may quote it). */
const SECRET_ENV_NAME = /(token|key|secret|password|passwd|auth|credentials?)$/i;
const GUESSED_SECRET_LENGTH = 8;
/** A config key whose value names the variable a secret is read from: apiKeyEnv, urlEnv, brokerTokenEnv, ... */
const ENV_KEY = /Env$/;

/** One scrubber for everything that leaves the process: texts, and reports or events as a whole. */
export interface Scrubber {
  /** The secret values, longest first; tests check outputs against them. */
  readonly secrets: readonly string[];
  text(text: string): string;
  /** A deep copy with every string scrubbed (plain objects and arrays; other values as they are). */
  deep<T>(value: T): T;
}

/** The variables a config names in its `...Env` settings and `headersFromEnv`, and its literal header values. */
function configSecrets(value: unknown, key: string, names: Set<string>, values: Set<string>): void {
  if (typeof value === "string") {
    if (ENV_KEY.test(key)) names.add(value);
    return;
  }
  if (Array.isArray(value)) for (const item of value) configSecrets(item, key, names, values);
  else if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const strings = v && typeof v === "object" ? Object.values(v).filter((x) => typeof x === "string") : [];
      if (/^headersFromEnv$/i.test(k)) for (const name of strings) names.add(name);
      if (/^headers$/i.test(k)) for (const header of strings) values.add(header);
      configSecrets(v, k, names, values);
    }
}

/** A path segment this long in a secret URL is a token (a Slack webhook's last one), not a word. */
const TOKEN_SEGMENT_LENGTH = 16;

/**
 * A secret URL's password and user, raw and decoded, and its token-long path segments, besides
 * the URL itself: a message may quote any of them alone.
 */
function urlParts(value: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return [];
  try {
    const url = new URL(value);
    const segments = url.pathname.split("/").filter((s) => s.length >= TOKEN_SEGMENT_LENGTH);
    return [url.password, url.username, ...segments].flatMap((part) =>
      part ? [part, decodeURIComponent(part)] : [],
    );
  } catch {
    // Not a URL after all, or a malformed %-escape: the value as a whole is still scrubbed.
    return [];
  }
}

/**
 * The scrubber of one tick or command: the values of every secret variable — those the config
 * names (each backend's apiKeyEnv, urlEnv, tokenEnv, headersFromEnv, ...), those the autoscaler
 * reads itself (the store's token and URL, the API tokens, RESEND_API_KEY, REDIS_URL) and any
 * whose name says it is one — with the parts of secret URLs, and the config's literal header
 * values; on top of `scrub`'s own rules for URLs. Built once, applied where output leaves.
 */
export function scrubberFor(env: Readonly<Record<string, string | undefined>>, config?: unknown): Scrubber {
  const names = new Set(SECRET_ENV);
  const values = new Set<string>();
  configSecrets(config, "", names, values);
  // Guessed by name only: short values ("true", "dev") would mangle messages and hide nothing.
  for (const [name, value] of Object.entries(env))
    if (value && value.length >= GUESSED_SECRET_LENGTH && SECRET_ENV_NAME.test(name)) names.add(name);
  for (const name of names) {
    const value = env[name];
    if (value) for (const secret of [value, ...urlParts(value)]) values.add(secret);
  }
  const secrets = [...values]
    .filter((s) => s.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  const text = (input: string) => scrub(input, secrets);
  const deep = (value: unknown): unknown => {
    if (typeof value === "string") return text(value);
    if (Array.isArray(value)) return value.map(deep);
    if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype)
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deep(v)]));
    return value;
  };
  return { secrets, text, deep: <T>(value: T) => deep(value) as T };
}
