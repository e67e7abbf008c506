import { IANAZone } from "luxon";
import { z } from "zod";

/** An integer >= min, with an error message that says so (zod's default talks of "safeint"). */
export function integer(min: number, max?: number) {
  const range = max === undefined ? `>= ${min}` : `from ${min} to ${max}`;
  const error = `expected integer ${range}`;
  const base = z.int({ error }).min(min, { error });
  return max === undefined ? base : base.max(max, { error });
}

/** A non-negative number of milliseconds or seconds. */
export function nonNegative(what = "number") {
  const error = `expected ${what} >= 0`;
  return z.number({ error }).min(0, { error });
}

export const timezone = z.string().refine((zone) => IANAZone.isValidZone(zone), {
  error: "expected an IANA time zone such as Europe/Berlin",
});

export const httpUrl = z.url({ protocol: /^https?$/, error: "expected an http(s) URL" });

/** Names of environment variables (secrets are referenced by name, never written in config). */
export const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected an environment variable name" });

/**
 * Extra request headers (a token for an authenticated heartbeat or webhook), one rule for every backend. Validated here so that
 * fetch never throws on a bad value: its TypeError would quote the value, and values may be
 * secrets. The issues zod reports name the header, never its value.
 */
export const httpHeaders = z.record(
  z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, { error: "expected an HTTP header name" }),
  z.string().regex(/^[\t\x20-\x7e\x80-\xff]*$/, {
    error: "expected a header value without line breaks or control characters",
  }),
);
