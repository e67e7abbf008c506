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
