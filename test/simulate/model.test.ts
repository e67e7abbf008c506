import { describe, expect, it } from "vitest";
import {
  agnew,
  emptyMinute,
  erlangC,
  FormationModel,
  heartbeatReading,
  processesFor,
  splitArrivals,
  steadyLatency,
  type FormationParams,
  type MinuteResult,
} from "../../src/simulate/model.js";
import { SeededRandom } from "../../src/simulate/random.js";
import { fluidProcess } from "../helpers/trace.js";

const T0 = Date.parse("2026-01-05T08:00:00Z");
const MIN = 60_000;

const fluid = fluidProcess;
/** One process of 600 a minute (μ = 0.01 per ms) with M/M/1 waiting. */
const mm1: FormationParams = { ...fluid, capacityPerProcess: 600, queueing: "mmc" };

/** Steps a model through minutes of the given arrivals from T0; the last minute's result. */
function minutes(model: FormationModel, loads: number[], sloMs = 1000): MinuteResult {
  let out = emptyMinute();
  loads.forEach((load, i) => {
    out = model.step(load, T0 + i * MIN, sloMs, emptyMinute());
  });
  return out;
}

describe("one process's fluid queue, by hand", () => {
  it("below capacity nobody waits", () => {
    const m = minutes(new FormationModel(fluid, 1), [3000]);
    expect(m).toMatchObject({
      served: 3000,
      backlog: 0,
      meanMs: 100,
      p95Ms: 100,
      lateShare: 0,
      droppedShare: 0,
    });
  });

  it("10% over capacity: a backlog of 600 and waits growing through the minute", () => {
    // λ = 0.11/ms, μ = 0.1/ms: the queue grows by 0.01/ms, a request at τ waits 0.1τ ms.
    const model = new FormationModel(fluid, 1);
    const m = minutes(model, [6600]);
    expect(m.served).toBeCloseTo(6000, 9);
    expect(m.backlog).toBeCloseTo(600, 9);
    expect(m.meanMs).toBeCloseTo(100 + 3000, 6); // the mean wait is half the last one, 6000 ms
    expect(m.p95Ms).toBeCloseTo(100 + 0.1 * 57_000, 1); // the arrival 95% into the minute
    expect(m.lateShare).toBeCloseTo(51 / 60, 9); // waits above 900 ms: τ > 9 s
    expect(m.droppedShare).toBe(0);
    // The heartbeat at the end waits for the 600 in front of it.
    const probe = model.probe(T0 + MIN);
    expect(probe.waitMs).toBeCloseTo(6000, 9);
    expect(probe.serviceMs).toBe(100);
  });

  it("the backlog carried over drains through the next minute", () => {
    // 600 waiting, λ = 0.09/ms: the queue falls by 0.01/ms and is empty exactly at the minute's end.
    const model = new FormationModel(fluid, 1);
    const m = minutes(model, [6600, 5400]);
    expect(m.served).toBeCloseTo(6000, 9);
    expect(m.backlog).toBeCloseTo(0, 9);
    expect(m.meanMs).toBeCloseTo(100 + 3000, 6); // waits fall from 6000 ms to 0
    expect(m.p95Ms).toBeCloseTo(100 + 5700, 1);
    expect(m.lateShare).toBeCloseTo(5100 / 6000, 9);
    expect(model.probe(T0 + 2 * MIN).waitMs).toBeCloseTo(0, 9);
  });

  it("a backlog that drains halfway through the minute", () => {
    // 1500 waiting: f0 = 1500 / 0.1 = 15000 ms, falling by 0.5 ms per ms: empty after 30 s.
    const m = minutes(new FormationModel(fluid, 1), [7500, 3000]);
    expect(m.served).toBeCloseTo(4500, 9);
    expect(m.backlog).toBeCloseTo(0, 9);
    expect(m.meanMs).toBeCloseTo(100 + (15_000 * 30_000) / 2 / 60_000, 6); // 3850
    expect(m.p95Ms).toBeCloseTo(100 + 13_500, 1); // P(F > y) = (15000 − y) / 30000 = 5%
    expect(m.lateShare).toBeCloseTo((15_000 - 900) / 30_000, 9);
  });

  it("the router's timeout: what would wait past it is dropped, and the queue never holds more", () => {
    // Twice the capacity: the wait grows 1 ms per ms until the queue holds what it serves in
    // 29.9 s (30 s less the service), 2990 requests, at τ = 29.9 s; from there the 3010 it
    // cannot hold are dropped, 25.08% of the minute's 12,000.
    const model = new FormationModel(fluid, 1);
    const m = minutes(model, [12_000]);
    expect(m.served).toBeCloseTo(6000, 6);
    expect(m.backlog).toBeCloseTo(2990, 6);
    expect(m.droppedShare).toBeCloseTo(3010 / 12_000, 9);
    // Slower than the SLO (waits above 900 ms: τ > 0.9 s), less the dropped ones.
    expect(m.lateShare).toBeCloseTo((60_000 - 900) / 60_000 - 3010 / 12_000, 9);
    expect(m.p95Ms).toBe(30_000); // more than 5% dropped: the p95 is the timeout
    const meanBacklog = (29_900 * 1495 + 30_100 * 2990) / 60_000;
    expect(m.meanMs).toBeCloseTo(100 + meanBacklog / 0.1, 6);
    // The next minute without arrivals works the queue off in 29.9 s.
    const next = minutes(model, [12_000, 0]);
    expect(next).toMatchObject({ arrivals: 0, backlog: 0, droppedShare: 0, lateShare: 0 });
    expect(next.served).toBeCloseTo(2990, 6);
  });

  it("no process up: the router has nowhere to send a request", () => {
    const model = new FormationModel(fluid, 0);
    const m = minutes(model, [100]);
    expect(m).toMatchObject({ served: 0, droppedShare: 1, lateShare: 0, meanMs: 30_000, p95Ms: 30_000 });
    expect(model.probe(T0 + MIN).waitMs).toBe(Infinity);
  });
});

describe("random waiting: an M/M/1 queue per process (Agnew's fluid approximation)", () => {
  /** Agnew's equation de/dt = λ − μ e / (1 + e) by fourth-order Runge-Kutta: [e(t), ∫e dt]. */
  function integrate(e0: number, lambda: number, mu: number, t: number, steps = 200_000): [number, number] {
    const f = (e: number) => lambda - (mu * e) / (1 + e);
    const h = t / steps;
    let e = e0;
    let area = 0;
    for (let i = 0; i < steps; i++) {
      const k1 = f(e);
      const k2 = f(e + (h / 2) * k1);
      const k3 = f(e + (h / 2) * k2);
      const k4 = f(e + h * k3);
      const next = e + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4);
      area += (h / 6) * (e + (4 * (e + next)) / 2 + next); // Simpson on the step
      e = next;
    }
    return [e, area];
  }

  it.each([
    ["relaxed within the minute (ρ = 0.5)", 0, 0.005, 0.01],
    ["slow to relax (ρ = 0.95)", 0, 0.0095, 0.01],
    ["critical (ρ = 1)", 0, 0.01, 0.01],
    ["almost critical (ρ = 0.99995)", 0, 0.0099995, 0.01],
    ["almost critical from above (ρ = 1.00002)", 3, 0.0100002, 0.01],
    ["close to critical (ρ = 0.999)", 0, 0.00999, 0.01],
    ["above its stationary value, relaxing down (ρ = 0.5 from 40)", 40, 0.005, 0.01],
    ["no arrivals: the queue empties", 5, 0, 0.01],
  ])("the closed form agrees with a numerical integration: %s", (_, e0, lambda, mu) => {
    const [e, area] = integrate(e0, lambda, mu, MIN);
    const solved = agnew(e0, lambda, mu, MIN);
    expect(solved[0]).toBeCloseTo(e, 5);
    expect(solved[1]! / MIN).toBeCloseTo(area / MIN, 5);
  });

  it("tends to the stationary M/M/1 mean ρ / (1 − ρ), without a utilisation cap", () => {
    for (const rho of [0.5, 0.9, 0.99])
      expect(agnew(0, 0.01 * rho, 0.01, 1e9)[0]).toBeCloseTo(rho / (1 - rho), 6);
    // At saturation it grows like √(2λt): no steady state.
    expect(agnew(0, 0.01, 0.01, 3_600_000)[0]).toBeCloseTo(-1 + Math.sqrt(1 + 2 * 0.01 * 3_600_000), 6);
  });

  it("M/M/1 at 50%: P(wait) = ρ, the wait exponential with θ = μ(1 − ρ)", () => {
    const model = new FormationModel(mm1, 1);
    model.warmUp(300, T0); // stationary at once: e = ρ / (1 − ρ) = 1
    const m = model.step(300, T0, 300, emptyMinute());
    // P(wait) = 0.5, θ = 0.01 × 0.5 = 0.005/ms: mean wait 100 ms.
    expect(m.meanMs).toBeCloseTo(200, 9);
    expect(m.p95Ms).toBeCloseTo(100 + Math.log(0.5 / 0.05) / 0.005, 6); // 560.5
    expect(m.lateShare).toBeCloseTo(0.5 * Math.exp(-0.005 * 200), 9); // waits above 200 ms
    expect(m.droppedShare).toBeCloseTo(0.5 * Math.exp(-0.005 * 29_900), 12);
  });

  it("at 99.9% the queue builds for many minutes instead of being held at 95%", () => {
    const model = new FormationModel(mm1, 1);
    const waits = [1, 10, 60].map((n) => minutes(model, Array<number>(n).fill(599.4)).meanMs);
    expect(waits[0]).toBeGreaterThan(100 + 1000); // ~sqrt(2λt) requests after a minute: over 3 s
    expect(waits[1]).toBeGreaterThan(waits[0]! * 2);
    // The stationary mean, 999 in the system (~100 s), is beyond the router's timeout: requests drop.
    const hour = minutes(new FormationModel(mm1, 1), Array<number>(60).fill(599.4));
    expect(hour.droppedShare).toBeGreaterThan(0.01);
  });

  it("with a backlog standing: the backlog's wait plus a random queue growing by μ / (1 + D + e)", () => {
    // A minute 10% over (660 against 600) leaves 60 waiting; then a minute at exactly 600.
    const model = new FormationModel(mm1, 1);
    minutes(model, [660]);
    const m = model.step(600, T0 + MIN, 20_000, emptyMinute());
    expect(m.backlog).toBeCloseTo(60, 9); // λ = μ: the backlog stands
    // By hand: while a backlog D stands, (1 + D + e) de = μ dt. The first minute D averages 30:
    const mu = 0.01;
    const e1 = -31 + Math.sqrt(31 ** 2 + 2 * mu * MIN);
    const e2 = -61 + Math.sqrt((61 + e1) ** 2 + 2 * mu * MIN); // D = 60 all the second minute
    const mean = ((61 * (e2 ** 2 - e1 ** 2)) / 2 + (e2 ** 3 - e1 ** 3) / 3) / mu / MIN;
    const pw = mean / (1 + mean);
    const theta = mu / (1 + mean);
    // Every request waits the 60 in front (6000 ms), then with probability pw an exponential wait.
    expect(m.lateShare).toBeCloseTo(pw * Math.exp(-theta * 13_900) - pw * Math.exp(-theta * 23_900), 9);
    expect(m.droppedShare).toBeCloseTo(pw * Math.exp(-theta * 23_900), 9);
    expect(m.p95Ms).toBeCloseTo(100 + 6000 + Math.log(pw / 0.05) / theta, 2);
    expect(m.meanMs).toBeCloseTo(100 + 6000 + (pw / theta) * (1 - Math.exp(-theta * 23_900)), 6);
  });
});

describe("random routing: shares and queues", () => {
  it("each process gets a binomial share in proportion to its window, adding up to the arrivals", () => {
    const random = new SeededRandom(3);
    const n = 8;
    const windows = Float64Array.from({ length: n }, (_, j) => (j === n - 1 ? 30_000 : 60_000));
    const out = new Float64Array(n);
    const arrivals = 15_000; // 2000 each, 1000 for the process up half the minute
    const sums = new Float64Array(n);
    const squares = new Float64Array(n);
    const rounds = 4000;
    for (let r = 0; r < rounds; r++) {
      splitArrivals(random, arrivals, windows, n, out);
      expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(arrivals, 6);
      for (let j = 0; j < n; j++) {
        sums[j] = sums[j]! + out[j]!;
        squares[j] = squares[j]! + out[j]! ** 2;
      }
    }
    for (let j = 0; j < n; j++) {
      const p = windows[j]! / 450_000;
      const mean = sums[j]! / rounds;
      const variance = squares[j]! / rounds - mean ** 2;
      expect(mean / (arrivals * p)).toBeCloseTo(1, 2);
      expect(variance / (arrivals * p * (1 - p))).toBeGreaterThan(0.9);
      expect(variance / (arrivals * p * (1 - p))).toBeLessThan(1.1);
    }
  });

  it("small shares are drawn exactly (binomial by inversion)", () => {
    const random = new SeededRandom(5);
    const out = new Float64Array(20);
    const windows = new Float64Array(20).fill(60_000);
    let zeros = 0;
    let whole = true;
    for (let r = 0; r < 20_000; r++) {
      splitArrivals(random, 20, windows, 20, out);
      whole &&= Number.isInteger(out[0]);
      if (out[0] === 0) zeros++;
    }
    expect(whole).toBe(true);
    expect(zeros / 20_000).toBeCloseTo((19 / 20) ** 20, 2); // P(0) = 0.358
  });

  it("is slower than one shared queue at the same load, and near M/M/1 per process", () => {
    // 10 processes of 1200 a minute at 70%: Heroku's random router against a least-busy balancer.
    const random = { ...mm1, capacityPerProcess: 1200 };
    const shared: FormationParams = { ...random, routing: "shared" };
    const at = (params: FormationParams) => {
      const model = new FormationModel(params, 10);
      model.warmUp(8400, T0);
      return minutes(model, Array<number>(30).fill(8400), 500);
    };
    const r = at(random);
    const s = at(shared);
    // M/M/1 at ρ = 0.7, μ = 0.02/ms: p95 = 100 + ln(0.7 / 0.05) / (0.02 × 0.3) = 540 ms.
    expect(r.p95Ms).toBeGreaterThan(500);
    expect(Math.abs(r.p95Ms - 540) / 540).toBeLessThan(0.1);
    // M/M/10 at 70%: 22% of the requests wait at all, 17 ms on average: p95 125 ms.
    expect(s.p95Ms).toBeLessThan(150);
    expect(erlangC(10, 7)).toBeCloseTo(0.2217, 3);
  });

  it("the same seed and minute give the same draws whatever came before; another seed others", () => {
    const after = (history: number[], seed: number) => {
      const model = new FormationModel({ ...mm1, capacityPerProcess: 1200 }, 10, seed);
      model.warmUp(8400, T0);
      history.forEach((load, i) => model.step(load, T0 + i * MIN, 500, emptyMinute()));
      model.reset();
      return model.step(8400, T0 + 10 * MIN, 500, emptyMinute()).p95Ms;
    };
    expect(after([1000, 2000], 1)).toBe(after([9000], 1));
    expect(after([], 2)).not.toBe(after([], 1));
  });
});

describe("processes that boot, scale down and leave", () => {
  const boot30 = { ...fluid, bootSeconds: 30 };

  it("a process added at the tick serves the last half of the minute, with a share of it", () => {
    const model = new FormationModel(boot30, 1);
    model.scaleTo(2, T0);
    const m = model.step(6000, T0, 1000, emptyMinute());
    expect(m).toMatchObject({ processes: 2, effectiveProcesses: 1.5, capacity: 9000, backlog: 0 });
    expect(m.served).toBeCloseTo(6000, 9);
    const next = model.step(12_000, T0 + MIN, 1000, emptyMinute());
    expect(next).toMatchObject({ effectiveProcesses: 2, capacity: 12_000 });
  });

  it("a boot longer than a minute: nothing the first minute, half the second", () => {
    const model = new FormationModel({ ...fluid, bootSeconds: 90 }, 1);
    model.scaleTo(2, T0);
    const first = model.step(9000, T0, 1000, emptyMinute());
    expect(first).toMatchObject({ effectiveProcesses: 1 });
    expect(first.backlog).toBeCloseTo(2990, 6); // 3000 over, all but what the timeout drops
    expect(model.step(0, T0 + MIN, 1000, emptyMinute()).effectiveProcesses).toBe(1.5);
  });

  it("a scale down removes booting processes first; a stopped process's backlog goes to those left", () => {
    const model = new FormationModel(boot30, 2);
    model.scaleTo(4, T0);
    model.scaleTo(3, T0);
    expect(model.processes).toBe(3);
    expect(model.step(0, T0, 1000, emptyMinute()).effectiveProcesses).toBe(2.5);
    const loaded = new FormationModel(fluid, 2);
    minutes(loaded, [18_000]); // 9000 each on average: about 3000 waiting at each
    const waiting = loaded.backlog;
    expect(waiting).toBeGreaterThan(5000);
    loaded.scaleTo(1, T0 + MIN);
    expect(loaded.backlog).toBeCloseTo(waiting, 6);
  });
});

describe("what the policy reads: one request through the model", () => {
  const options = { measurement: "response-time" as const, timeoutMs: 10_000, routerTimeoutMs: 30_000 };

  it("response time, queue time, and a timeout as the real backend reports it", () => {
    expect(heartbeatReading({ waitMs: 6000, serviceMs: 100 }, options)).toEqual({
      backend: "response-time",
      value: 6100,
      unit: "ms",
      ok: true,
    });
    const probe = { waitMs: 5950.4, serviceMs: 80 };
    expect(heartbeatReading(probe, { ...options, measurement: "queue-time" }).value).toBe(5950);
    expect(heartbeatReading({ waitMs: 6000, serviceMs: 100 }, { ...options, timeoutMs: 5000 })).toMatchObject(
      {
        ok: false,
        value: 5000,
        error: "heartbeat failed: no answer within 5000 ms",
      },
    );
    // A timeout beyond the router's: the router answers 503 first.
    expect(
      heartbeatReading({ waitMs: 31_000, serviceMs: 100 }, { ...options, timeoutMs: 60_000 }),
    ).toMatchObject({ ok: false, error: "heartbeat failed: HTTP 503 (the router gave up)" });
    expect(heartbeatReading({ waitMs: Infinity, serviceMs: 100 }, options).ok).toBe(false);
  });

  it("at 50% one M/M/1 process: the probe waits half the time, then 200 ms on average", () => {
    const model = new FormationModel(mm1, 1);
    model.warmUp(300, T0);
    let waited = 0;
    let total = 0;
    let service = 0;
    let serviceSquares = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const probe = model.probe(T0 + i * MIN, 20); // every minute's own draws, the state the same
      if (probe.waitMs > 0) {
        waited++;
        total += probe.waitMs;
      }
      service += probe.serviceMs;
      serviceSquares += probe.serviceMs ** 2;
    }
    expect(waited / n).toBeCloseTo(0.5, 1.5);
    // Given a wait: exponential with mean (1 + e) / μ = 2 / 0.01 = 200 ms.
    expect(total / waited / 200).toBeCloseTo(1, 1);
    const mean = service / n;
    expect(mean).toBeCloseTo(100, 0);
    expect(Math.sqrt(serviceSquares / n - mean ** 2)).toBeCloseTo(20, 0);
  });

  it("the seeded generator repeats itself and is standard normal", () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const draws = Array.from({ length: 20_000 }, () => a.normal());
    expect(draws.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.normal()));
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    const sd = Math.sqrt(draws.reduce((s, x) => s + (x - mean) ** 2, 0) / draws.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(sd).toBeCloseTo(1, 1);
    expect(new SeededRandom(43).next()).not.toBe(new SeededRandom(42).next());
    const table = Array.from({ length: 20_000 }, () => a.quantileNormal());
    const tableMean = table.reduce((s, x) => s + x, 0) / table.length;
    expect(Math.abs(tableMean)).toBeLessThan(0.03);
    expect(Math.sqrt(table.reduce((s, x) => s + (x - tableMean) ** 2, 0) / table.length)).toBeCloseTo(1, 1);
  });
});

describe("sizing a formation for a load", () => {
  it("steady state: each process its expected share, its queue stationary", () => {
    expect(processesFor(fluid, 6000, 500, "p95")).toBe(1);
    expect(processesFor(fluid, 6001, 500, "p95")).toBe(2);
    // M/M/1 at 50% has a p95 of 560 ms: over 500, so two processes.
    expect(processesFor(mm1, 300, 500, "p95")).toBe(2);
    expect(processesFor(mm1, 300, 500, "mean")).toBe(1);
    // 1200 a minute, SLO p95 500 ms: M/M/1 meets it up to ρ ≈ 0.6745, so 40,500 a minute needs 51.
    const web = { ...mm1, capacityPerProcess: 1200 };
    expect(processesFor(web, 40_500, 500, "p95")).toBe(51);
    expect(steadyLatency(web, 40_500, 51, "p95")).toBeLessThanOrEqual(500);
    expect(steadyLatency(web, 40_500, 50, "p95")).toBeGreaterThan(500);
    // A shared queue needs fewer.
    expect(processesFor({ ...web, routing: "shared" }, 40_500, 500, "p95")).toBeLessThan(40);
  });

  it("an SLO no formation meets is not attainable, not the search's limit", () => {
    expect(processesFor(mm1, 300, 90, "p95")).toBeNull(); // below the service time
    expect(processesFor(mm1, 6000, 500, "p95", 5)).toBeNull(); // beyond the limit given
    expect(processesFor(fluid, 0, 100, "p95")).toBe(1);
  });
});
