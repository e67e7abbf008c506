import { z } from "zod";

/**
 * A parser for the W3C `Server-Timing` response header
 * (https://w3c.github.io/server-timing/#the-server-timing-header-field):
 *
 *   Server-Timing = #server-timing-metric
 *   server-timing-metric = metric-name *( OWS ";" OWS server-timing-param )
 *   server-timing-param = param-name OWS "=" OWS ( token / quoted-string )
 *
 * e.g. `app;dur=123.4;desc="x, y", db;dur=5`. Parsing is lenient the way browsers are: a malformed
 * metric is skipped up to the next top-level comma and the rest still counts, because one odd
 * entry added by a proxy should not hide the app's own metric.
 */
export interface ServerTimingMetric {
  /** The metric name as sent (names are tokens; they are compared exactly). */
  name: string;
  /** `dur` in milliseconds; null when absent or not a number. */
  duration: number | null;
  description: string | null;
  /** Every parameter by lower-cased name (names are case-insensitive); the first of repeats wins. */
  params: Record<string, string>;
}

// RFC 9110 tchar.
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/** A metric name in config (a token, as the header requires). */
export const serverTimingMetric = z
  .string()
  .regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, { error: "expected a Server-Timing metric name" });
const isOws = (char: string | undefined) => char === " " || char === "\t";

/** Every well-formed metric in the header, in order. An absent or empty header gives []. */
export function parseServerTiming(header: string | null | undefined): ServerTimingMetric[] {
  if (!header) return [];
  const metrics: ServerTimingMetric[] = [];
  let i = 0;

  const skipOws = () => {
    while (isOws(header[i])) i++;
  };
  const token = () => {
    const start = i;
    while (i < header.length && TOKEN_CHAR.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  // A quoted-string; `\x` stands for `x`. An unterminated string runs to the end of the header.
  const quoted = () => {
    let value = "";
    i++; // opening quote
    while (i < header.length && header[i] !== '"') {
      if (header[i] === "\\" && i + 1 < header.length) i++;
      value += header[i];
      i++;
    }
    i++; // closing quote
    return value;
  };
  // Recovery from a malformed metric: on to the next comma that is not inside a quoted string.
  const skipToNextMetric = () => {
    while (i < header.length && header[i] !== ",") {
      if (header[i] === '"') quoted();
      else i++;
    }
  };

  while (i < header.length) {
    skipOws();
    const name = token();
    const params: Record<string, string> = {};
    let malformed = name === "";
    while (!malformed) {
      skipOws();
      if (header[i] !== ";") break;
      i++;
      skipOws();
      const paramName = token().toLowerCase();
      if (paramName === "") {
        malformed = true;
        break;
      }
      skipOws();
      let value = "";
      if (header[i] === "=") {
        i++;
        skipOws();
        value = header[i] === '"' ? quoted() : token();
      }
      if (!(paramName in params)) params[paramName] = value;
    }
    skipOws();
    if (malformed || (i < header.length && header[i] !== ",")) skipToNextMetric();
    else metrics.push(metric(name, params));
    i++; // the comma (or past the end)
  }
  return metrics;
}

function metric(name: string, params: Record<string, string>): ServerTimingMetric {
  const dur = params.dur;
  const duration = dur !== undefined && /^-?\d+(\.\d+)?$|^-?\.\d+$/.test(dur) ? Number(dur) : null;
  return { name, duration, description: params.desc ?? null, params };
}

/** The first metric of that name (later repeats are usually added by proxies downstream). */
export function findServerTiming(header: string | null | undefined, name: string): ServerTimingMetric | null {
  return parseServerTiming(header).find((m) => m.name === name) ?? null;
}
