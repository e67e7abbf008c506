import { reportedQueueMs } from "@autoscalebot/heartbeat";
import {
  failedSample,
  requestMetricsReading,
  type MetricSetting,
  type ProcessSample,
  type Reading,
} from "../measure/index.js";
import { SeededRandom, streamSeed } from "./random.js";
import type { SimulationSettings } from "./schema.js";

/**
 * The capacity model of a web formation, one minute at a time (docs/simulator.md has the
 * formulas and what they leave out). Pure arithmetic on seeded draws: the simulator and the
 * live demo's target app both run it, so they agree on what a load does to latency.
 *
 * - Capacity. A process completes `capacityPerProcess` (c) requests a minute when fully busy,
 *   μ = c / 60,000 per ms. A process added by a scale serves `bootSeconds` later; a removed one
 *   stops at once.
 * - Routing `random` (Heroku's router): every process is its own queue. The minute's A arrivals
 *   are split among the processes up, each getting a binomial share in proportion to the part
 *   of the minute it is up (seeded draws, the same for every policy in the same minute).
 * - Routing `shared`: one queue in front of all processes (a least-busy balancer), the model
 *   the simulator had before: M/M/c waiting with its utilisation held at 0.95 from there up.
 * - One queue's minute. Arrivals come evenly at λ = a / window. The backlog D (requests, carried
 *   from minute to minute) moves as a fluid, D' = D + (λ − μ)τ, never below 0 nor above what the
 *   queue serves within the router's timeout, D_max = μ (timeout − serviceTimeMs): what it
 *   cannot hold is dropped. On top of the backlog, random waiting (`queueing: "mmc"`): under
 *   random routing an M/M/1 queue per process whose mean number in the system e follows
 *   Agnew's fluid approximation de/dt = λ − μ e / (1 + e) (stationary at e = ρ / (1 − ρ) below
 *   saturation, growing like √t at it, no utilisation cap), and de/dt = μ / (1 + D + e) while a
 *   backlog stands. An arrival at τ waits the backlog in front of it, D(τ) / μ, plus, with
 *   probability p = ē / (1 + ē), an exponential wait of rate θ = μ / (1 + ē) (ē: e's mean over
 *   the minute).
 * - Latency. Response time R = serviceTimeMs + wait. A request whose R would pass the router's
 *   timeout is dropped (counted apart from the late ones, and at the timeout in the minute's
 *   p95 and mean). Over a minute's arrivals the model gives the share slower than any x exactly
 *   (piecewise exponential integrals, a mixture over the processes), the p95 from it, and the mean.
 * - Measurement. The tick's heartbeat is one request routed as any other at the end of the
 *   minute: a random process up then, its backlog's wait plus a wait drawn from its random
 *   queue, plus its own service time (serviceTimeMs, spread by `noise.stddevMs`). The
 *   request-metrics backend's samples are such requests too, each answered with the minute's
 *   figures of the process it reached (what its middleware counted: served / capacity, served
 *   per minute, the p95 of its arrivals' waits at the histogram's resolution), combined as the
 *   real backend combines them.
 */

export const MINUTE_MS = 60_000;
const T = MINUTE_MS;
/** Shared routing only: utilisation at which its M/M/c term stops growing (the backlog takes over). */
const RHO_CAP = 0.95;
/** The p95: the latency 5% of a minute's requests exceed. */
const P95_SHARE = 0.05;
/** Where |(λ − μ) e / λ| stays below this, Agnew's equation is solved by a series (its closed form divides by (λ − μ)³). */
const NEAR = 0.01;
/** Agnew's equation has relaxed when (λ − μ)² t − |u0| exceeds this × μ. */
const RELAXED = 40;
/** An exponential factor below e^−50 is left out: a share below 2e−22 of a minute's requests. */
const NEGLIGIBLE = 50;

/** Streams of draws, one of each per minute: the routing, the heartbeat, the warm-up minute, the request-metrics samples. */
const ROUTE = 1;
const PROBE = 2;
const WARM = 3;
const SAMPLES = 4;

export type ModelParams = Pick<
  SimulationSettings,
  "capacityPerProcess" | "serviceTimeMs" | "queueing" | "routing" | "routerTimeoutSeconds"
>;
export type FormationParams = ModelParams & Pick<SimulationSettings, "bootSeconds">;

/** One simulated minute: what happened and what it looked like to users. */
export interface MinuteResult {
  /** Requests that arrived in the minute. */
  arrivals: number;
  /** Processes running (billed), booting ones included. */
  processes: number;
  /** Processes serving, a booting one counted by the share of the minute it served. */
  effectiveProcesses: number;
  /** Requests the formation could serve in the minute. */
  capacity: number;
  served: number;
  /** Requests still waiting at the end of the minute. */
  backlog: number;
  /** Over the minute's arrivals, a dropped request counted at the router's timeout. */
  meanMs: number;
  p95Ms: number;
  /** Share of the minute's arrivals answered, but slower than the threshold asked for (the SLO). */
  lateShare: number;
  /** Share of the minute's arrivals dropped: no answer within the router's timeout, or no process up. */
  droppedShare: number;
}

/**
 * A minute for `step` to fill in (every field is written before it returns). NaN until then, not
 * 0: V8 keeps a field that first held a small integer as one, and the first fraction written
 * there (the first backlog, days into a replay) changes the object's hidden class under the
 * compiled model. In some runs the model then deoptimised at that store hundreds of times; a
 * field that holds a double from the start never changes class.
 */
export const emptyMinute = (): MinuteResult => ({
  arrivals: NaN,
  processes: NaN,
  effectiveProcesses: NaN,
  capacity: NaN,
  served: NaN,
  backlog: NaN,
  meanMs: NaN,
  p95Ms: NaN,
  lateShare: NaN,
  droppedShare: NaN,
});

/** Erlang C: the probability that an arrival waits, k servers, offered load a = λ/μ < k. */
export function erlangC(k: number, a: number): number {
  if (a <= 0) return 0;
  let b = 1; // Erlang B by its stable recursion
  for (let i = 1; i <= k; i++) b = (a * b) / (i + a * b);
  const rho = a / k;
  return b / (1 - rho * (1 - b));
}

/** ∫ P(W > g0 − kτ) dτ over [from, to] where g stays ≥ 0: W exponential of rate θ with probability pw. */
function expPart(g0: number, k: number, from: number, to: number, pw: number, theta: number): number {
  if (pw === 0 || to <= from) return 0;
  // Nearly flat (or flat): the midpoint rule is exact enough and avoids cancelling exponentials.
  if (Math.abs(theta * k * (to - from)) < 1e-6)
    return (to - from) * pw * Math.exp(-theta * (g0 - (k * (from + to)) / 2));
  // d/dτ e^{−θ(g0 − kτ)} = θk e^{−θ(g0 − kτ)}
  return (pw / (theta * k)) * (Math.exp(-theta * (g0 - k * to)) - Math.exp(-theta * (g0 - k * from)));
}

/** ∫ P(W > g(τ)) dτ over [a, b] for a linear g(τ) = g0 − kτ; W = 0 with probability 1 − pw, else exponential of rate θ. */
function segmentTail(g0: number, k: number, a: number, b: number, pw: number, theta: number): number {
  if (b <= a) return 0;
  if (k === 0) return g0 < 0 ? b - a : expPart(g0, 0, a, b, pw, theta);
  const c = Math.min(Math.max(g0 / k, a), b); // g(c) = 0
  // g falls: W exceeds it surely after the crossing; g rises: surely before it.
  return k > 0 ? expPart(g0, k, a, c, pw, theta) + (b - c) : c - a + expPart(g0, k, c, b, pw, theta);
}

/**
 * ∫ over a queue's window [0, w] of P(F(τ) + W > y): the fluid wait F(τ) = f0 + kτ held within
 * [0, cap] (ms), the random wait W as in segmentTail.
 */
function queueTail(
  f0: number,
  k: number,
  cap: number,
  w: number,
  pw: number,
  theta: number,
  y: number,
): number {
  if (y < 0) return w;
  if (k > 0) {
    const full = Math.min(w, (cap - f0) / k);
    return segmentTail(y - f0, k, 0, full, pw, theta) + segmentTail(y - cap, 0, full, w, pw, theta);
  }
  if (k < 0) {
    const empty = Math.min(w, f0 / -k);
    return segmentTail(y - f0, k, 0, empty, pw, theta) + segmentTail(y, 0, empty, w, pw, theta);
  }
  return segmentTail(y - f0, 0, 0, w, pw, theta);
}

/** Agnew's equation's solution over t ms: [e(t), ∫e dt]. */
const agnewOut = new Float64Array(2);

/**
 * Agnew's fluid approximation of an M/M/1 queue (mean number in the system e, arrivals λ and
 * service μ per ms): de/dt = λ − μ e / (1 + e), over t ms from e0, into agnewOut. With
 * u = λ + (λ − μ) e it separates into t = [u − μ ln|u|] / (λ − μ)² (solved for u by Newton's
 * method on ln|u|) and ∫e dt = [u²/2 − (λ + μ) u + λμ ln|u|] / (λ − μ)³; near saturation a
 * series in λ − μ.
 */
export function agnew(e0: number, lambda: number, mu: number, t: number): Float64Array {
  const delta = lambda - mu;
  if (t <= 0) {
    agnewOut[0] = e0;
    agnewOut[1] = 0;
  } else if (Math.abs(delta) * Math.max(e0, -1 + Math.sqrt((1 + e0) ** 2 + 2 * lambda * t)) < NEAR * lambda) {
    // Near saturation, where the closed form's terms cancel: dt = (1 + e) de / (λ (1 + εe)),
    // ε = (λ − μ) / λ, expanded to ε² (|εe| < NEAR: an error below NEAR³), solved by Newton's
    // method from the exactly critical (1 + e) de = λ dt.
    const eps = delta / lambda;
    const time = (e: number) =>
      e + (e * e) / 2 - eps * ((e * e) / 2 + e ** 3 / 3) + eps * eps * (e ** 3 / 3 + e ** 4 / 4);
    const area = (e: number) =>
      (e * e) / 2 + e ** 3 / 3 - eps * (e ** 3 / 3 + e ** 4 / 4) + eps * eps * (e ** 4 / 4 + e ** 5 / 5);
    const target = time(e0) + lambda * t;
    let e = -1 + Math.sqrt((1 + e0) ** 2 + 2 * lambda * t);
    for (let i = 0; i < 8; i++) {
      const step = (time(e) - target) / ((1 + e) * (1 - eps * e + eps * eps * e * e));
      e -= step;
      if (Math.abs(step) < 1e-12 * (1 + e)) break;
    }
    agnewOut[0] = e;
    agnewOut[1] = (area(e) - area(e0)) / lambda;
  } else {
    const u0 = lambda + delta * e0;
    if (u0 === 0) {
      agnewOut[0] = e0; // at its stationary value
      agnewOut[1] = e0 * t;
      return agnewOut;
    }
    if (delta * delta * t - Math.abs(u0) > RELAXED * mu) {
      // Relaxed well within t (|u(t)| < |u0| e^−40): e(t) is the stationary λ / (μ − λ), and
      // the integral's logarithms cancel: ∫e dt = −λt/δ + (μu0 − u0²/2) / δ³.
      agnewOut[0] = -lambda / delta;
      agnewOut[1] = Math.max(0, (-lambda * t) / delta + (mu * u0 - (u0 * u0) / 2) / (delta * delta * delta));
      return agnewOut;
    }
    const sign = u0 > 0 ? 1 : -1;
    const v0 = Math.log(Math.abs(u0));
    const target = u0 - mu * v0 + delta * delta * t;
    // sign·e^v − μv = target: f is monotone and convex (u > 0) or concave (u < 0), so Newton's
    // steps converge from the first one on.
    let v = v0;
    for (let i = 0; i < 60; i++) {
      const ev = sign * Math.exp(v);
      const step = (ev - mu * v - target) / (ev - mu);
      v -= step;
      if (Math.abs(step) < 1e-12 * (1 + Math.abs(v))) break;
    }
    const u1 = sign * Math.exp(v);
    const F = (u: number, logU: number) => u * u * 0.5 - (lambda + mu) * u + lambda * mu * logU;
    agnewOut[0] = Math.max(0, (u1 - lambda) / delta);
    agnewOut[1] = Math.max(0, (F(u1, v) - F(u0, v0)) / (delta * delta * delta));
  }
  return agnewOut;
}

/**
 * The minute's queues (one per process up under random routing, one under shared routing): the
 * spread of each queue's waits, for the minute's shares, mean and p95. Typed arrays, grown as
 * needed: a replay allocates nothing per minute.
 */
class Spreads {
  n = 0;
  a = new Float64Array(0);
  /** Fluid wait at the window's start (ms) and its slope (ms per ms). */
  f0 = new Float64Array(0);
  k = new Float64Array(0);
  pw = new Float64Array(0);
  theta = new Float64Array(0);
  /** The window the queue is up (ms). */
  w = new Float64Array(0);
  /** Share of its arrivals the full queue dropped outright. */
  floor = new Float64Array(0);
  mean = new Float64Array(0);
  /** Requests it served in the window (started on, as the app's request metrics count them). */
  served = new Float64Array(0);

  grow(n: number): void {
    if (n <= this.a.length) return;
    const size = Math.max(n, 2 * this.a.length, 16);
    for (const key of ["a", "f0", "k", "pw", "theta", "w", "floor", "mean", "served"] as const) {
      const next = new Float64Array(size);
      next.set(this[key]);
      this[key] = next;
    }
  }
}

/** A queue's share of arrivals whose wait exceeds y (a dropped request's does), from the spread at j. */
function queueShare(q: Spreads, j: number, cap: number, y: number): number {
  const f0 = q.f0[j]!;
  const k = q.k[j]!;
  const pw = q.pw[j]!;
  const theta = q.theta[j]!;
  if (f0 === 0 && k <= 0) {
    // No backlog: a plain exponential tail.
    if (y < 0) return 1;
    return pw > 0 && theta * y < NEGLIGIBLE ? pw * Math.exp(-theta * y) : 0;
  }
  const w = q.w[j]!;
  return Math.max(q.floor[j]!, queueTail(f0, k, cap, w, pw, theta, y) / w);
}

/** The mixture's count of arrivals whose wait exceeds y: Σ arrivals × share over the queues. */
function mixtureTail(q: Spreads, cap: number, y: number): number {
  let sum = 0;
  for (let j = 0; j < q.n; j++) {
    const a = q.a[j]!;
    if (a > 0) sum += a * queueShare(q, j, cap, y);
  }
  return sum;
}

/** What the minute's pass over its queues found, for the p95 (see FormationModel.#minute). */
interface Tails {
  /** Arrivals that wait at all, and that wait past the cap (dropped). */
  atZero: number;
  atCap: number;
  /** At y = the SLO's wait: arrivals slower. */
  atSlo: number;
  /**
   * Of the exponential tails at the SLO's wait, Σ term (θ − θref)^i for i = 1, 2, 3: the
   * moments of the rates θ weighted by each queue's part of the tail, about the first queue's
   * rate (so that they do not cancel). The cumulants of those rates are the derivatives of
   * the tail's logarithm.
   */
  thetaRef: number;
  m1: number;
  m2: number;
  m3: number;
  /** Whether some queue has a backlog (its tail is not a plain exponential). */
  fluid: boolean;
}

/**
 * The smallest wait y with at most 5% of the arrivals (`total`) slower than s + y. Without any
 * backlog the tail is a sum of exponentials, whose logarithm is convex: Newton's method from
 * the SLO's point (exact in one step when the queues are alike) converges in a step or two.
 * With one, false position (Illinois) between 0, the SLO's point and the cap.
 */
function mixtureP95Wait(q: Spreads, cap: number, total: number, ySlo: number, t: Tails): number {
  const target = P95_SHARE * total;
  if (t.atZero <= target) return 0;
  if (t.atCap >= target) return cap;
  if (!t.fluid) {
    let y: number;
    const sum = t.atSlo;
    if (sum > 0 && Number.isFinite(ySlo)) {
      // ln S(ySlo + Δ) = ln S(ySlo) − κ1Δ + κ2Δ²/2 − κ3Δ³/6 + ..., κ the cumulants of the rates
      // under the tail's weights: solve the quadratic, and keep it when the cubic term left
      // out moves the answer by less than 0.005 ms (queues alike: most minutes); else Newton's
      // method from there.
      const d1 = t.m1 / sum;
      const d2 = t.m2 / sum;
      const d3 = t.m3 / sum;
      const k1 = t.thetaRef + d1;
      const k2 = Math.max(0, d2 - d1 * d1);
      const k3 = d3 - 3 * d1 * d2 + 2 * d1 * d1 * d1;
      const gap = Math.log(sum) - Math.log(target);
      const root = k1 * k1 - 2 * k2 * gap;
      const delta = root >= 0 ? (2 * gap) / (k1 + Math.sqrt(root)) : gap / k1;
      y = Math.min(cap, Math.max(0, ySlo + delta));
      const size = Math.abs(delta);
      if (root >= 0 && (Math.abs(k3) * size * size * size) / 6 / k1 < 0.005) return y;
    } else {
      // From where the tail is surely above the target: from the left, the steps only rise.
      let thetaMax = 0;
      for (let j = 0; j < q.n; j++) if (q.a[j]! > 0) thetaMax = Math.max(thetaMax, q.theta[j]!);
      y = Math.log(t.atZero / target) / thetaMax;
    }
    // Newton's method on the convex ln S: after one step it approaches from the left.
    for (let i = 0; i < 50; i++) {
      let total = 0;
      let slope = 0;
      for (let j = 0; j < q.n; j++) {
        const a = q.a[j]!;
        if (a <= 0) continue;
        const term = a * q.pw[j]! * Math.exp(-q.theta[j]! * y);
        total += term;
        slope += term * q.theta[j]!;
      }
      if (total <= 0 || slope <= 0) break;
      const step = ((Math.log(total) - Math.log(target)) * total) / slope;
      y = Math.max(0, y + step);
      // After a step under 0.01 ms the error left is far smaller.
      if (Math.abs(step) < 0.01 || y >= cap) break;
    }
    return Math.min(Math.max(0, y), cap);
  }
  let lo = 0;
  let hi = +cap; // a number for V8, not a boxed one (see splitArrivals)
  let fLo = t.atZero - target;
  let fHi = t.atCap - target;
  if (Number.isFinite(ySlo) && ySlo > 0 && ySlo < cap) {
    const f = t.atSlo - target;
    if (f > 0) {
      lo = ySlo;
      fLo = f;
    } else {
      hi = ySlo;
      fHi = f;
    }
  }
  let side = 0;
  for (let i = 0; i < 100 && hi - lo > 0.005; i++) {
    const mid = fLo - fHi > 0 ? (lo * fHi - hi * fLo) / (fHi - fLo) : (lo + hi) / 2;
    const x = mid > lo && mid < hi ? mid : (lo + hi) / 2;
    const f = mixtureTail(q, cap, x) - target;
    if (Math.abs(f) < 1e-9 * total) return x;
    if (f > 0) {
      lo = x;
      fLo = f;
      if (side === -1) fHi /= 2;
      side = -1;
    } else {
      hi = x;
      fHi = f;
      if (side === 1) fLo /= 2;
      side = 1;
    }
  }
  return hi;
}

/** e^{−x} for |x| < 0.5 by its Taylor series to x¹⁰ (Horner's rule): error below 2e−11 relative. */
function expSeries(x: number): number {
  return (
    1 -
    x *
      (1 -
        x *
          (1 / 2 -
            x *
              (1 / 6 -
                x *
                  (1 / 24 -
                    x *
                      (1 / 120 -
                        x *
                          (1 / 720 -
                            x * (1 / 5040 - x * (1 / 40_320 - x * (1 / 362_880 - x / 3_628_800)))))))))
  );
}

/** The mean of min(W, room): W exponential of rate θ with probability pw (the wait a dropped request stops at). */
function truncatedMean(pw: number, theta: number, room: number): number {
  if (pw === 0 || room <= 0) return 0;
  return theta * room < NEGLIGIBLE ? (pw / theta) * (1 - Math.exp(-theta * room)) : pw / theta;
}

/**
 * One binomial draw: requests out of `n` (not necessarily whole) landing with probability q.
 * Exact by inversion while the variance is small (at most about 50 steps), else its normal
 * approximation, kept within [0, n] (fractional: the model's requests are a fluid).
 */
function binomial(random: SeededRandom, n: number, q: number): number {
  if (q <= 0 || n <= 0) return 0;
  if (q >= 1) return n;
  const mean = n * q;
  const variance = mean * (1 - q);
  if (variance >= 25) return Math.min(n, Math.max(0, mean + Math.sqrt(variance) * random.quantileNormal()));
  const whole = Math.floor(n);
  const flip = q > 0.5;
  const p = flip ? 1 - q : q;
  const u = random.next();
  let term = Math.exp(whole * Math.log1p(-p));
  let cdf = term;
  let k = 0;
  const ratio = p / (1 - p);
  while (u > cdf && k < whole) {
    term *= ((whole - k) / (k + 1)) * ratio;
    k++;
    cdf += term;
  }
  return flip ? whole - k : k;
}

/**
 * The random router: `arrivals` split among `n` queues, queue j up for `windows[j]` ms of the
 * minute, into `out`. Each gets a binomial share in proportion to its window, drawn in turn
 * from what is left (so the shares add up to the arrivals exactly: a multinomial draw).
 */
export function splitArrivals(
  random: SeededRandom,
  arrivals: number,
  windows: Float64Array,
  n: number,
  out: Float64Array,
  upTime = windows.subarray(0, n).reduce((sum, w) => sum + w, 0),
): void {
  // `+`: V8 types a parameter as anything, so a loop variable starting from one was a boxed
  // number, a new heap object at every step (two per process per minute); `+` makes it a number.
  let remaining = +arrivals;
  let rest = +upTime;
  for (let j = 0; j < n; j++) {
    const w = windows[j]!;
    if (w <= 0) {
      out[j] = 0;
      continue;
    }
    const a = rest - w <= 1e-9 * upTime ? remaining : binomial(random, remaining, w / rest);
    remaining -= a;
    rest -= w;
    out[j] = a;
  }
}

/** The formation's state saved for a trial minute (the oracle tries counts without keeping them). */
interface Snapshot {
  n: number;
  readyAt: Float64Array;
  d: Float64Array;
  e: Float64Array;
  pool: number;
}

/** What the heartbeat's one request met: its wait (Infinity: no process up) and its own service time. */
export interface Probe {
  waitMs: number;
  serviceMs: number;
}

/** How a minute is stepped: kept (and its p95 computed), tried (shares only, then forgotten), or a warm-up. */
const enum Mode {
  Keep,
  Try,
  Warm,
}

/**
 * A formation over time: its processes (booting ones included), each process's queue under
 * random routing or the one shared queue, carried from minute to minute. `scaleTo` at a
 * minute's start (the tick's moment), then `step` through the minute; `probe` is the heartbeat
 * at the end of the minute stepped last.
 */
export class FormationModel {
  readonly #mu: number;
  readonly #c: number;
  readonly #s: number;
  /** The wait after which the router drops a request (ms). */
  readonly #cap: number;
  readonly #random: boolean;
  readonly #mmc: boolean;
  readonly #bootMs: number;
  readonly #seed: number;
  readonly #rng = new SeededRandom(0);
  readonly #q = new Spreads();
  // Written before they are read; NaN, not 0, for the reason given at emptyMinute.
  readonly #probe: Probe = { waitMs: NaN, serviceMs: NaN };
  readonly #tails: Tails = {
    atZero: NaN,
    atCap: NaN,
    atSlo: NaN,
    thetaRef: NaN,
    m1: NaN,
    m2: NaN,
    m3: NaN,
    fluid: false,
  };
  #n = 0;
  /** Per process: when it serves (−Infinity: already), oldest first; its backlog and random queue. */
  #readyAt = new Float64Array(16).fill(-Infinity);
  #d = new Float64Array(16);
  #e = new Float64Array(16);
  /** Shared routing: the one queue's backlog, and its random wait's spread at the last minute's end. */
  #pool = 0;
  #poolPw = 0;
  #poolTheta = 1;
  #poolEndRate = 0;
  #lastEnd = -Infinity;
  #snapshot: Snapshot = {
    n: 0,
    readyAt: new Float64Array(0),
    d: new Float64Array(0),
    e: new Float64Array(0),
    pool: 0,
  };

  constructor(params: FormationParams, initialProcesses: number, seed = 1) {
    this.#mu = params.capacityPerProcess / T;
    this.#c = params.capacityPerProcess;
    this.#s = params.serviceTimeMs;
    this.#cap = Math.max(0, params.routerTimeoutSeconds * 1000 - params.serviceTimeMs);
    this.#random = params.routing === "random";
    this.#mmc = params.queueing === "mmc";
    this.#bootMs = params.bootSeconds * 1000;
    this.#seed = seed;
    this.#grow(initialProcesses);
    this.#n = initialProcesses;
  }

  /** Processes running (billed), booting ones included. */
  get processes(): number {
    return this.#n;
  }

  /** Requests waiting (the backlog of every queue). */
  get backlog(): number {
    if (!this.#random) return this.#pool;
    let sum = 0;
    for (let j = 0; j < this.#n; j++) sum += this.#d[j]!;
    return sum;
  }

  #grow(n: number): void {
    if (n <= this.#d.length) return;
    const size = Math.max(n, 2 * this.#d.length);
    const readyAt = new Float64Array(size).fill(-Infinity);
    readyAt.set(this.#readyAt.subarray(0, this.#n));
    const d = new Float64Array(size);
    d.set(this.#d.subarray(0, this.#n));
    const e = new Float64Array(size);
    e.set(this.#e.subarray(0, this.#n));
    this.#readyAt = readyAt;
    this.#d = d;
    this.#e = e;
  }

  /**
   * A scale applied at `atMs`: new processes boot, with empty queues; removed ones stop at once,
   * booting ones first, then the newest. A stopped process's backlog is spread over the
   * processes still up (so each request is counted once; the router does not really re-send them).
   */
  scaleTo(target: number, atMs: number): void {
    if (target > this.#n) {
      this.#grow(target);
      for (let j = this.#n; j < target; j++) {
        this.#readyAt[j] = this.#bootMs > 0 ? atMs + this.#bootMs : -Infinity;
        this.#d[j] = 0;
        this.#e[j] = 0;
      }
      this.#n = target;
      return;
    }
    let orphaned = 0;
    while (this.#n > target) {
      this.#n--;
      orphaned += this.#d[this.#n]!;
    }
    if (orphaned > 0 && this.#random) {
      let up = 0;
      while (up < this.#n && this.#readyAt[up]! <= atMs) up++;
      for (let j = 0; j < up; j++) this.#d[j] = this.#d[j]! + orphaned / up;
    }
  }

  /** Empties every queue (after a gap in the trace: nothing is known of the minutes before). */
  reset(): void {
    this.#d.fill(0);
    this.#e.fill(0);
    this.#pool = 0;
  }

  /** The minute starting at `startMs` with `arrivals` requests. */
  step(arrivals: number, startMs: number, sloMs: number, out: MinuteResult): MinuteResult {
    return this.#minute(arrivals, startMs, sloMs, out, Mode.Keep);
  }

  /**
   * What the heartbeat reports at `atMs` when the minute before is unknown (the first minute,
   * or the first after a gap): the queues are emptied, then a minute at this load runs on the
   * processes there are (all of them up), with its own draws; it is neither recorded nor billed.
   */
  warmUp(arrivals: number, atMs: number): void {
    this.reset();
    this.#minute(arrivals, atMs - T, Infinity, emptyMinute(), Mode.Warm, atMs);
  }

  /**
   * The share of the minute's requests slower than `sloMs` (late or dropped) and its mean, had
   * the formation `count` processes up (all serving), without keeping the minute: the oracle's
   * trial. The same draws as a kept minute.
   */
  tryCount(count: number, arrivals: number, startMs: number, sloMs: number, out: MinuteResult): MinuteResult {
    this.#save();
    this.scaleTo(count, startMs);
    this.#minute(arrivals, startMs, sloMs, out, Mode.Try);
    this.#restore();
    return out;
  }

  #save(): void {
    const snap = this.#snapshot;
    if (snap.d.length < this.#d.length) {
      snap.readyAt = new Float64Array(this.#d.length);
      snap.d = new Float64Array(this.#d.length);
      snap.e = new Float64Array(this.#d.length);
    }
    snap.n = this.#n;
    snap.readyAt.set(this.#readyAt.subarray(0, this.#n));
    snap.d.set(this.#d.subarray(0, this.#n));
    snap.e.set(this.#e.subarray(0, this.#n));
    snap.pool = this.#pool;
  }

  #restore(): void {
    const snap = this.#snapshot;
    this.#n = snap.n;
    this.#readyAt.set(snap.readyAt.subarray(0, snap.n));
    this.#d.set(snap.d.subarray(0, snap.n));
    this.#e.set(snap.e.subarray(0, snap.n));
    this.#pool = snap.pool;
  }

  /** One minute; its draws are those of the minute at `keyMs` (the warm-up's: the minute it precedes). */
  #minute(
    arrivals: number,
    startMs: number,
    sloMs: number,
    out: MinuteResult,
    mode: Mode,
    keyMs = startMs,
  ): MinuteResult {
    const endMs = startMs + T;
    const n = this.#n;
    const q = this.#q;
    let upTime = 0; // Σ windows (ms)
    let upAtEnd = 0;
    const readyAt = this.#readyAt;
    while (upAtEnd < n && readyAt[upAtEnd]! <= endMs) upAtEnd++;
    q.grow(Math.max(1, n));
    const windows = q.w;
    for (let j = 0; j < n; j++) {
      const w = Math.min(T, Math.max(0, endMs - Math.max(startMs, readyAt[j]!)));
      windows[j] = w;
      upTime += w;
    }
    const effective = upTime / T;
    if (mode !== Mode.Try) this.#upTime = upTime;
    out.arrivals = arrivals;
    out.processes = n;
    out.effectiveProcesses = effective;
    out.capacity = effective * this.#c;
    if (this.#random) this.#routed(arrivals, keyMs, upTime, mode);
    else this.#shared(arrivals, effective, upAtEnd);

    // The minute's figures: a mixture over the queues, each weighted by its arrivals.
    const cap = this.#cap;
    const ySlo = sloMs - this.#s;
    const t = this.#tails;
    let atZero = 0;
    let atCap = 0;
    let atSlo = 0;
    let m1 = 0;
    let m2 = 0;
    let m3 = 0;
    let thetaRef = NaN;
    let refFactor = 0;
    let fluid = false;
    let mean = 0;
    const { a: A, f0: F0, k: K, pw: PW, theta: TH, mean: MEAN } = q;
    for (let j = 0; j < q.n; j++) {
      const a = A[j]!;
      if (a <= 0) continue;
      mean += a * MEAN[j]!;
      if (F0[j] === 0 && K[j]! <= 0) {
        const pw = PW[j]!;
        if (pw === 0) continue;
        const theta = TH[j]!;
        atZero += a * pw;
        if (theta * cap < NEGLIGIBLE) atCap += a * pw * Math.exp(-theta * cap);
        if (ySlo < 0) atSlo += a;
        else if (theta * ySlo < NEGLIGIBLE) {
          if (thetaRef !== thetaRef) {
            thetaRef = theta; // NaN: the first queue
            refFactor = Math.exp(-theta * ySlo);
          }
          const dev = theta - thetaRef;
          // e^{−θy} = e^{−θref y} e^{−(θ − θref) y}: the queues' rates are close, so the second
          // factor is a short series (relative error below 2e−11), else computed.
          const x = dev * ySlo;
          const term = a * pw * refFactor * (x < 0.5 && x > -0.5 ? expSeries(x) : Math.exp(-x));
          const termDev = term * dev;
          atSlo += term;
          m1 += termDev;
          m2 += termDev * dev;
          m3 += termDev * dev * dev;
        }
      } else {
        fluid = true;
        atZero += a * queueShare(q, j, cap, 0);
        const lost = queueShare(q, j, cap, cap);
        atCap += a * lost;
        if (ySlo < Infinity) atSlo += a * Math.max(lost, queueShare(q, j, cap, ySlo));
      }
    }
    t.atZero = atZero;
    t.atCap = atCap;
    t.atSlo = atSlo;
    t.m1 = m1;
    t.m2 = m2;
    t.m3 = m3;
    t.thetaRef = thetaRef;
    t.fluid = fluid;
    let backlog = 0;
    if (this.#random) {
      for (let j = 0; j < n; j++) backlog += this.#d[j]!;
    } else backlog = this.#pool;
    const timeout = this.#s + cap;
    if (mode !== Mode.Try) this.#lastEnd = endMs;
    out.backlog = backlog;
    if (upTime <= 0 || q.n === 0) {
      // No process up: the router has nowhere to send a request (Heroku: H14).
      out.served = 0;
      out.meanMs = arrivals > 0 ? timeout : this.#s;
      out.p95Ms = out.meanMs;
      out.lateShare = 0;
      out.droppedShare = arrivals > 0 ? 1 : 0;
      return out;
    }
    out.served = Math.max(0, this.#served);
    if (arrivals > 0) {
      out.droppedShare = Math.min(1, t.atCap / arrivals);
      out.lateShare = Math.max(0, Math.min(1, t.atSlo / arrivals) - out.droppedShare);
      out.meanMs = Math.min(timeout, mean / arrivals);
      out.p95Ms = mode === Mode.Keep ? this.#s + mixtureP95Wait(q, cap, arrivals, ySlo, t) : NaN;
    } else {
      out.droppedShare = 0;
      out.lateShare = 0;
      out.meanMs = this.#s;
      out.p95Ms = this.#s;
    }
    return out;
  }

  /** Requests the last minute's queues served (set by #routed / #shared). */
  #served = 0;
  /** The last minute's Σ of the windows processes were up (ms). */
  #upTime = 0;

  /** Random routing: each process up gets a binomial share of the arrivals, and runs its own queue. */
  #routed(arrivals: number, keyMs: number, upTime: number, mode: Mode): void {
    const q = this.#q;
    const n = this.#n;
    const rng = this.#rng.reset(
      streamSeed(this.#seed, Math.floor(keyMs / T), mode === Mode.Warm ? WARM : ROUTE),
    );
    const mu = this.#mu;
    const cap = this.#cap;
    const s = this.#s;
    const mmc = this.#mmc;
    const keep = mode !== Mode.Try;
    const dmax = mu * cap;
    const D = this.#d;
    const E = this.#e;
    const { a: A, w: W, f0: F0, k: K, pw: PW, theta: TH, floor: FLOOR, mean: MEAN, served: SERVED } = q;
    const invMu = 1 / mu;
    let served = 0;
    q.n = n;
    splitArrivals(rng, arrivals, W, n, A, upTime);
    for (let j = 0; j < n; j++) {
      const w = W[j]!;
      if (w <= 0) continue;
      const a = A[j]!;
      const d0 = Math.min(D[j]!, dmax);
      const e0 = E[j]!;
      const lambda = a / w;
      const delta = lambda - mu;
      if (d0 === 0 && delta < 0) {
        // No backlog and below capacity, the common case: Agnew's equation alone.
        let e1 = 0;
        let eMean = 0;
        if (mmc) {
          const u0 = lambda + delta * e0;
          if (delta * delta * w - Math.abs(u0) > RELAXED * mu) {
            e1 = -lambda / delta; // relaxed (see agnew)
            eMean = e1 + (mu * u0 - (u0 * u0) / 2) / (delta * delta * delta * w);
          } else {
            // `+`: a branch the compiler has seen too rarely yields values of unknown type, and a
            // variable that merges one with the common branch's numbers was a new heap number
            // at every step of the common branch (a process per minute); `+` keeps it a number.
            const solved = agnew(e0, lambda, mu, w);
            e1 = +solved[0]!;
            eMean = +solved[1]! / w;
          }
          if (eMean < 0) eMean = 0;
        }
        if (keep) {
          D[j] = 0;
          E[j] = e1;
        }
        served += a;
        SERVED[j] = a;
        const pw = eMean / (1 + eMean);
        const theta = mu * (1 - pw); // μ / (1 + ē)
        F0[j] = 0;
        K[j] = delta * invMu;
        PW[j] = pw;
        TH[j] = theta;
        FLOOR[j] = 0;
        // The mean wait ē / μ, less what the timeout cuts off (negligible unless ē is large);
        // stored in each branch, for the reason given at `+solved` above.
        if (theta * cap < NEGLIGIBLE) MEAN[j] = s + truncatedMean(pw, theta, cap);
        else MEAN[j] = s + eMean * invMu;
        continue;
      }
      // The backlog: rising to the queue's limit, or falling to empty.
      let d1 = 0;
      let overflow = 0;
      let busy = 0; // time with a backlog standing
      let dMean = 0; // the backlog's mean over that time
      if (delta >= 0) {
        if (d0 > 0 || delta > 0) {
          busy = w;
          const full = delta > 0 ? (dmax - d0) / delta : Infinity;
          if (full >= w) {
            d1 = d0 + delta * w;
            dMean = d0 + (delta * w) / 2;
          } else {
            d1 = dmax;
            overflow = d0 + delta * w - dmax;
            dMean = ((full * (d0 + dmax)) / 2 + (w - full) * dmax) / w;
          }
        }
      } else {
        busy = Math.min(w, d0 / -delta);
        d1 = Math.max(0, d0 + delta * w);
        dMean = d0 + (delta * busy) / 2;
      }
      // The random queue: growing slowly while a backlog stands, then Agnew's equation.
      let e1 = 0;
      let eMean = 0;
      if (mmc) {
        let e = e0;
        let area = 0;
        if (busy > 0) {
          const base = 1 + dMean;
          e = -base + Math.sqrt((base + e0) ** 2 + 2 * mu * busy);
          area = ((base * (e * e - e0 * e0)) / 2 + (e * e * e - e0 * e0 * e0) / 3) / mu;
        }
        if (busy < w) {
          const solved = agnew(e, lambda, mu, w - busy);
          e = +solved[0]!;
          area += +solved[1]!;
        }
        e1 = e;
        eMean = area / w;
      }
      if (keep) {
        D[j] = d1;
        E[j] = e1;
      }
      SERVED[j] = d0 + a - d1 - overflow;
      served += SERVED[j]!;
      const pw = eMean / (1 + eMean);
      const theta = mu / (1 + eMean);
      F0[j] = d0 / mu;
      K[j] = delta / mu;
      PW[j] = pw;
      TH[j] = theta;
      FLOOR[j] = a > 0 ? overflow / a : 0;
      const fluidMean = (dMean * busy) / w / mu;
      MEAN[j] = s + fluidMean + truncatedMean(pw, theta, cap - fluidMean);
    }
    this.#served = served;
  }

  /**
   * Shared routing: one queue served at the formation's whole rate, M/M/c waiting on top of
   * the backlog (utilisation held at RHO_CAP from there up, as the simulator had it before).
   */
  #shared(arrivals: number, effective: number, upAtEnd: number): void {
    const q = this.#q;
    const rate = effective * this.#mu; // per ms
    this.#poolEndRate = upAtEnd * this.#mu;
    q.n = 0;
    this.#served = 0;
    if (rate <= 0) {
      this.#poolPw = 0;
      return;
    }
    const cap = this.#cap;
    const dmax = rate * cap;
    const d0 = Math.min(this.#pool, dmax);
    const lambda = arrivals / T;
    const delta = lambda - rate;
    let d1 = 0;
    let overflow = 0;
    let fluidMean = 0; // ms
    if (delta >= 0) {
      const full = delta > 0 ? (dmax - d0) / delta : Infinity;
      if (full >= T) {
        d1 = d0 + delta * T;
        fluidMean = (d0 + (delta * T) / 2) / rate;
      } else {
        d1 = dmax;
        overflow = d0 + delta * T - dmax;
        fluidMean = ((full * (d0 + dmax)) / 2 + (T - full) * dmax) / T / rate;
      }
    } else if (d0 > 0) {
      const busy = Math.min(T, d0 / -delta);
      d1 = Math.max(0, d0 + delta * T);
      fluidMean = ((d0 + (delta * busy) / 2) * busy) / T / rate;
    }
    let pw = 0;
    let theta = 1;
    if (this.#mmc && arrivals > 0) {
      const servers = Math.max(1, Math.round(effective));
      const rho = Math.min(lambda / rate, RHO_CAP);
      pw = erlangC(servers, servers * rho);
      theta = rate * (1 - rho);
    }
    this.#pool = d1;
    this.#poolPw = pw;
    this.#poolTheta = theta;
    this.#served = d0 + arrivals - d1 - overflow;
    q.n = 1;
    q.served[0] = this.#served;
    q.a[0] = arrivals;
    q.w[0] = T;
    q.f0[0] = d0 / rate;
    q.k[0] = delta / rate;
    q.pw[0] = pw;
    q.theta[0] = theta;
    q.floor[0] = arrivals > 0 ? overflow / arrivals : 0;
    q.mean[0] = this.#s + fluidMean + truncatedMean(pw, theta, cap - fluidMean);
  }

  /**
   * The heartbeat at `atMs`, the end of the minute stepped last: one request routed to a random
   * process up (random routing) and waiting behind its backlog and its random queue, or behind
   * the shared queue; its own service time is serviceTimeMs plus Gaussian spread `stddevMs`.
   * Reused object: read it before the next call.
   */
  probe(atMs: number, stddevMs = 0): Probe {
    const rng = this.#rng.reset(streamSeed(this.#seed, Math.floor(atMs / T), PROBE));
    const p = this.#probe;
    let wait = Infinity;
    if (this.#random) {
      const up = this.#upAtEnd();
      if (up > 0) {
        const j = Math.min(up - 1, Math.floor(rng.next() * up));
        const e = this.#e[j]!;
        wait = this.#d[j]! / this.#mu;
        if (rng.next() < e / (1 + e)) wait += (rng.exponential() * (1 + e)) / this.#mu;
      }
    } else if (this.#poolEndRate > 0) {
      wait = this.#pool / this.#poolEndRate;
      if (rng.next() < this.#poolPw) wait += rng.exponential() / this.#poolTheta;
    }
    p.waitMs = wait;
    p.serviceMs = Math.max(0, this.#s + (stddevMs > 0 ? rng.normal() * stddevMs : 0));
    return p;
  }

  /** Processes up at the end of the minute stepped last (the oldest first: the first ones). */
  #upAtEnd(): number {
    let up = 0;
    while (up < this.#n && this.#readyAt[up]! <= this.#lastEnd) up++;
    return up;
  }

  /**
   * The request-metrics backend's reading at `atMs`, the end of the minute stepped last:
   * `options.samples` heartbeat requests, each routed to a random process up (their own
   * stream of draws, two a sample) and waiting as any request there would (its backlog, then
   * its random queue's wait); one slower than the measurement's or the router's timeout fails,
   * the others answer with the minute's figures of their process; combined by the real
   * backend's requestMetricsReading. A sample's own service time is serviceTimeMs (the spread
   * `noise.stddevMs` is the heartbeat probe's: against a timeout of seconds it is lost in the wait).
   */
  requestMetrics(atMs: number, options: HeartbeatOptions): Reading {
    const rng = this.#rng.reset(streamSeed(this.#seed, Math.floor(atMs / T), SAMPLES));
    const count = options.samples ?? DEFAULT_SAMPLES;
    const samples = this.#samples;
    while (samples.length < count) samples.push(failedSample("", "overload"));
    if (options !== this.#failedFor) {
      this.#failedFor = options;
      this.#failure = timeoutError(options);
    }
    // A new mark for this reading: a process whose mark it already has was sampled before.
    if (this.#sampled.length < this.#n) this.#sampled = new Int32Array(2 * this.#n);
    const sampled = this.#sampled;
    let reading = (this.#reading = (this.#reading + 1) | 0);
    if (reading === 0) {
      // Wrapped round after 2^32 readings: no old mark may equal a new one.
      sampled.fill(0);
      reading = this.#reading = 1;
    }
    const up = this.#random || this.#poolEndRate > 0 ? this.#upAtEnd() : 0;
    // The longest a sample may wait and still be answered in time.
    const room = Math.min(options.timeoutMs, options.routerTimeoutMs) - this.#s;
    for (let i = 0; i < count; i++) {
      const sample = samples[i]!; // filled in place: a replay allocates no sample
      const j = up > 0 ? Math.min(up - 1, Math.floor(rng.next() * up)) : -1;
      if (j < 0 || !this.#answeredWithin(j, rng.next(), room)) {
        sample.ok = false;
        sample.error = this.#failure;
        sample.failureMeans = "overload";
        continue;
      }
      sample.ok = true;
      sample.process = processName(j);
      // A process sampled before: the combination keeps its first sample's figures.
      if (sampled[j] !== reading) {
        sampled[j] = reading;
        this.#processMetrics(j, sample);
      }
    }
    return requestMetricsReading(samples, options.metric ?? "utilisation", count);
  }

  /**
   * Whether a request reaching process j at the end of the minute stepped last waits at most
   * `room` ms: its backlog's wait, then with probability p an exponential one of rate θ (the
   * shared queue's under shared routing). By inversion of the uniform u, that random wait
   * passes the room left exactly when u < p e^{−θ · left}.
   */
  #answeredWithin(j: number, u: number, room: number): boolean {
    let left: number;
    let p: number;
    let theta: number;
    if (this.#random) {
      const e = this.#e[j]!;
      left = room - this.#d[j]! / this.#mu;
      p = e / (1 + e);
      theta = this.#mu / (1 + e);
    } else {
      left = room - this.#pool / this.#poolEndRate;
      p = this.#poolPw;
      theta = this.#poolTheta;
    }
    if (left < 0) return false;
    return !(u < p && u < p * Math.exp(-theta * left));
  }

  readonly #samples: ProcessSample[] = [];
  /** Per process, the mark of the last reading that sampled it (see requestMetrics). */
  #sampled = new Int32Array(0);
  #reading = 0;
  /** A failed sample's message, made once for the options it is for (a replay has one). */
  #failedFor: HeartbeatOptions | null = null;
  #failure = "";

  /**
   * What process j's request metrics say of the minute stepped last, into `out`: its
   * utilisation (served over what it could serve in the part of the minute it was up, at most
   * 100% under the one-server model: a saturated process reads 100% however long its queue),
   * its requests served per minute, and the p95 of its arrivals' waits (a dropped one's at the
   * router's timeout) at the middleware's histogram resolution. Shared routing: the one queue's,
   * per process. Null figures for a process up for none of the minute.
   */
  #processMetrics(j: number, out: ProcessSample): void {
    const q = this.#q;
    const queue = this.#random ? j : 0;
    const window = this.#random ? q.w[j]! : this.#upTime;
    if (!(window > 0)) {
      out.utilisation = null;
      out.requestsPerProcess = null;
      out.queueTimeP95Ms = null;
      return;
    }
    const served = q.served[queue]!;
    out.utilisation = Math.min(100, (served / (this.#mu * window)) * 100);
    out.requestsPerProcess = (served / window) * T;
    if (!(q.a[queue]! > 0)) {
      out.queueTimeP95Ms = null;
      return;
    }
    const wait = this.#p95Wait(queue);
    // At the histogram's resolution, and (as there) never above the longest wait, the cap.
    out.queueTimeP95Ms = wait > 0 ? Math.min(reportedQueueMs(wait), this.#cap) : 0;
  }

  /**
   * The smallest wait that at most 5% of queue k's arrivals in the minute stepped last exceed
   * (ms), or under a backlog one the middleware's histogram reports as it (all #processMetrics
   * keeps of it).
   */
  #p95Wait(k: number): number {
    const q = this.#q;
    const cap = this.#cap;
    if (q.f0[k] === 0 && q.k[k]! <= 0) {
      // No backlog: P(W > y) = p e^{−θy}.
      const pw = q.pw[k]!;
      return pw > P95_SHARE ? Math.min(cap, Math.log(pw / P95_SHARE) / q.theta[k]!) : 0;
    }
    if (queueShare(q, k, cap, cap) >= P95_SHARE) return cap;
    if (queueShare(q, k, cap, 0) <= P95_SHARE) return 0;
    // The share falls as y rises: bisection to a hundredth of a millisecond, or until every wait
    // between the ends is reported alike (the report rises with the wait), when the bisection's
    // answer, which lies between them, would be reported so too.
    let lo = 0;
    let hi = cap;
    let loReported = reportedQueueMs(lo);
    let hiReported = reportedQueueMs(hi);
    while (hi - lo > 0.01 && loReported !== hiReported) {
      const mid = (lo + hi) / 2;
      if (queueShare(q, k, cap, mid) > P95_SHARE) {
        lo = mid;
        loReported = reportedQueueMs(lo);
      } else {
        hi = mid;
        hiReported = reportedQueueMs(hi);
      }
    }
    return hi;
  }
}

/** Processes' names in request-metrics samples, made once each (a replay allocates no string per sample). */
const processNames: string[] = [];
function processName(j: number): string {
  while (processNames.length <= j) processNames.push(`web.${processNames.length + 1}`);
  return processNames[j]!;
}

/**
 * A steady minute's latency on the SLO's metric: `processes` all serving, every queue at its
 * stationary state, each process its expected share (no draws).
 */
export function steadyLatency(
  params: ModelParams,
  arrivals: number,
  processes: number,
  metric: "p95" | "mean",
): number {
  const s = params.serviceTimeMs;
  const timeout = params.routerTimeoutSeconds * 1000;
  if (processes <= 0) return arrivals > 0 ? timeout : s;
  const rate = (processes * params.capacityPerProcess) / T; // per ms
  const rho = arrivals / T / rate;
  // M/M/1 has no steady state at saturation; the fluid queue (and shared, held at RHO_CAP) has.
  const random = params.routing === "random" && params.queueing === "mmc";
  if (rho > 1 || (random && rho >= 1 && arrivals > 0)) return timeout;
  let pw = 0;
  let theta = 1;
  if (params.queueing === "mmc" && arrivals > 0) {
    if (params.routing === "random") {
      pw = rho; // M/M/1 per process
      theta = (params.capacityPerProcess / T) * (1 - rho);
    } else {
      const r = Math.min(rho, RHO_CAP);
      pw = erlangC(processes, processes * r);
      theta = rate * (1 - r);
    }
  }
  const latency =
    metric === "mean"
      ? s + (pw > 0 ? pw / theta : 0)
      : s + (pw > P95_SHARE ? Math.log(pw / P95_SHARE) / theta : 0);
  return Math.min(timeout, latency);
}

/** How many processes `processesFor` tries at most. */
export const PROCESSES_LIMIT = 10_000;

/**
 * The fewest processes whose steady latency at this load meets the SLO; null when no count up
 * to `limit` does (not attainable: an SLO at or below the service time, or just above it).
 */
export function processesFor(
  params: ModelParams,
  arrivals: number,
  sloMs: number,
  metric: "p95" | "mean",
  limit = PROCESSES_LIMIT,
): number | null {
  if (sloMs < params.serviceTimeMs) return null; // every request takes the service time
  for (let n = Math.max(1, Math.ceil(arrivals / params.capacityPerProcess)); n <= limit; n++)
    if (steadyLatency(params, arrivals, n, metric) <= sloMs) return n;
  return null;
}

export interface HeartbeatOptions {
  measurement: "response-time" | "queue-time" | "request-metrics";
  /** The measurement's timeout: slower is a failed reading. */
  timeoutMs: number;
  /** The router's: a heartbeat slower than this is answered 503 by the router (Heroku: H12). */
  routerTimeoutMs: number;
  /** request-metrics: requests per reading (default 8) and the figure that is its value (default utilisation). */
  samples?: number;
  metric?: MetricSetting;
}

/** The request-metrics backend's default samples a reading. */
const DEFAULT_SAMPLES = 8;

/** Why a heartbeat request slower than the measurement's or the router's timeout failed, as the real probe says it. */
function timeoutError(options: HeartbeatOptions): string {
  return options.timeoutMs <= options.routerTimeoutMs
    ? `heartbeat failed: no answer within ${options.timeoutMs} ms`
    : "heartbeat failed: HTTP 503 (the router gave up)";
}

/** The reading the policy gets from the heartbeat's one request, as the real backend would report it. */
export function heartbeatReading(probe: Probe, options: HeartbeatOptions): Reading {
  const backend = options.measurement;
  const response = probe.serviceMs + probe.waitMs;
  if (!(response <= Math.min(options.timeoutMs, options.routerTimeoutMs)))
    return { backend, value: options.timeoutMs, unit: "ms", ok: false, error: timeoutError(options) };
  const value = Math.round(backend === "queue-time" ? probe.waitMs : response);
  return { backend, value, unit: "ms", ok: true };
}

/** What the policy reads at `atMs` from the model, by the measurement it uses. */
export function modelledReading(
  model: FormationModel,
  atMs: number,
  stddevMs: number,
  options: HeartbeatOptions,
): Reading {
  return options.measurement === "request-metrics"
    ? model.requestMetrics(atMs, options)
    : heartbeatReading(model.probe(atMs, stddevMs), options);
}
