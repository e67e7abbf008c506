import { requestQueueTimeMs } from "./queue-time.js";
import type { RequestMetrics, RequestMetricsSummary } from "./request-metrics.js";

/**
 * A heartbeat endpoint for the app being scaled, as a Fetch API handler
 * (`(request: Request) => Promise<Response>`): it runs on Node (see ./node.ts for http and
 * Express), Netlify Functions, Next.js route handlers, Deno, Bun and Cloudflare Workers alike.
 *
 * A good heartbeat exercises the bottlenecks the app hits as load grows (database, cache, disk),
 * so the app supplies those as checks. The handler runs them concurrently, each with a timeout,
 * and reports in the forms the autoscaler's measurements read:
 *   - `Server-Timing: db;dur=12.3, cache;dur=1.1, total;dur=13.0, app;dur=13.0, queue;dur=42`
 *     (`app` for the `service-time` backend, `queue` for `queue-time`);
 *   - a JSON body `{ status, checks, totalMs, queueTimeMs }` (`queueTimeMs` is the `queue-time`
 *     backend's fallback field);
 *   - 200 when every check passed, 503 when any failed or timed out (the `response-time` backend
 *     counts a 5xx as overload).
 *
 * With `metrics` (./request-metrics.ts), the body also carries the last window of the process
 * that answered, for the `request-metrics` backend, which samples several processes a tick.
 *
 * It imports nothing but its siblings, not even Node built-ins, so it adds no dependency to the
 * app and runs in any runtime with the Fetch API.
 */

/**
 * One of the app's own checks: a database query, a cache round trip, a disk write. It passes by
 * returning (or resolving) and fails by throwing (or rejecting). The signal aborts when the check
 * times out or the client goes away; a check that ignores it is still reported as timed out.
 */
export type HeartbeatCheck = (signal: AbortSignal) => unknown; // a value or a Promise

export interface HeartbeatOptions {
  /** The checks by name; the names appear in Server-Timing (as tokens) and in the JSON body. */
  checks?: Record<string, HeartbeatCheck>;
  /** Time allowed to each check, in ms (default 2000). */
  timeoutMs?: number;
  /** Wall clock in epoch ms, for the queue time from `X-Request-Start` (default Date.now). */
  clock?: () => number;
  /** Monotonic clock in ms, for durations (default performance.now). */
  timer?: () => number;
  /**
   * Put the checks' error messages in the response (default false): messages of database
   * drivers and the like can reveal internals, and a heartbeat URL is usually public. Either
   * way the failed checks are named.
   */
  exposeErrors?: boolean;
  /**
   * Told of each check that failed (not timed out) with the real error, e.g. to log it, since the
   * response hides it by default. Default: nothing.
   */
  onCheckError?: (check: string, error: unknown) => void;
  /**
   * The app's request metrics (createRequestMetrics): their summary becomes the body's
   * `requestMetrics`, what the `request-metrics` measurement reads. Default: none.
   */
  metrics?: RequestMetrics;
}

export interface HeartbeatCheckResult {
  ok: boolean;
  durationMs: number;
  /** Why it failed: "timed out after N ms", the error's message, or "failed" when hidden. */
  error?: string;
}

/** The JSON body of a GET. */
export interface HeartbeatBody {
  status: "ok" | "fail";
  checks: Record<string, HeartbeatCheckResult>;
  /** Time spent answering, in ms; also `app` and `total` in Server-Timing. */
  totalMs: number;
  /** Time the request waited before the app started on it, from `X-Request-Start`; absent without it. */
  queueTimeMs?: number;
  /** The process's last window of request metrics; present when the heartbeat has `metrics`. */
  requestMetrics?: RequestMetricsSummary;
}

/** A Fetch API request handler. */
export type HeartbeatHandler = (request: Request) => Promise<Response>;

export const DEFAULT_TIMEOUT_MS = 2000;
/** Metrics the handler itself reports; a check may not take their names. */
const RESERVED_METRICS = ["app", "queue", "total"];
/** setTimeout's limit: a longer delay fires at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const ALLOWED_METHODS = "GET, HEAD";

type Outcome =
  { ok: true; durationMs: number } | { ok: false; durationMs: number; timedOut: boolean; error: unknown };

interface NamedCheck {
  /** As given: the key in the JSON body. */
  name: string;
  /** As a Server-Timing metric name. */
  metric: string;
  run: HeartbeatCheck;
}

export function createHeartbeat(options: HeartbeatOptions = {}): HeartbeatHandler {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS)
    throw new RangeError(`heartbeat: timeoutMs must be a number of ms from 1 to ${MAX_TIMEOUT_MS}`);
  const clock = options.clock ?? (() => Date.now());
  const timer = options.timer ?? (() => performance.now());
  const exposeErrors = options.exposeErrors ?? false;
  const checks = namedChecks(options.checks ?? {});

  return async (request) => {
    const started = timer();
    // Read first: the queue time is the wait until the app started on the request.
    const queueTimeMs = requestQueueTimeMs(request.headers.get("x-request-start"), clock());

    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response(JSON.stringify({ error: "method not allowed" }), {
        status: 405,
        headers: {
          Allow: ALLOWED_METHODS,
          "Cache-Control": "no-store",
          "Content-Type": "application/json; charset=utf-8",
        },
      });
    }

    const outcomes = await Promise.all(
      checks.map((check) => runCheck(check.run, timeoutMs, timer, request.signal)),
    );
    const totalMs = roundMs(timer() - started);

    const results: Array<[string, HeartbeatCheckResult]> = [];
    const timings: string[] = [];
    outcomes.forEach((outcome, i) => {
      const check = checks[i]!;
      const durationMs = roundMs(outcome.durationMs);
      if (outcome.ok) {
        results.push([check.name, { ok: true, durationMs }]);
        timings.push(`${check.metric};dur=${formatMs(durationMs)}`);
        return;
      }
      if (!outcome.timedOut && !request.signal.aborted) {
        try {
          options.onCheckError?.(check.name, outcome.error);
        } catch {
          // A failing logger must not take the heartbeat down with it.
        }
      }
      const error = outcome.timedOut
        ? `timed out after ${timeoutMs} ms`
        : exposeErrors
          ? errorMessage(outcome.error)
          : "failed";
      results.push([check.name, { ok: false, durationMs, error }]);
      timings.push(`${check.metric};dur=${formatMs(durationMs)};desc=${quote(error)}`);
    });
    timings.push(`total;dur=${formatMs(totalMs)}`, `app;dur=${formatMs(totalMs)}`);
    if (queueTimeMs !== null) timings.push(`queue;dur=${formatMs(queueTimeMs)}`);

    const ok = outcomes.every((outcome) => outcome.ok);
    // fromEntries defines own properties, so even a check named "__proto__" is just a key.
    const body: HeartbeatBody = { status: ok ? "ok" : "fail", checks: Object.fromEntries(results), totalMs };
    if (queueTimeMs !== null) body.queueTimeMs = queueTimeMs;
    if (options.metrics) body.requestMetrics = options.metrics.summary();

    return new Response(request.method === "HEAD" ? null : JSON.stringify(body), {
      status: ok ? 200 : 503,
      headers: {
        "Cache-Control": "no-store",
        "Content-Type": "application/json; charset=utf-8",
        "Server-Timing": timings.join(", "),
      },
    });
  };
}

/**
 * The checks with their metric names. Names that clash (with each other once made tokens, or with
 * the handler's own metrics) are refused at once: the autoscaler reads the first metric of a
 * name, so a check named "app" would stand in for the service time.
 */
function namedChecks(checks: Record<string, HeartbeatCheck>): NamedCheck[] {
  const seen = new Map<string, string>(
    RESERVED_METRICS.map((name) => [name, `the heartbeat's own "${name}"`]),
  );
  return Object.entries(checks).map(([name, run]) => {
    if (typeof run !== "function") throw new TypeError(`heartbeat: check "${name}" is not a function`);
    const metric = metricName(name);
    const clash = seen.get(metric.toLowerCase());
    if (clash !== undefined)
      throw new TypeError(`heartbeat: check "${name}" (metric "${metric}") clashes with ${clash}; rename it`);
    seen.set(metric.toLowerCase(), `check "${name}"`);
    return { name, metric, run };
  });
}

/** A Server-Timing metric name (an RFC 9110 token): every other character becomes "_". */
export function metricName(name: string): string {
  const token = name.replace(/[^!#$%&'*+\-.^_`|~0-9A-Za-z]/g, "_");
  return token === "" ? "_" : token;
}

/**
 * Runs one check against its timeout and the request's signal. Never rejects. A check that
 * throws synchronously fails like one that rejects; one still running at the timeout is reported
 * as timed out at once (its signal is aborted, its later outcome ignored).
 */
function runCheck(
  check: HeartbeatCheck,
  timeoutMs: number,
  timer: () => number,
  requestSignal: AbortSignal,
): Promise<Outcome> {
  const controller = new AbortController();
  const started = timer();
  const elapsed = () => timer() - started;

  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      requestSignal.removeEventListener("abort", onRequestAbort);
      resolve(outcome);
    };
    const timeout = setTimeout(() => {
      finish({ ok: false, durationMs: elapsed(), timedOut: true, error: undefined });
      controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, "TimeoutError"));
    }, timeoutMs);
    // The client went away: nobody wants the answer, so stop the work.
    const onRequestAbort = () => {
      const reason: unknown = requestSignal.reason;
      finish({ ok: false, durationMs: elapsed(), timedOut: false, error: reason });
      controller.abort(reason);
    };
    if (requestSignal.aborted) {
      onRequestAbort();
      return;
    }
    requestSignal.addEventListener("abort", onRequestAbort, { once: true });

    let result: unknown;
    try {
      result = check(controller.signal);
    } catch (error) {
      finish({ ok: false, durationMs: elapsed(), timedOut: false, error });
      return;
    }
    Promise.resolve(result).then(
      () => finish({ ok: true, durationMs: elapsed() }),
      (error: unknown) => finish({ ok: false, durationMs: elapsed(), timedOut: false, error }),
    );
  });
}

/** To a tenth of a millisecond, never negative. */
const roundMs = (ms: number) => Math.max(0, Math.round(ms * 10) / 10);

/** A duration as Server-Timing's dur wants it: plain decimal digits, never exponent notation. */
function formatMs(ms: number): string {
  const fixed = ms.toFixed(3);
  return fixed.replace(/\.?0+$/, "") || "0";
}

/** An error's message, whatever was thrown. */
function errorMessage(error: unknown): string {
  try {
    const message = error instanceof Error ? error.message || error.name : String(error);
    return message.length > 500 ? `${message.slice(0, 497)}...` : message;
  } catch {
    return "failed";
  }
}

/**
 * A quoted-string for a Server-Timing desc: printable ASCII only (header values cannot hold line
 * breaks, and other bytes are read differently by different clients), kept short.
 */
function quote(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]+/g, " ").slice(0, 200);
  return `"${printable.replace(/["\\]/g, "\\$&")}"`;
}
