/**
 * The fixed histogram of request queue times that request metrics keep: counting a request is
 * one array increment, whatever the load, and a window's p50 and p95 are read from the counts.
 *
 * Bucket 0 holds waits below 1 ms (the router and the app's clocks differ by about that much, so
 * finer says nothing). Above, 4 buckets per doubling: bucket i ≥ 1 holds [2^((i−1)/4), 2^(i/4)) ms,
 * up to 2^17 ms (131 s, past any router's timeout); the last bucket holds everything longer. A
 * quantile is reported as its bucket's upper edge, never below the exact value and at most
 * 2^(1/4) − 1 ≈ 19% above it (and never above the window's largest wait, which is kept exactly).
 */
const PER_DOUBLING = 4;
const TOP_DOUBLING = 17;
/** Buckets in one histogram: the sub-millisecond one, 4 per doubling up to 2^17 ms, the overflow. */
export const QUEUE_BUCKETS = PER_DOUBLING * TOP_DOUBLING + 2;
const OVERFLOW = QUEUE_BUCKETS - 1;

/** The bucket a wait of `ms` (≥ 0) falls in. */
export function queueBucket(ms: number): number {
  if (!(ms >= 1)) return 0;
  const i = Math.floor(Math.log2(ms) * PER_DOUBLING) + 1;
  return i < OVERFLOW ? i : OVERFLOW;
}

/** What each bucket reports: its upper edge in ms, rounded up to a tenth (Infinity: the overflow). */
const REPORTED = Array.from({ length: QUEUE_BUCKETS }, (_, i) =>
  i === OVERFLOW ? Infinity : Math.ceil(2 ** (i / PER_DOUBLING) * 10 - 1e-9) / 10,
);

/**
 * What a histogram reports for a quantile whose exact value is `ms`: its bucket's upper edge
 * (the exact value in the overflow bucket). The simulator uses it, so that its readings have
 * the middleware's resolution.
 */
export function reportedQueueMs(ms: number): number {
  const reported = REPORTED[queueBucket(ms)]!;
  return Number.isFinite(reported) ? reported : ms;
}

/**
 * The q-quantile (0 < q ≤ 1) of `total` counts in `counts` (QUEUE_BUCKETS of them), by nearest
 * rank: what the bucket holding the ⌈q × total⌉-th smallest wait reports, at most `maxMs`. Null
 * without counts.
 */
export function histogramQuantile(
  counts: ArrayLike<number>,
  total: number,
  q: number,
  maxMs: number,
): number | null {
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(q * total - 1e-9));
  let seen = 0;
  for (let i = 0; i < QUEUE_BUCKETS; i++) {
    seen += counts[i]!;
    if (seen >= rank) return Math.min(REPORTED[i]!, maxMs);
  }
  return maxMs;
}
