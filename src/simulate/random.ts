/**
 * A tiny seeded generator (mulberry32): the same seed gives the same sequence on every run and
 * every machine, so the simulator's random draws are reproducible. Not for anything secret.
 */
export class SeededRandom {
  /**
   * The state, a signed 32-bit integer: the same bits as mulberry32's unsigned one (every step
   * reads it through 32-bit operations only). In a one-element array, as a number kept in a
   * field outside V8's small-integer range (half of them) is a new heap number at every draw.
   */
  readonly #state = new Int32Array(1);
  /** A second normal deviate from the last Box-Muller draw. */
  #spare: number | null = null;

  constructor(seed: number) {
    this.#state[0] = seed;
  }

  /** Starts the sequence of `seed` again (no allocation: the replay does it every minute). */
  reset(seed: number): this {
    this.#state[0] = seed;
    this.#spare = null;
    return this;
  }

  /** Uniform in [0, 1). */
  next(): number {
    const state = this.#state;
    let t = (state[0]! + 0x6d2b79f5) | 0;
    state[0] = t;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box-Muller, both deviates used). */
  normal(): number {
    if (this.#spare !== null) {
      const spare = this.#spare;
      this.#spare = null;
      return spare;
    }
    const u = 1 - this.next(); // (0, 1]: the logarithm stays finite
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * Standard normal by its quantile function, read from a table (4096 steps, linear between):
   * one uniform and no logarithm, for the many draws of the routing. Its tails stop at about
   * ±3.6 (the table's last step), which leaves out a share of 3e−4 of the draws' extremes.
   */
  quantileNormal(): number {
    const x = this.next() * QUANTILE_STEPS;
    const i = Math.floor(x);
    const lo = QUANTILES[i]!;
    return lo + (x - i) * (QUANTILES[i + 1]! - lo);
  }

  /** Exponential with mean 1. */
  exponential(): number {
    return -Math.log(1 - this.next());
  }
}

/** murmur3's 32-bit finaliser: every input bit moves every output bit. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The seed of one stream of draws: the run's seed, a key (the minute) and what the draws are
 * for. Each minute's draws depend on nothing else, so every policy meets the same luck in the
 * same minute whatever it did before, and a slice of a trace replays the same minutes alike.
 */
export function streamSeed(seed: number, key: number, salt: number): number {
  return mix32(mix32(mix32(seed ^ 0x9e3779b9) ^ (key >>> 0)) ^ Math.imul(salt + 1, 0x27d4eb2f));
}

/** Acklam's rational approximation of the standard normal quantile (relative error below 1.2e−9). */
function normalQuantile(p: number): number {
  const a = [
    -39.6968302866538, 220.946098424521, -275.928510446969, 138.357751867269, -30.6647980661472,
    2.50662827745924,
  ];
  const b = [-54.4760987982241, 161.585836858041, -155.698979859887, 66.8013118877197, -13.2806815528857];
  const c = [
    -0.00778489400243029, -0.322396458041136, -2.40075827716184, -2.54973253934373, 4.37466414146497,
    2.93816398269878,
  ];
  const d = [0.00778469570904146, 0.32246712907004, 2.445134137143, 3.75440866190742];
  const low = 0.02425;
  const tail = (q: number) =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < low) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - low) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

const QUANTILE_STEPS = 4096;
/** The quantile at the middle of each step's ends: (i ± 0.5) / steps at the two ends, i / steps between. */
const QUANTILES = Float64Array.from({ length: QUANTILE_STEPS + 1 }, (_, i) =>
  normalQuantile(Math.min(1 - 0.5 / QUANTILE_STEPS, Math.max(0.5 / QUANTILE_STEPS, i / QUANTILE_STEPS))),
);
