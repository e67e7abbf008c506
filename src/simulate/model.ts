import type { Reading } from "../measure/index.js";
import type { SimulationSettings } from "./schema.js";

/**
 * The capacity model of a web formation, one minute at a time. Pure arithmetic: the simulator
 * and the live demo's target app both run it, so they agree on what a load does to latency.
 *
 * - Capacity. A process completes `capacityPerProcess` requests a minute when fully busy. A
 *   process added by a scale serves only `bootSeconds` after it (Heroku's dyno boot), so in the
 *   minute it comes up it serves the fraction of the minute left; a removed process stops at
 *   once. The minute's capacity C is `effective processes × capacityPerProcess`.
 * - Fluid backlog. Requests arrive evenly over the minute (A of them); whatever the formation
 *   cannot serve waits, and the backlog B is carried to the next minute:
 *   `B' = max(0, B + A − C)`, served `min(B + A, C)`. A request arriving τ into the minute waits
 *   for the queue in front of it, `Q(τ) / c` with `Q(τ) = max(0, B + (λ − c)τ)` (λ, c: arrival
 *   and service rates), first come first served.
 * - Random waiting (`queueing: "mmc"`). Below saturation requests still wait now and then for a
 *   busy process: the formation is an M/M/k queue with k = round(effective processes) servers
 *   sharing C, utilisation ρ = A / C (held at 0.95 at and above saturation, where the backlog
 *   takes over). A request waits with the Erlang C probability P_w, the wait exponential with
 *   rate θ = kμ(1 − ρ). `queueing: "fluid"` leaves this out.
 * - Latency. Response time R = serviceTimeMs + fluid wait + random wait, capped at Heroku's
 *   router timeout of 30 s. Over a minute's arrivals (τ uniform) the model gives the mean, the
 *   share slower than any x exactly (piecewise exponential integrals), and from it the p95
 *   (bisection on that share).
 * - Measurement. The tick's heartbeat arrives at the end of the minute: it sees the service
 *   time, the backlog then (`B' / c`, at the capacity in force then) and the mean random wait.
 *   `queue-time` is the same less the service time. Seeded Gaussian noise is added; a
 *   heartbeat slower than the measurement's timeout is a failed reading, as the real backend
 *   reports it.
 */

/** Heroku's router gives up on a request after 30 s (H12); no latency is reported above it. */
export const LATENCY_CAP_MS = 30_000;
/** Utilisation at which the M/M/k term stops growing: from there on the fluid backlog models saturation. */
export const RHO_CAP = 0.95;
export const MINUTE_MS = 60_000;

export type ModelParams = Pick<SimulationSettings, "capacityPerProcess" | "serviceTimeMs" | "queueing">;

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
  meanMs: number;
  p95Ms: number;
  /** Share of the minute's arrivals slower than the threshold asked for (the SLO). */
  lateShare: number;
  /** The heartbeat's expected response time at the end of the minute (Infinity: nothing serves). */
  heartbeatMs: number;
  /** The same less the service time: the heartbeat's queue time. */
  heartbeatQueueMs: number;
}

export const emptyMinute = (): MinuteResult => ({
  arrivals: 0,
  processes: 0,
  effectiveProcesses: 0,
  capacity: 0,
  served: 0,
  backlog: 0,
  meanMs: 0,
  p95Ms: 0,
  lateShare: 0,
  heartbeatMs: 0,
  heartbeatQueueMs: 0,
});

/** Erlang C: the probability that an arrival waits, k servers, offered load a = λ/μ < k. */
export function erlangC(k: number, a: number): number {
  if (a <= 0) return 0;
  let b = 1; // Erlang B by its stable recursion
  for (let i = 1; i <= k; i++) b = (a * b) / (i + a * b);
  const rho = a / k;
  return b / (1 - rho * (1 - b));
}

/**
 * The distribution of a minute's response times: R = s + F(τ) + W, τ uniform on [0, T], the
 * fluid wait F(τ) = max(0, f0 + kτ) (ms; k is dimensionless), W = 0 with probability 1 − pw,
 * else exponential with rate θ (per ms).
 */
interface Spread {
  s: number;
  f0: number;
  k: number;
  pw: number;
  theta: number;
}

const T = MINUTE_MS;

/** ∫ P(W > g(τ)) dτ over [a, b] for a linear g(τ) = g0 − kτ. */
function segmentTail(g0: number, k: number, a: number, b: number, pw: number, theta: number): number {
  if (b <= a) return 0;
  const expPart = (from: number, to: number): number => {
    if (pw === 0 || to <= from) return 0;
    // Nearly flat (or flat): the midpoint rule is exact enough and avoids cancelling exponentials.
    if (Math.abs(theta * k * (to - from)) < 1e-6)
      return (to - from) * pw * Math.exp(-theta * (g0 - (k * (from + to)) / 2));
    // d/dτ e^{−θ(g0 − kτ)} = θk e^{−θ(g0 − kτ)}
    return (pw / (theta * k)) * (Math.exp(-theta * (g0 - k * to)) - Math.exp(-theta * (g0 - k * from)));
  };
  if (k === 0) return g0 < 0 ? b - a : expPart(a, b);
  const cross = g0 / k; // g(cross) = 0
  if (k > 0) {
    // g falls: W exceeds it surely after the crossing.
    const c = Math.min(Math.max(cross, a), b);
    return expPart(a, c) + (b - c);
  }
  // g rises: sure before the crossing.
  const c = Math.min(Math.max(cross, a), b);
  return c - a + expPart(c, b);
}

/** No fluid wait anywhere in the minute (no backlog, arrivals within capacity): the common case. */
const noFluid = (d: Spread) => d.f0 <= 0 && d.k <= 0;

/** P(R > x): the share of the minute's arrivals slower than x ms. */
function tailShare(d: Spread, x: number): number {
  if (x < d.s) return 1;
  const y = x - d.s; // budget for waiting
  if (noFluid(d)) return d.pw * Math.exp(-d.theta * y);
  // Where the fluid wait is positive, F(τ) = f0 + kτ; elsewhere 0.
  let positiveEnd: number;
  if (d.k >= 0) positiveEnd = d.f0 > 0 || d.k > 0 ? T : 0;
  else positiveEnd = Math.min(T, d.f0 / -d.k);
  const withFluid = segmentTail(y - d.f0, d.k, 0, positiveEnd, d.pw, d.theta);
  const without = segmentTail(y, 0, positiveEnd, T, d.pw, d.theta);
  return Math.min(1, Math.max(0, (withFluid + without) / T));
}

function meanFluid(d: Spread): number {
  if (d.k >= 0) return d.f0 + (d.k * T) / 2;
  const drained = d.f0 / -d.k;
  if (drained >= T) return d.f0 + (d.k * T) / 2;
  return (d.f0 * drained) / 2 / T;
}

/** The smallest x with P(R > x) <= 0.05, by bisection to 0.01 ms. */
function p95Of(d: Spread): number {
  const share = 0.05;
  if (tailShare(d, d.s) <= share) return d.s;
  if (noFluid(d)) return Math.min(LATENCY_CAP_MS, d.s + Math.log(d.pw / share) / d.theta);
  if (tailShare(d, LATENCY_CAP_MS) > share) return LATENCY_CAP_MS;
  let lo = d.s;
  let hi = LATENCY_CAP_MS;
  const fluidMax = Math.max(d.f0, d.f0 + d.k * T, 0);
  const randomMax = d.pw > share ? Math.log(d.pw / share) / d.theta : 0;
  hi = Math.min(hi, d.s + fluidMax + randomMax + 1);
  while (hi - lo > 0.01) {
    const mid = (lo + hi) / 2;
    if (tailShare(d, mid) > share) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * One minute of the model: `arrivals` on top of `backlog`, served by `effective` processes on
 * average over the minute and `effectiveAtEnd` at its end. Writes into `out` (no allocation).
 * `sloMs` is the threshold whose share of slower requests is reported as `lateShare`.
 */
export function simulateMinute(
  params: ModelParams,
  arrivals: number,
  backlog: number,
  effective: number,
  effectiveAtEnd: number,
  sloMs: number,
  out: MinuteResult,
): MinuteResult {
  const s = params.serviceTimeMs;
  const capacity = effective * params.capacityPerProcess;
  const work = backlog + arrivals;
  const served = Math.min(work, capacity);
  out.arrivals = arrivals;
  out.effectiveProcesses = effective;
  out.capacity = capacity;
  out.served = served;
  out.backlog = work - served;
  const endRate = (effectiveAtEnd * params.capacityPerProcess) / T; // requests per ms at the minute's end

  if (capacity <= 0) {
    // Nothing serves: whatever arrives waits past the router's timeout.
    const anything = arrivals > 0;
    out.meanMs = anything ? LATENCY_CAP_MS : s;
    out.p95Ms = out.meanMs;
    out.lateShare = anything && sloMs < LATENCY_CAP_MS ? 1 : 0;
    out.heartbeatQueueMs = endRate > 0 ? Math.min(LATENCY_CAP_MS, out.backlog / endRate) : Infinity;
    out.heartbeatMs = s + out.heartbeatQueueMs;
    return out;
  }

  const rate = capacity / T; // per ms
  const lambda = arrivals / T;
  let pw = 0;
  let theta = 1;
  if (params.queueing === "mmc" && arrivals > 0) {
    const servers = Math.max(1, Math.round(effective));
    const mu = rate / servers; // per server, per ms
    const rho = Math.min(lambda / rate, RHO_CAP);
    pw = erlangC(servers, servers * rho);
    theta = servers * mu * (1 - rho);
  }
  const spread: Spread = { s, f0: backlog / rate, k: lambda / rate - 1, pw, theta };
  const randomMean = pw > 0 ? pw / theta : 0;
  out.meanMs = Math.min(LATENCY_CAP_MS, s + meanFluid(spread) + randomMean);
  out.p95Ms = arrivals > 0 ? p95Of(spread) : s;
  out.lateShare = arrivals > 0 ? tailShare(spread, sloMs) : 0;
  const endQueue = endRate > 0 ? out.backlog / endRate : out.backlog > 0 ? Infinity : 0;
  out.heartbeatQueueMs = Math.min(LATENCY_CAP_MS, endQueue + randomMean);
  out.heartbeatMs = endRate > 0 ? s + out.heartbeatQueueMs : Infinity;
  return out;
}

/** A steady minute's latency on the SLO's metric: `processes` all serving, no backlog. */
export function steadyLatency(
  params: ModelParams,
  arrivals: number,
  processes: number,
  metric: "p95" | "mean",
): number {
  const out = simulateMinute(params, arrivals, 0, processes, processes, Infinity, emptyMinute());
  return metric === "p95" ? out.p95Ms : out.meanMs;
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
  measurement: "response-time" | "queue-time";
  /** The measurement's timeout: slower is a failed reading. */
  timeoutMs: number;
}

/**
 * The reading the policy gets after a minute, as the real backend would report it. `noiseMs` is
 * the minute's noise draw (the replay draws one every minute, so policies measured at different
 * moments still see the same sequence).
 */
export function heartbeatReading(minute: MinuteResult, options: HeartbeatOptions, noiseMs = 0): Reading {
  const backend = options.measurement;
  const ms = Math.max(0, Math.round(minute.heartbeatMs + noiseMs));
  if (!Number.isFinite(minute.heartbeatMs) || ms > options.timeoutMs) {
    return {
      backend,
      value: options.timeoutMs,
      unit: "ms",
      ok: false,
      error: `heartbeat failed: no answer within ${options.timeoutMs} ms`,
    };
  }
  const value = backend === "queue-time" ? Math.max(0, Math.round(minute.heartbeatQueueMs + noiseMs)) : ms;
  return { backend, value, unit: "ms", ok: true };
}

/**
 * A formation over time: processes serving and booting, and the backlog carried from minute
 * to minute. `scaleTo` at a minute's start (the tick's moment), then `step` through the minute.
 */
export class FormationModel {
  backlog = 0;
  #ready: number;
  /** When each booting process starts serving (ms), oldest first. */
  #booting: number[] = [];

  constructor(
    private readonly params: ModelParams & { bootSeconds: number },
    initialProcesses: number,
  ) {
    this.#ready = initialProcesses;
  }

  get processes(): number {
    return this.#ready + this.#booting.length;
  }

  /** A scale applied at `atMs`: new processes boot; removed ones stop at once, booting ones first. */
  scaleTo(target: number, atMs: number): void {
    let change = target - this.processes;
    const readyAt = atMs + this.params.bootSeconds * 1000;
    for (; change > 0; change--) {
      if (this.params.bootSeconds > 0) this.#booting.push(readyAt);
      else this.#ready++;
    }
    for (; change < 0; change++) {
      if (this.#booting.length > 0) this.#booting.pop();
      else this.#ready--;
    }
  }

  /** The minute starting at `startMs` with `arrivals` requests. */
  step(arrivals: number, startMs: number, sloMs: number, out: MinuteResult): MinuteResult {
    const endMs = startMs + T;
    while (this.#booting.length > 0 && this.#booting[0]! <= startMs) {
      this.#booting.shift();
      this.#ready++;
    }
    let effective = this.#ready;
    let atEnd = this.#ready;
    for (const readyAt of this.#booting) {
      effective += Math.min(1, Math.max(0, (endMs - readyAt) / T));
      if (readyAt <= endMs) atEnd++;
    }
    simulateMinute(this.params, arrivals, this.backlog, effective, atEnd, sloMs, out);
    out.processes = this.processes;
    this.backlog = out.backlog;
    return out;
  }
}
