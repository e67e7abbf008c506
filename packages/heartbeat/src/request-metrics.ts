import { histogramQuantile, queueBucket, QUEUE_BUCKETS } from "./queue-histogram.js";
import { requestQueueTimeMs } from "./queue-time.js";

/**
 * Request metrics: what every request the process serves says about its load, kept over a
 * sliding window, for the heartbeat endpoint to report and the `request-metrics` measurement to
 * read. One heartbeat request a minute sees one moment of one process; these see every request.
 *
 * The window (default 60 s) is made of 6 slots; a summary covers the 6 slots before the current
 * one, so it is at most one slot (10 s) old and spans the whole window, and every request falls
 * in exactly one slot. Per slot:
 *   - requests begun (counted when the app starts on them);
 *   - busy time: time with at least one request in flight;
 *   - occupied time: ∫ min(in flight, concurrency) dt, the time the process's `concurrency`
 *     workers were busy, summed; utilisation is that over concurrency × window: the share of
 *     the process's capacity in use (an M/M/c queue's ρ), at most 100%; with concurrency 1 it is
 *     the busy time's share;
 *   - in-flight time: ∫ in flight dt; over the window, the mean number of requests in flight
 *     (Little's L), which passes the concurrency when requests wait inside the process;
 *   - queue time (now − X-Request-Start, every form ./queue-time.ts reads) in a fixed histogram
 *     (./queue-histogram.ts), and its largest value.
 * Times are integrated between events (a request begins or ends, a summary is taken), so a
 * request costs two counter updates and a histogram increment: nothing is allocated per request.
 *
 * It imports only its siblings: it runs in any runtime, like the heartbeat handler.
 */

export interface RequestMetricsOptions {
  /** The window in seconds, from 10 to 60 (default 60: one tick of the autoscaler, so no request between two ticks goes unseen). */
  windowSeconds?: number;
  /**
   * Requests the process works on at once without slowing: Puma's threads × workers, gunicorn's
   * workers (default 1). Requests beyond it wait inside the process and add no utilisation.
   */
  concurrency?: number;
  /**
   * Names this process in the summary, so the autoscaler counts each process once. Default: the
   * platform's name for it (Heroku's `DYNO`, `RENDER_INSTANCE_ID`, `RAILWAY_REPLICA_ID`), else
   * a random id.
   */
  processId?: string;
  /** Wall clock in epoch ms, for queue time from `X-Request-Start` (default Date.now). */
  clock?: () => number;
  /** Monotonic clock in ms, for the window and busy time (default performance.now). */
  timer?: () => number;
}

/** A window's queue times: null figures when no request carried `X-Request-Start`. */
export interface QueueTimeSummary {
  /** Requests that carried a readable `X-Request-Start`. */
  requests: number;
  p50Ms: number | null;
  p95Ms: number | null;
  maxMs: number | null;
}

/** What the heartbeat reports of its process's last window (the body's `requestMetrics`). */
export interface RequestMetricsSummary {
  process: string;
  /** The time the summary covers, in ms: the window, less while the process is younger (0 at first). */
  windowMs: number;
  concurrency: number;
  /** Requests begun in the window. */
  requests: number;
  /** Requests per minute over the window; null while it covers no time. */
  requestsPerMinute: number | null;
  /** Occupied time over concurrency × window, in percent (0–100). */
  utilisationPercent: number | null;
  /** Time with at least one request in flight over the window, in percent (0–100). */
  busyPercent: number | null;
  /** In-flight time over the window: requests in flight on average. */
  meanInFlight: number | null;
  queueTime: QueueTimeSummary;
}

export interface RequestMetrics {
  /**
   * A request began: its `X-Request-Start` header, if any. Call `end` once for each `begin`
   * (the adapters do both).
   */
  begin(requestStart: string | null | undefined): void;
  end(): void;
  /** The last window's figures. */
  summary(): RequestMetricsSummary;
}

export const DEFAULT_WINDOW_SECONDS = 60;
const SLOTS = 6;
/** The ring holds the window's slots and the current one. */
const RING = SLOTS + 1;

export function createRequestMetrics(options: RequestMetricsOptions = {}): RequestMetrics {
  const windowSeconds = options.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  if (!(windowSeconds >= 10 && windowSeconds <= 60))
    throw new RangeError("request metrics: windowSeconds must be from 10 to 60");
  const concurrency = options.concurrency ?? 1;
  if (!(Number.isInteger(concurrency) && concurrency >= 1))
    throw new RangeError("request metrics: concurrency must be a whole number from 1");
  return new SlidingWindow(
    (windowSeconds * 1000) / SLOTS,
    concurrency,
    options.processId ?? platformProcessId(),
    options.clock ?? (() => Date.now()),
    options.timer ?? (() => performance.now()),
  );
}

class SlidingWindow implements RequestMetrics {
  readonly #requests = new Float64Array(RING);
  readonly #busy = new Float64Array(RING);
  readonly #occupied = new Float64Array(RING);
  readonly #inFlightTime = new Float64Array(RING);
  readonly #queued = new Float64Array(RING);
  readonly #queueMax = new Float64Array(RING);
  readonly #histogram = new Uint32Array(RING * QUEUE_BUCKETS);
  /** The window's histogram, summed for a summary (kept, so a summary allocates no array). */
  readonly #merged = new Float64Array(QUEUE_BUCKETS);
  readonly #startedAt: number;
  /** The current slot, as a count of slots since the timer's origin. */
  #slot: number;
  /** Time integrated up to, and requests in flight since. */
  #at: number;
  #inFlight = 0;

  constructor(
    private readonly slotMs: number,
    private readonly concurrency: number,
    private readonly process: string,
    private readonly clock: () => number,
    private readonly timer: () => number,
  ) {
    this.#startedAt = timer();
    this.#at = this.#startedAt;
    this.#slot = Math.floor(this.#startedAt / slotMs);
  }

  begin(requestStart: string | null | undefined): void {
    const ring = this.#advance(this.timer());
    this.#requests[ring]!++;
    this.#inFlight++;
    if (!requestStart) return;
    const queueMs = requestQueueTimeMs(requestStart, this.clock());
    if (queueMs === null) return;
    this.#histogram[ring * QUEUE_BUCKETS + queueBucket(queueMs)]!++;
    this.#queued[ring]!++;
    if (queueMs > this.#queueMax[ring]!) this.#queueMax[ring] = queueMs;
  }

  end(): void {
    this.#advance(this.timer());
    if (this.#inFlight > 0) this.#inFlight--;
  }

  summary(): RequestMetricsSummary {
    this.#advance(this.timer());
    const end = this.#slot * this.slotMs;
    const windowMs = Math.max(0, end - Math.max(this.#startedAt, end - SLOTS * this.slotMs));
    const merged = this.#merged.fill(0);
    let requests = 0;
    let busy = 0;
    let occupied = 0;
    let inFlightTime = 0;
    let queued = 0;
    let queueMax = 0;
    for (let back = 1; back <= SLOTS; back++) {
      const ring = ringOf(this.#slot - back);
      requests += this.#requests[ring]!;
      busy += this.#busy[ring]!;
      occupied += this.#occupied[ring]!;
      inFlightTime += this.#inFlightTime[ring]!;
      queued += this.#queued[ring]!;
      queueMax = Math.max(queueMax, this.#queueMax[ring]!);
      for (let i = 0; i < QUEUE_BUCKETS; i++) merged[i]! += this.#histogram[ring * QUEUE_BUCKETS + i]!;
    }
    const over = (value: number, scale: number, digits: number) =>
      windowMs > 0 ? round((value / windowMs) * scale, digits) : null;
    return {
      process: this.process,
      windowMs: round(windowMs, 0),
      concurrency: this.concurrency,
      requests,
      requestsPerMinute: over(requests, 60_000, 1),
      utilisationPercent: over(occupied, 100 / this.concurrency, 1),
      busyPercent: over(busy, 100, 1),
      meanInFlight: over(inFlightTime, 1, 3),
      queueTime: {
        requests: queued,
        p50Ms: histogramQuantile(merged, queued, 0.5, queueMax),
        p95Ms: histogramQuantile(merged, queued, 0.95, queueMax),
        maxMs: queued > 0 ? round(queueMax, 1) : null,
      },
    };
  }

  /**
   * Integrates the time since the last event into the slots it spans (the requests in flight
   * were the same all along), moving the current slot on; returns the current slot's ring index.
   */
  #advance(now: number): number {
    const t = Math.max(now, this.#at); // a timer never runs back; guard it anyway
    const target = Math.floor(t / this.slotMs);
    if (target - this.#slot > RING) {
      // Idle (or one request in flight) for longer than the ring: only the last RING slots matter.
      this.#slot = target - RING;
      this.#at = Math.max(this.#at, this.#slot * this.slotMs);
      for (let ring = 0; ring < RING; ring++) this.#reset(ring);
    }
    while (this.#slot < target) {
      const slotEnd = (this.#slot + 1) * this.slotMs;
      this.#integrate(ringOf(this.#slot), slotEnd - this.#at);
      this.#at = slotEnd;
      this.#slot++;
      this.#reset(ringOf(this.#slot));
    }
    const ring = ringOf(this.#slot);
    this.#integrate(ring, t - this.#at);
    this.#at = t;
    return ring;
  }

  #integrate(ring: number, dt: number): void {
    if (dt <= 0 || this.#inFlight === 0) return;
    this.#busy[ring]! += dt;
    this.#occupied[ring]! += Math.min(this.#inFlight, this.concurrency) * dt;
    this.#inFlightTime[ring]! += this.#inFlight * dt;
  }

  #reset(ring: number): void {
    this.#requests[ring] = 0;
    this.#busy[ring] = 0;
    this.#occupied[ring] = 0;
    this.#inFlightTime[ring] = 0;
    this.#queued[ring] = 0;
    this.#queueMax[ring] = 0;
    this.#histogram.fill(0, ring * QUEUE_BUCKETS, (ring + 1) * QUEUE_BUCKETS);
  }
}

/** A slot's place in the ring (slots before the timer's origin, -1 and on, included). */
const ringOf = (slot: number) => ((slot % RING) + RING) % RING;

const round = (value: number, digits: number) => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

/** The platform's name for this process, else a random one (never shared by two processes). */
function platformProcessId(): string {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  for (const name of ["DYNO", "RENDER_INSTANCE_ID", "RAILWAY_REPLICA_ID"]) {
    const value = env?.[name];
    if (value) return value;
  }
  return `process-${Math.random().toString(36).slice(2, 10)}${Date.now().toString(36)}`;
}

/** A Fetch API handler whose every request counts in `metrics` (until its Response is returned). */
export function withRequestMetrics(
  handler: (request: Request) => Response | Promise<Response>,
  metrics: RequestMetrics,
): (request: Request) => Promise<Response> {
  return async (request) => {
    metrics.begin(request.headers.get("x-request-start"));
    try {
      return await handler(request);
    } finally {
      metrics.end();
    }
  };
}
