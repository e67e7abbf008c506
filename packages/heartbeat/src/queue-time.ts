/**
 * Request queue time as Judoscale and HireFire measure it: how long a request waited between the
 * router (or proxy) receiving it and the app starting on it, from the `X-Request-Start` header.
 * This module runs inside the measured app's heartbeat handler, so it imports nothing.
 *
 * The header comes in several shapes:
 *   - Heroku's router: epoch milliseconds, `1700000000123`
 *   - nginx (`t=${msec}`): seconds with a fraction, `t=1700000000.123`
 *   - Apache (`%t`) and others: microseconds, `t=1700000000123456`
 *   - some platforms (Render): nanoseconds, `1700000000123456789`
 * The unit is told by magnitude: the cut-offs are 2000-01-01 expressed in each unit, so any
 * timestamp since then falls in exactly one band (for thousands of years to come).
 */
const SECONDS_2000 = 946_684_800;
const MS_CUTOFF = SECONDS_2000 * 1e3;
const US_CUTOFF = SECONDS_2000 * 1e6;
const NS_CUTOFF = SECONDS_2000 * 1e9;
/** Past this even nanoseconds are beyond year 5000: not a timestamp. */
const TOO_LARGE = 1e20;

/**
 * Milliseconds from the request's start at the router to `nowMs` (epoch ms), or null when the
 * header is absent or not a timestamp. Clocks of router and app differ a little, so a start
 * "after" now counts as no wait (0) rather than a negative time.
 */
export function requestQueueTimeMs(headerValue: string | null | undefined, nowMs: number): number | null {
  const startMs = requestStartMs(headerValue);
  if (startMs === null || !Number.isFinite(nowMs)) return null;
  // Rounded to the microsecond: float conversion of seconds leaves noise such as .0002 ms.
  return Math.max(0, Math.round((nowMs - startMs) * 1000) / 1000);
}

/** The router's receive time in epoch milliseconds, or null when the header is not a timestamp. */
export function requestStartMs(headerValue: string | null | undefined): number | null {
  if (!headerValue) return null;
  // A repeated header arrives comma-joined; the first is the outermost proxy's, the earliest.
  const first = headerValue.split(",")[0]!.trim();
  const match = /^(?:t=)?(\d+(?:\.\d+)?)$/i.exec(first);
  if (!match) return null;
  const raw = Number(match[1]);
  if (raw < SECONDS_2000 || raw >= TOO_LARGE) return null;
  if (raw < MS_CUTOFF) return raw * 1e3; // seconds
  if (raw < US_CUTOFF) return raw; // milliseconds
  if (raw < NS_CUTOFF) return raw / 1e3; // microseconds
  return raw / 1e6; // nanoseconds
}
