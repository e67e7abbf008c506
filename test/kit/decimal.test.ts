import { describe, expect, it } from "vitest";
import { twoDecimals } from "../../src/kit/decimal.js";

/** What twoDecimals replaces, and must equal everywhere. */
const general = (n: number) => String(Math.round(n * 100) / 100);

describe("twoDecimals", () => {
  it("rounds to at most two decimals without trailing zeros", () => {
    expect(twoDecimals(0.1 + 0.2)).toBe("0.3");
    expect(twoDecimals(150)).toBe("150");
    expect(twoDecimals(12.5)).toBe("12.5");
    expect(twoDecimals(12.345)).toBe("12.35");
    expect(twoDecimals(0.05)).toBe("0.05");
    expect(twoDecimals(-0.05)).toBe("-0.05");
    expect(twoDecimals(-0.001)).toBe("0");
  });

  it("is the general conversion's string at the edges: -0, halves, the integer limit, exponents, NaN, infinities", () => {
    const edges = [
      0,
      -0,
      0.005,
      -0.005,
      0.015,
      1.005,
      99.995,
      -99.995,
      1e-9,
      0.045,
      21474836.47,
      21474836.48,
      -21474836.48,
      -21474836.49,
      2 ** 31 / 100,
      1e21,
      -1e21,
      1e300,
      Number.MAX_VALUE,
      NaN,
      Infinity,
      -Infinity,
    ];
    for (const n of edges) expect(twoDecimals(n), String(n)).toBe(general(n));
  });

  it("is the general conversion's string on every hundredth and thousandth to ±3,000, and on random magnitudes", () => {
    const differing: number[] = [];
    const check = (n: number) => {
      if (twoDecimals(n) !== general(n)) differing.push(n);
    };
    for (let i = -300_000; i <= 300_000; i++) {
      check(i / 100);
      check(i / 1000);
    }
    // A fixed sequence (a linear congruential one): the same numbers on every run.
    let state = 12345;
    for (let i = 0; i < 200_000; i++) {
      state = (Math.imul(state, 1103515245) + 12345) | 0;
      const unit = (state >>> 0) / 2 ** 32;
      check((unit - 0.5) * 10 ** ((i % 12) - 2));
    }
    expect(differing.slice(0, 5)).toEqual([]);
  });
});
