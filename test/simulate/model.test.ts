import { describe, expect, it } from "vitest";
import {
  emptyMinute,
  erlangC,
  FormationModel,
  heartbeatReading,
  LATENCY_CAP_MS,
  processesFor,
  simulateMinute,
  type ModelParams,
} from "../../src/simulate/model.js";
import { SeededRandom } from "../../src/simulate/random.js";

/** One process serving 6000 requests a minute (100 a second, 0.1 per ms), 100 ms of service. */
const fluid: ModelParams = { capacityPerProcess: 6000, serviceTimeMs: 100, queueing: "fluid" };
const minute = (arrivals: number, backlog: number, processes = 1, params = fluid, sloMs = 1000) =>
  simulateMinute(params, arrivals, backlog, processes, processes, sloMs, emptyMinute());

describe("the fluid queue, by hand", () => {
  it("below capacity nobody waits", () => {
    const m = minute(3000, 0);
    expect(m).toMatchObject({
      served: 3000,
      backlog: 0,
      meanMs: 100,
      p95Ms: 100,
      lateShare: 0,
      heartbeatMs: 100,
    });
  });

  it("10% over capacity: a backlog of 600 and waits growing through the minute", () => {
    // λ = 0.11/ms, c = 0.1/ms: the queue grows by 0.01/ms, a request at τ waits 0.1τ ms.
    const m = minute(6600, 0);
    expect(m.served).toBe(6000);
    expect(m.backlog).toBe(600);
    expect(m.meanMs).toBeCloseTo(100 + 3000, 6); // the mean wait is half the last one, 6000 ms
    expect(m.p95Ms).toBeCloseTo(100 + 0.1 * 57_000, 1); // the arrival 95% into the minute
    expect(m.lateShare).toBeCloseTo(51 / 60, 9); // waits above 900 ms: τ > 9 s
    expect(m.heartbeatQueueMs).toBeCloseTo(6000, 9); // 600 queued at 0.1/ms
    expect(m.heartbeatMs).toBeCloseTo(6100, 9);
  });

  it("the backlog carried over drains through the next minute", () => {
    // 600 waiting, λ = 0.09/ms: the queue falls by 0.01/ms and is empty exactly at the minute's end.
    const m = minute(5400, 600);
    expect(m.served).toBe(6000);
    expect(m.backlog).toBe(0);
    expect(m.meanMs).toBeCloseTo(100 + 3000, 6); // waits fall from 6000 ms to 0
    expect(m.p95Ms).toBeCloseTo(100 + 5700, 1);
    expect(m.lateShare).toBeCloseTo(5100 / 6000, 9);
    expect(m.heartbeatMs).toBe(100);
  });

  it("a backlog that drains halfway through the minute", () => {
    // f0 = 1500 / 0.1 = 15000 ms, falling by 0.5 ms per ms: empty after 30 s.
    const m = minute(3000, 1500);
    expect(m.served).toBe(4500);
    expect(m.backlog).toBe(0);
    expect(m.meanMs).toBeCloseTo(100 + (15_000 * 30_000) / 2 / 60_000, 6); // 3850
    expect(m.p95Ms).toBeCloseTo(100 + 13_500, 1); // P(F > y) = (15000 − y) / 30000 = 5%
    expect(m.lateShare).toBeCloseTo((15_000 - 900) / 30_000, 9);
  });

  it("no process serving: everything waits past the router's timeout", () => {
    const m = simulateMinute(fluid, 100, 0, 0, 0, 1000, emptyMinute());
    expect(m).toMatchObject({ served: 0, backlog: 100, meanMs: LATENCY_CAP_MS, lateShare: 1 });
    expect(m.heartbeatMs).toBe(Infinity);
  });
});

describe("M/M/c waiting below saturation", () => {
  it("Erlang C matches known values", () => {
    expect(erlangC(1, 0.5)).toBeCloseTo(0.5, 12);
    expect(erlangC(2, 1)).toBeCloseTo(1 / 3, 12);
    expect(erlangC(5, 0)).toBe(0);
  });

  // One process of 600/min: μ = 0.01 per ms.
  const mmc: ModelParams = { capacityPerProcess: 600, serviceTimeMs: 100, queueing: "mmc" };

  it("M/M/1 at 50%: p95 is well above the mean", () => {
    // P(wait) = ρ = 0.5, the wait exponential with θ = μ(1 − ρ) = 0.005/ms: mean 100 ms.
    const m = minute(300, 0, 1, mmc, 300);
    expect(m.meanMs).toBeCloseTo(200, 9);
    expect(m.p95Ms).toBeCloseTo(100 + Math.log(0.5 / 0.05) / 0.005, 6); // 560.5
    expect(m.lateShare).toBeCloseTo(0.5 * Math.exp(-0.005 * 200), 9); // waits above 200 ms
    expect(m.heartbeatMs).toBeCloseTo(200, 9);
  });

  it("M/M/2 at 50%", () => {
    // P(wait) = 1/3, θ = 2 × 0.01 × 0.5 = 0.01/ms.
    const m = minute(600, 0, 2, mmc);
    expect(m.meanMs).toBeCloseTo(100 + 1 / 3 / 0.01, 9);
    expect(m.p95Ms).toBeCloseTo(100 + Math.log(1 / 3 / 0.05) / 0.01, 6);
  });

  it("with a backlog, mean, late share and p95 agree with a numerical integration", () => {
    const m = minute(660, 100, 1, mmc, 20_000);
    // ρ held at 0.95: P(wait) = 0.95, θ = 0.01 × 0.05; fluid wait from 100 / 0.01 ms rising 0.1 ms per ms.
    const pw = 0.95;
    const theta = 0.0005;
    const fluidAt = (tau: number) => Math.max(0, 10_000 + 0.1 * tau);
    const steps = 60_000;
    const tail = (x: number) => {
      let sum = 0;
      for (let i = 0; i < steps; i++) {
        const y = x - 100 - fluidAt(i + 0.5);
        sum += y < 0 ? 1 : pw * Math.exp(-theta * y);
      }
      return sum / steps;
    };
    let meanFluid = 0;
    for (let i = 0; i < steps; i++) meanFluid += fluidAt(i + 0.5) / steps;
    expect(m.meanMs).toBeCloseTo(100 + meanFluid + pw / theta, 3);
    expect(m.lateShare).toBeCloseTo(tail(20_000), 6);
    expect(tail(m.p95Ms)).toBeCloseTo(0.05, 4);
    expect(m.p95Ms).toBeGreaterThan(m.meanMs);
  });
});

describe("processes that boot", () => {
  const params = { ...fluid, bootSeconds: 30 };
  const t0 = Date.parse("2026-01-05T08:00:00Z");

  it("a process added at the tick serves the last half of the minute", () => {
    const model = new FormationModel(params, 1);
    model.scaleTo(2, t0);
    const m = model.step(9000, t0, 1000, emptyMinute());
    expect(m).toMatchObject({
      processes: 2,
      effectiveProcesses: 1.5,
      capacity: 9000,
      served: 9000,
      backlog: 0,
    });
    const next = model.step(12_000, t0 + 60_000, 1000, emptyMinute());
    expect(next).toMatchObject({ effectiveProcesses: 2, capacity: 12_000, backlog: 0 });
  });

  it("a boot longer than a minute: nothing the first minute, half the second", () => {
    const model = new FormationModel({ ...fluid, bootSeconds: 90 }, 1);
    model.scaleTo(2, t0);
    expect(model.step(9000, t0, 1000, emptyMinute())).toMatchObject({ effectiveProcesses: 1, backlog: 3000 });
    const second = model.step(6000, t0 + 60_000, 1000, emptyMinute());
    expect(second.effectiveProcesses).toBe(1.5);
    expect(second.backlog).toBe(0); // 3000 + 6000 against 9000
    // The heartbeat at the end sees both processes serving.
    expect(second.heartbeatMs).toBe(100);
  });

  it("a scale down removes booting processes first", () => {
    const model = new FormationModel(params, 2);
    model.scaleTo(4, t0);
    model.scaleTo(3, t0);
    expect(model.processes).toBe(3);
    expect(model.step(0, t0, 1000, emptyMinute()).effectiveProcesses).toBe(2.5);
    model.scaleTo(1, t0 + 60_000);
    expect(model.step(0, t0 + 60_000, 1000, emptyMinute()).effectiveProcesses).toBe(1);
  });
});

describe("what the policy reads", () => {
  const m = minute(6600, 0); // heartbeat 6100 ms, queue 6000 ms
  it("response time, queue time, noise, and a timeout as the real backend reports it", () => {
    expect(heartbeatReading(m, { measurement: "response-time", timeoutMs: 10_000 })).toEqual({
      backend: "response-time",
      value: 6100,
      unit: "ms",
      ok: true,
    });
    expect(heartbeatReading(m, { measurement: "queue-time", timeoutMs: 10_000 }, -50).value).toBe(5950);
    expect(heartbeatReading(m, { measurement: "response-time", timeoutMs: 5000 })).toMatchObject({
      ok: false,
      value: 5000,
      error: "heartbeat failed: no answer within 5000 ms",
    });
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
  });

  it("sizes a formation for a load", () => {
    expect(processesFor(fluid, 6000, 500, "p95")).toBe(1);
    expect(processesFor(fluid, 6001, 500, "p95")).toBe(2);
    const mmc: ModelParams = { ...fluid, queueing: "mmc", capacityPerProcess: 600 };
    // M/M/1 at 50% has a p95 of 560 ms: over 500, so two processes.
    expect(processesFor(mmc, 300, 500, "p95")).toBe(2);
    expect(processesFor(mmc, 300, 500, "mean")).toBe(1);
  });

  it("an SLO no formation meets is not attainable, not the search's limit", () => {
    const mmc: ModelParams = { ...fluid, queueing: "mmc", capacityPerProcess: 600 };
    expect(processesFor(mmc, 300, 90, "p95")).toBeNull(); // below the service time
    expect(processesFor(mmc, 6000, 500, "p95", 5)).toBeNull(); // beyond the limit given
    expect(processesFor(fluid, 0, 100, "p95")).toBe(1);
  });
});
